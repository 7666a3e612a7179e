package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How a {@link ModelOptimizer} measures latency: runs discarded as warmup, runs timed, and the
 * batch sizes timed. Variants are measured with one harness, their runs interleaved where the
 * engine allows, so that a busy machine slows every variant alike.
 *
 * @param warmupRuns runs per variant and batch size before timing starts
 * @param timedRuns timed runs per variant and batch size; p50 and p99 are taken over them
 * @param batchSizes the batch sizes timed (a model without a batch dimension is timed once, at its
 *     own shape)
 */
public record MeasurementPlan(int warmupRuns, int timedRuns, List<Integer> batchSizes) {
  /** The default plan: 10 warmup runs, 100 timed runs, batch sizes 1 and 32. */
  public static final MeasurementPlan DEFAULTS = new MeasurementPlan(10, 100, List.of(1, 32));

  /** Validates and copies. */
  public MeasurementPlan {
    batchSizes = List.copyOf(requireNonNull(batchSizes, "batchSizes is null"));
    if (warmupRuns < 0) {
      throw new IllegalArgumentException("warmup runs must not be negative");
    }
    if (timedRuns < 1) {
      throw new IllegalArgumentException("timed runs must be at least 1");
    }
    if (batchSizes.isEmpty() || batchSizes.stream().anyMatch(size -> size < 1)) {
      throw new IllegalArgumentException("batch sizes must be at least 1, got " + batchSizes);
    }
  }
}
