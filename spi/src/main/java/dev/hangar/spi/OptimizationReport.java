package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link ModelOptimizer#optimize} did and measured.
 *
 * @param model the model name
 * @param engine the engine and version the measurements ran on
 * @param options the options asked for
 * @param variants the original first, then each variant built, each measured with the same harness
 * @param chosen the name of the variant written to {@code output}
 * @param output the file written, empty when nothing was (every optimization refused)
 * @param actions what was done, one line each (such as "quantized 3 MatMul and 1 Gemm to int8")
 * @param refusals what was not done, and why
 * @param suggestedOptimization what to give under {@code optimization:} in the model's {@code
 *     config.yaml} so that loads serve the chosen variant (built once and cached); empty when the
 *     chosen variant needs no such block
 * @param suggestedParameters engine settings to give under {@code parameters:} in the model's
 *     {@code config.yaml} to serve the chosen variant as measured; empty when none are needed
 */
public record OptimizationReport(
    String model,
    String engine,
    OptimizationOptions options,
    List<Variant> variants,
    String chosen,
    Optional<Path> output,
    List<String> actions,
    List<Refusal> refusals,
    Optional<OptimizationOptions> suggestedOptimization,
    Map<String, String> suggestedParameters) {

  /** Validates and copies. */
  public OptimizationReport {
    requireNonNull(model, "model is null");
    requireNonNull(engine, "engine is null");
    requireNonNull(options, "options is null");
    variants = List.copyOf(requireNonNull(variants, "variants is null"));
    requireNonNull(chosen, "chosen is null");
    requireNonNull(output, "output is null");
    actions = List.copyOf(requireNonNull(actions, "actions is null"));
    refusals = List.copyOf(requireNonNull(refusals, "refusals is null"));
    requireNonNull(suggestedOptimization, "suggestedOptimization is null");
    suggestedParameters = Map.copyOf(requireNonNull(suggestedParameters, "suggestedParameters"));
    if (variants.isEmpty()) {
      throw new IllegalArgumentException("a report needs at least the original variant");
    }
    if (variants.stream().noneMatch(variant -> variant.name().equals(chosen))) {
      throw new IllegalArgumentException("the chosen variant '" + chosen + "' was not measured");
    }
  }

  /** Returns the measurements of the original model. */
  public Variant original() {
    return variants.get(0);
  }

  /** Returns the measurements of the chosen variant. */
  public Variant chosenVariant() {
    return variants.stream().filter(v -> v.name().equals(chosen)).findFirst().orElseThrow();
  }

  /**
   * One model variant as measured.
   *
   * @param name what the variant is, such as {@code original} or {@code level all + int8
   *     per-channel}
   * @param fileBytes the size of its model file
   * @param loadTime how long loading it took, with the engine settings it is served with
   * @param latencies latency per batch size, in the plan's order
   * @param accuracy its outputs against the original's; empty for the original itself
   */
  public record Variant(
      String name,
      long fileBytes,
      Duration loadTime,
      List<Latency> latencies,
      Optional<Accuracy> accuracy) {
    /** Validates and copies. */
    public Variant {
      requireNonNull(name, "name is null");
      requireNonNull(loadTime, "loadTime is null");
      latencies = List.copyOf(requireNonNull(latencies, "latencies is null"));
      requireNonNull(accuracy, "accuracy is null");
    }

    /** Returns the latency at the given batch size, if it was measured. */
    public Optional<Latency> latency(int batchSize) {
      return latencies.stream().filter(l -> l.batchSize() == batchSize).findFirst();
    }
  }

  /**
   * Latency of one call at one batch size.
   *
   * @param batchSize rows per call; 0 for a model without a batch dimension, timed at its own shape
   * @param p50 the median
   * @param p99 the 99th percentile (nearest rank)
   * @param runs how many timed runs the percentiles are over
   */
  public record Latency(int batchSize, Duration p50, Duration p99, int runs) {
    /** Validates. */
    public Latency {
      requireNonNull(p50, "p50 is null");
      requireNonNull(p99, "p99 is null");
    }
  }

  /**
   * A variant's outputs against the original's on the same inputs.
   *
   * @param maxAbsoluteError the largest absolute difference of any output value
   * @param meanAbsoluteError the mean absolute difference over every output value
   * @param maxAbsoluteReference the largest absolute output value of the original, for scale
   * @param comparedValues how many output values were compared
   * @param inputSets how many input sets (synthetic and random) were run
   */
  public record Accuracy(
      double maxAbsoluteError,
      double meanAbsoluteError,
      double maxAbsoluteReference,
      long comparedValues,
      int inputSets) {}

  /**
   * An optimization that was not applied.
   *
   * @param optimization what it was, such as {@code int8}
   * @param reason why, with the measured figures where a measurement decided
   */
  public record Refusal(String optimization, String reason) {
    /** Validates. */
    public Refusal {
      requireNonNull(optimization, "optimization is null");
      requireNonNull(reason, "reason is null");
    }
  }
}
