package dev.hangar.core.health;

import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A thread-safe record of durations in nanoseconds since creation: writers never block (an
 * HdrHistogram {@link Recorder}); {@link #summary()} folds what was recorded into a cumulative
 * histogram under this object's monitor, which guards that histogram.
 */
final class DurationHistogram {
  // one hour at three significant digits covers every request duration that matters
  private static final long HIGHEST_NANOS = 3_600_000_000_000L;

  // auto-resizing: a histogram sized for an hour up front holds about 256KB, and every version the
  // repository lists has several, served or not; these grow with the durations recorded
  private final Recorder recorder = new Recorder(3);
  private final Histogram cumulative = new Histogram(3);
  private final LongAdder totalNanos = new LongAdder();
  private Histogram recycled;

  void record(long nanos) {
    long clamped = Math.max(0, Math.min(nanos, HIGHEST_NANOS));
    recorder.recordValue(clamped);
    totalNanos.add(clamped);
  }

  synchronized LatencySummary summary() {
    recycled = recorder.getIntervalHistogram(recycled);
    cumulative.add(recycled);
    return LatencySummary.of(cumulative, totalNanos.sum());
  }
}
