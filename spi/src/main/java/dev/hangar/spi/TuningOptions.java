package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@link ModelOptimizer#tune} measures: every pair of an intra-op thread count and a batch
 * size, and the p99 latency a setting must stay under to be chosen.
 *
 * @param p99Target the largest p99 latency of one call a chosen setting may have
 * @param threadCounts the intra-op thread counts to try
 * @param batchSizes the batch sizes to try, as candidates for the model's maximum batch size
 * @param warmup the untimed runs per setting before timing
 * @param timed the timed runs per setting; p50 and p99 are taken over them (see {@link
 *     MeasurementPlan#timed()})
 */
public record TuningOptions(
    Duration p99Target,
    List<Integer> threadCounts,
    List<Integer> batchSizes,
    Runs warmup,
    Runs timed) {

  /** The default p99 target: 50 ms. */
  public static final Duration DEFAULT_P99_TARGET = Duration.ofMillis(50);

  /** Validates and copies. */
  public TuningOptions {
    requireNonNull(p99Target, "p99Target is null");
    requireNonNull(warmup, "warmup is null");
    requireNonNull(timed, "timed is null");
    threadCounts = List.copyOf(requireNonNull(threadCounts, "threadCounts is null"));
    batchSizes = List.copyOf(requireNonNull(batchSizes, "batchSizes is null"));
    if (p99Target.isNegative() || p99Target.isZero()) {
      throw new IllegalArgumentException("the p99 target must be positive");
    }
    if (threadCounts.isEmpty() || threadCounts.stream().anyMatch(count -> count < 1)) {
      throw new IllegalArgumentException("thread counts must be at least 1, got " + threadCounts);
    }
    if (batchSizes.isEmpty() || batchSizes.stream().anyMatch(size -> size < 1)) {
      throw new IllegalArgumentException("batch sizes must be at least 1, got " + batchSizes);
    }
    if (timed.count() < 1) {
      throw new IllegalArgumentException("timed runs must be at least 1, got " + timed.count());
    }
  }

  /**
   * Returns the default search for a machine with {@code cores} cores: thread counts 1, 2, 4, ...
   * up to the cores (the core count itself included), batch sizes 1, 2, 4, ... 64, and the default
   * warmup and timed runs ({@link Runs#DEFAULT_WARMUP}, {@link Runs#DEFAULT_TIMED}) per setting.
   */
  public static TuningOptions defaults(int cores, Duration p99Target) {
    List<Integer> threads = new ArrayList<>();
    for (int count = 1; count < cores; count *= 2) {
      threads.add(count);
    }
    threads.add(Math.max(1, cores));
    return new TuningOptions(
        p99Target,
        threads,
        List.of(1, 2, 4, 8, 16, 32, 64),
        Runs.DEFAULT_WARMUP,
        Runs.DEFAULT_TIMED);
  }
}
