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

  // two significant digits (1%): at three, one that saw a 5 s request held 1MB with its recorder's
  // two buffers, seven per version that served
  private static final int DIGITS = 2;

  // created at the first record, and auto-resizing: every version the repository lists has
  // several, served or not, and a histogram sized for an hour up front holds about 256KB
  private volatile Recorder recorder;
  private final LongAdder totalNanos = new LongAdder();
  // guarded by this object's monitor
  private Histogram cumulative;
  private Histogram recycled;

  void record(long nanos) {
    long clamped = Math.max(0, Math.min(nanos, HIGHEST_NANOS));
    Recorder writing = recorder;
    (writing != null ? writing : created()).recordValue(clamped);
    totalNanos.add(clamped);
  }

  private synchronized Recorder created() {
    if (recorder == null) {
      recorder = new Recorder(DIGITS);
      cumulative = new Histogram(DIGITS);
    }
    return recorder;
  }

  synchronized LatencySummary summary() {
    if (recorder == null) {
      return LatencySummary.EMPTY;
    }
    recycled = recorder.getIntervalHistogram(recycled);
    cumulative.add(recycled);
    return LatencySummary.of(cumulative, totalNanos.sum());
  }
}
