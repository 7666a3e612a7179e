package dev.hangar.core.memory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Estimates the resident memory a model needs while it loads: a fixed per-model overhead plus its
 * file size times a factor per format. The factor starts at a conservative default and then follows
 * what recent loads of the format measured at their peak (engines hold several copies of a model
 * for a moment while loading, and how many varies from load to load): the largest of the last
 * {@value #REMEMBERED} ratios of peak growth to file size, plus a margin of {@value
 * #MARGIN_PERCENT} percent. Only files of at least 1 MB teach it, since for smaller ones the
 * overhead dominates.
 *
 * <p>Thread-safe: the methods hold this object's monitor, which guards the history.
 */
public final class MemoryEstimator {
  /** The factor of a format nothing has been measured for yet. */
  public static final double DEFAULT_FACTOR = 3.0;

  /** What any loaded model costs beyond its weights: engine session state, arenas, threads. */
  public static final long OVERHEAD_BYTES = 4L << 20;

  private static final int REMEMBERED = 8;
  private static final int MARGIN_PERCENT = 10;
  private static final long LEARN_FROM_BYTES = 1L << 20;
  private final Map<String, Deque<Double>> ratios = new HashMap<>();

  /**
   * Returns the estimated peak resident bytes of loading a file of {@code fileBytes} in {@code
   * format}.
   */
  public synchronized long estimate(String format, long fileBytes) {
    return OVERHEAD_BYTES + (long) Math.ceil(Math.max(0, fileBytes) * factor(format));
  }

  /** Returns the current factor of a format. */
  public synchronized double factor(String format) {
    Deque<Double> history = ratios.get(format);
    if (history == null || history.isEmpty()) {
      return DEFAULT_FACTOR;
    }
    double largest = history.stream().mapToDouble(Double::doubleValue).max().orElse(DEFAULT_FACTOR);
    return largest * (100 + MARGIN_PERCENT) / 100.0;
  }

  /**
   * Records that loading a file of {@code fileBytes} grew resident memory by {@code peakBytes} at
   * its peak.
   */
  public synchronized void learn(String format, long fileBytes, long peakBytes) {
    if (fileBytes < LEARN_FROM_BYTES || peakBytes <= 0) {
      return;
    }
    Deque<Double> history = ratios.computeIfAbsent(format, key -> new ArrayDeque<>());
    history.addLast(Math.min(16.0, Math.max(1.0, peakBytes / (double) fileBytes)));
    if (history.size() > REMEMBERED) {
      history.removeFirst();
    }
  }
}
