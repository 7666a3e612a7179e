package dev.hangar.core.health;

import java.time.Duration;
import org.HdrHistogram.Histogram;

/**
 * Percentiles of a set of durations.
 *
 * @param count how many were recorded
 * @param total their sum
 * @param p50 the median
 * @param p90 the 90th percentile
 * @param p95 the 95th percentile
 * @param p99 the 99th percentile
 * @param max the largest
 */
public record LatencySummary(
    long count,
    Duration total,
    Duration p50,
    Duration p90,
    Duration p95,
    Duration p99,
    Duration max) {
  /** No recordings. */
  public static final LatencySummary EMPTY =
      new LatencySummary(
          0,
          Duration.ZERO,
          Duration.ZERO,
          Duration.ZERO,
          Duration.ZERO,
          Duration.ZERO,
          Duration.ZERO);

  /** Summarizes a histogram of nanoseconds, whose total is given separately (histograms round). */
  public static LatencySummary of(Histogram histogram, long totalNanos) {
    if (histogram.getTotalCount() == 0) {
      return EMPTY;
    }
    return new LatencySummary(
        histogram.getTotalCount(),
        Duration.ofNanos(totalNanos),
        Duration.ofNanos(histogram.getValueAtPercentile(50)),
        Duration.ofNanos(histogram.getValueAtPercentile(90)),
        Duration.ofNanos(histogram.getValueAtPercentile(95)),
        Duration.ofNanos(histogram.getValueAtPercentile(99)),
        Duration.ofNanos(histogram.getMaxValue()));
  }
}
