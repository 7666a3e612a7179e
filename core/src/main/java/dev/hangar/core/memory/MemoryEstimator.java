package dev.hangar.core.memory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Estimates the resident memory a model needs while it loads, and what it keeps once loaded: a
 * fixed per-model overhead plus its file size times a factor per format. Each factor starts at a
 * conservative default and then follows what recent loads of the format measured: the largest of
 * the last {@value #REMEMBERED} ratios to file size, plus a margin of {@value #MARGIN_PERCENT}
 * percent. The load's factor follows their peak growth (engines hold several copies of a model for
 * a moment while loading, and how many varies from load to load), the kept one what they held once
 * warm. Only files of at least 1 MB teach them, since for smaller ones the overhead dominates.
 *
 * <p>Thread-safe: the methods hold this object's monitor, which guards the histories.
 */
public final class MemoryEstimator {
  /** The load factor of a format nothing has been measured for yet. */
  public static final double DEFAULT_FACTOR = 3.0;

  /** The kept factor of a format nothing has been measured for yet: the weights and some more. */
  public static final double DEFAULT_KEPT_FACTOR = 1.5;

  /** What any loaded model costs beyond its weights: engine session state, arenas, threads. */
  public static final long OVERHEAD_BYTES = 4L << 20;

  private static final int REMEMBERED = 8;
  private static final int MARGIN_PERCENT = 10;
  private static final long LEARN_FROM_BYTES = 1L << 20;
  private final Map<String, Deque<Double>> peakRatios = new HashMap<>();
  private final Map<String, Deque<Double>> keptRatios = new HashMap<>();

  /**
   * Returns the estimated peak resident bytes of loading a file of {@code fileBytes} in {@code
   * format}.
   */
  public synchronized long estimate(String format, long fileBytes) {
    return sized(fileBytes, factor(format));
  }

  /**
   * Returns the estimated resident bytes a loaded, warmed-up model of a file of {@code fileBytes}
   * in {@code format} keeps.
   */
  public synchronized long keptEstimate(String format, long fileBytes) {
    return sized(fileBytes, factor(keptRatios, format, DEFAULT_KEPT_FACTOR));
  }

  private static long sized(long fileBytes, double factor) {
    return OVERHEAD_BYTES + (long) Math.ceil(Math.max(0, fileBytes) * factor);
  }

  /** Returns the current load factor of a format. */
  public synchronized double factor(String format) {
    return factor(peakRatios, format, DEFAULT_FACTOR);
  }

  private static double factor(Map<String, Deque<Double>> ratios, String format, double fallback) {
    Deque<Double> history = ratios.get(format);
    if (history == null || history.isEmpty()) {
      return fallback;
    }
    double largest = history.stream().mapToDouble(Double::doubleValue).max().orElse(fallback);
    return largest * (100 + MARGIN_PERCENT) / 100.0;
  }

  /**
   * Records that loading a file of {@code fileBytes} grew resident memory by {@code peakBytes} at
   * its peak, and that the loaded model kept {@code keptBytes}.
   */
  public synchronized void learn(String format, long fileBytes, long peakBytes, long keptBytes) {
    if (fileBytes < LEARN_FROM_BYTES) {
      return;
    }
    if (peakBytes > 0) {
      remember(peakRatios, format, Math.min(16.0, Math.max(1.0, peakBytes / (double) fileBytes)));
    }
    if (keptBytes > 0) {
      remember(keptRatios, format, Math.min(16.0, keptBytes / (double) fileBytes));
    }
  }

  private static void remember(Map<String, Deque<Double>> ratios, String format, double ratio) {
    Deque<Double> history = ratios.computeIfAbsent(format, key -> new ArrayDeque<>());
    history.addLast(ratio);
    if (history.size() > REMEMBERED) {
      history.removeFirst();
    }
  }
}
