package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * How a {@link ModelOptimizer} measures latency: the warmup, the timed runs, and the batch sizes
 * timed. Variants are measured with one harness, their runs interleaved where the engine allows, so
 * that a busy machine slows every variant alike; a batch size's warmup and timed runs count for
 * every variant together (a round gives each variant one run).
 *
 * @param warmup the untimed runs per batch size before timing starts
 * @param timed the timed runs per batch size; p50 and p99 are taken over them (nearest rank: the
 *     p99 of 1000 runs is the 11th slowest, of 100 the 2nd slowest, of fewer the slowest)
 * @param batchSizes the batch sizes timed (a model without a batch dimension is timed once, at its
 *     own shape)
 */
public record MeasurementPlan(Runs warmup, Runs timed, List<Integer> batchSizes) {
  /** The default plan: the default warmup and timed runs, batch sizes 1 and 32. */
  public static final MeasurementPlan DEFAULTS =
      new MeasurementPlan(Runs.DEFAULT_WARMUP, Runs.DEFAULT_TIMED, List.of(1, 32));

  /** Validates and copies. */
  public MeasurementPlan {
    requireNonNull(warmup, "warmup is null");
    requireNonNull(timed, "timed is null");
    batchSizes = List.copyOf(requireNonNull(batchSizes, "batchSizes is null"));
    if (timed.count() < 1) {
      throw new IllegalArgumentException("timed runs must be at least 1, got " + timed.count());
    }
    if (batchSizes.isEmpty() || batchSizes.stream().anyMatch(size -> size < 1)) {
      throw new IllegalArgumentException("batch sizes must be at least 1, got " + batchSizes);
    }
  }
}
