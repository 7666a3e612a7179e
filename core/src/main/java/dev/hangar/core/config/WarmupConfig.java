package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Warmup settings of one model ({@code warmup:} in {@code config.yaml}). A model becomes READY only
 * after warmup succeeds.
 *
 * @param enabled whether to warm up at all (default true)
 * @param iterations runs per batch size (default 2)
 * @param batchSizes the batch sizes to run; empty (the default) means 1 and the model's maximum
 *     batch size
 * @param freeDimensionSize the size given to free dimensions other than the batch dimension
 *     (default 8)
 * @param samples request files (v2 JSON: {@code {"inputs": [...]}}) relative to the model's
 *     directory, run as well as the synthetic inputs
 */
public record WarmupConfig(
    boolean enabled,
    int iterations,
    List<Integer> batchSizes,
    int freeDimensionSize,
    List<String> samples) {
  /** The defaults. */
  public static final WarmupConfig DEFAULTS = new WarmupConfig(true, 2, List.of(), 8, List.of());

  /** Validates and copies. */
  public WarmupConfig {
    batchSizes = List.copyOf(requireNonNull(batchSizes, "batchSizes is null"));
    samples = List.copyOf(requireNonNull(samples, "samples is null"));
    if (iterations < 1 || iterations > 1000) {
      throw new IllegalArgumentException(
          "'warmup.iterations' must be from 1 to 1000, got " + iterations);
    }
    if (freeDimensionSize < 1) {
      throw new IllegalArgumentException(
          "'warmup.free_dimension_size' must be at least 1, got " + freeDimensionSize);
    }
    for (int size : batchSizes) {
      if (size < 1) {
        throw new IllegalArgumentException(
            "'warmup.batch_sizes' must hold positive sizes, got " + size);
      }
    }
  }
}
