package dev.hangar.core.memory;

import java.util.HashMap;
import java.util.Map;

/**
 * Estimates a model's resident memory before it loads: a fixed per-model overhead plus its file
 * size times a factor per format. The factor starts at a conservative default and follows what
 * loads of the format measured (resident growth over file size, from files of at least 1 MB whose
 * size dominates the overhead), rising at once to a higher measurement and sinking slowly to a
 * lower one, so that estimates err on the high side; it stays between 1 and 16.
 *
 * <p>Thread-safe: the methods hold this object's monitor, which guards the factors.
 */
public final class MemoryEstimator {
  /** The factor of a format nothing has been measured for yet. */
  public static final double DEFAULT_FACTOR = 2.0;

  /** What any loaded model costs beyond its weights: engine session state, arenas, threads. */
  public static final long OVERHEAD_BYTES = 4L << 20;

  private static final long LEARN_FROM_BYTES = 1L << 20;
  private static final double WEIGHT_OF_LOWER = 0.1;
  private final Map<String, Double> factors = new HashMap<>();

  /**
   * Returns the estimated resident bytes of a model file of {@code fileBytes} in {@code format}.
   */
  public synchronized long estimate(String format, long fileBytes) {
    return OVERHEAD_BYTES + (long) Math.ceil(Math.max(0, fileBytes) * factor(format));
  }

  /** Returns the current factor of a format. */
  public synchronized double factor(String format) {
    return factors.getOrDefault(format, DEFAULT_FACTOR);
  }

  /** Records that a model file of {@code fileBytes} measured {@code residentBytes} once loaded. */
  public synchronized void learn(String format, long fileBytes, long residentBytes) {
    if (fileBytes < LEARN_FROM_BYTES || residentBytes <= 0) {
      return;
    }
    double measured = Math.min(16.0, Math.max(1.0, residentBytes / (double) fileBytes));
    Double previous = factors.get(format);
    double next =
        previous == null || measured > previous
            ? measured
            : previous * (1 - WEIGHT_OF_LOWER) + measured * WEIGHT_OF_LOWER;
    factors.put(format, next);
  }
}
