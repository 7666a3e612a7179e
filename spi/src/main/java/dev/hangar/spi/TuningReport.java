package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link ModelOptimizer#tune} measured and chose.
 *
 * @param model the model name
 * @param engine the engine and version measured
 * @param p99Target the p99 latency a chosen setting had to stay under
 * @param trials every setting measured
 * @param best the setting with the highest throughput under the target; empty when none met it
 * @param suggestedParameters the engine settings of the best setting, for {@code parameters:} in
 *     {@code config.yaml} (the thread count under the backend's own parameter name); empty when no
 *     setting met the target
 * @param suggestedMaxBatchSize the best setting's batch size, for {@code max_batch_size}; 0 for a
 *     model without a batch dimension, or when no setting met the target
 * @param note a sentence on how the choice was made, or why nothing met the target
 */
public record TuningReport(
    String model,
    String engine,
    Duration p99Target,
    List<Trial> trials,
    Optional<Trial> best,
    Map<String, String> suggestedParameters,
    int suggestedMaxBatchSize,
    String note) {

  /** Validates and copies. */
  public TuningReport {
    requireNonNull(model, "model is null");
    requireNonNull(engine, "engine is null");
    requireNonNull(p99Target, "p99Target is null");
    trials = List.copyOf(requireNonNull(trials, "trials is null"));
    requireNonNull(best, "best is null");
    suggestedParameters = Map.copyOf(requireNonNull(suggestedParameters, "suggestedParameters"));
    requireNonNull(note, "note is null");
  }

  /**
   * Chooses among measured settings, the same way for every backend: the most rows per second among
   * those whose p99 is within the target, fewer threads winning a tie. When none is within it,
   * nothing is suggested: a setting that misses the target is no answer to it.
   *
   * @param threadParameter the backend's parameter name for the intra-op thread count
   */
  public static TuningReport choose(
      String model, String engine, Duration p99Target, List<Trial> trials, String threadParameter) {
    List<Trial> withinTarget = trials.stream().filter(t -> t.meets(p99Target)).toList();
    Optional<Trial> best =
        withinTarget.stream()
            .max(
                Comparator.comparingDouble(Trial::rowsPerSecond)
                    .thenComparing(Comparator.comparingInt(Trial::threads).reversed()));
    if (best.isPresent()) {
      return new TuningReport(
          model,
          engine,
          p99Target,
          trials,
          best,
          Map.of(threadParameter, Integer.toString(best.get().threads())),
          best.get().batchSize(),
          "the most rows per second among the "
              + withinTarget.size()
              + " of "
              + trials.size()
              + " settings whose p99 is within "
              + format(p99Target));
    }
    String lowest =
        trials.stream()
            .min(Comparator.comparing(Trial::p99))
            .map(t -> "; the lowest p99 was " + format(t.p99()) + " (" + t.describe() + ")")
            .orElse("");
    return new TuningReport(
        model,
        engine,
        p99Target,
        trials,
        Optional.empty(),
        Map.of(),
        0,
        "no setting met the p99 target of " + format(p99Target) + lowest);
  }

  /** Returns the setting with the lowest p99, what came nearest a target none met. */
  public Optional<Trial> lowestP99() {
    return trials.stream().min(Comparator.comparing(Trial::p99));
  }

  /**
   * Formats a latency in the largest unit it reaches, to three significant digits: {@code 1 us},
   * {@code 14.2 us}, {@code 1.5 ms}, {@code 20 ms}, {@code 1 s}. A target is so printed in the unit
   * it was most likely written in.
   */
  public static String format(Duration duration) {
    long nanos = duration.toNanos();
    String[] units = {"s", "ms", "us"};
    int[] digits = {9, 6, 3};
    for (int i = 0; i < units.length; i++) {
      BigDecimal value = BigDecimal.valueOf(nanos).movePointLeft(digits[i]);
      if (value.compareTo(BigDecimal.ONE) >= 0) {
        return value.round(new MathContext(3)).stripTrailingZeros().toPlainString()
            + " "
            + units[i];
      }
    }
    return nanos + " ns";
  }

  /**
   * One measured setting.
   *
   * @param threads the intra-op thread count
   * @param batchSize rows per call (0 for a model without a batch dimension)
   * @param p50 the median latency of one call
   * @param p99 the 99th percentile latency of one call (nearest rank)
   * @param rowsPerSecond rows per second at the median latency, one call at a time
   * @param runs how many timed runs the percentiles are over
   */
  public record Trial(
      int threads, int batchSize, Duration p50, Duration p99, double rowsPerSecond, int runs) {
    /** Validates. */
    public Trial {
      requireNonNull(p50, "p50 is null");
      requireNonNull(p99, "p99 is null");
    }

    /**
     * Returns the trial of {@code threads} measured as {@code latency}; its rows a second follow
     * from the p50 (a batch size of 0, a fixed shape, counts as one row).
     */
    public static Trial measured(int threads, OptimizationReport.Latency latency) {
      int rows = Math.max(1, latency.batchSize());
      return new Trial(
          threads,
          latency.batchSize(),
          latency.p50(),
          latency.p99(),
          rows * 1e9 / Math.max(1, latency.p50().toNanos()),
          latency.runs());
    }

    /** Returns whether the p99 is within the target. */
    public boolean meets(Duration p99Target) {
      return p99.compareTo(p99Target) <= 0;
    }

    /** Returns the setting in words, such as {@code 2 threads, batch 32}. */
    public String describe() {
      return threads
          + (threads == 1 ? " thread" : " threads")
          + (batchSize == 0 ? ", its fixed shape" : ", batch " + batchSize);
    }
  }
}
