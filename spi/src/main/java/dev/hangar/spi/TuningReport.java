package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
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
 *     {@code config.yaml} (the thread count under the backend's own parameter name)
 * @param suggestedMaxBatchSize the best setting's batch size, for {@code max_batch_size}; 0 for a
 *     model without a batch dimension
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
   * One measured setting.
   *
   * @param threads the intra-op thread count
   * @param batchSize rows per call (0 for a model without a batch dimension)
   * @param p50 the median latency of one call
   * @param p99 the 99th percentile latency of one call
   * @param rowsPerSecond rows per second at the median latency, one call at a time
   */
  public record Trial(
      int threads, int batchSize, Duration p50, Duration p99, double rowsPerSecond) {
    /** Validates. */
    public Trial {
      requireNonNull(p50, "p50 is null");
      requireNonNull(p99, "p99 is null");
    }
  }
}
