package dev.hangar.core.health;

import dev.hangar.core.time.TimeSource;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Request outcomes and latencies over the last {@code window}, for judging DEGRADED: the window is
 * split into four slots that rotate as time passes, so the view covers between three quarters of
 * the window and all of it.
 *
 * <p>Writers block only when a slot boundary passes; the monitor of this object guards rotation.
 */
final class RecentWindow {
  private static final int SLOTS = 4;
  private static final long HIGHEST_NANOS = 3_600_000_000_000L;

  private final TimeSource time;
  private final long slotNanos;
  private final Slot[] slots = new Slot[SLOTS];
  private volatile int current;
  private volatile long currentEnds;

  private static final class Slot {
    // auto-resizing, as DurationHistogram's: sized for an hour up front, each would hold 32KB
    final Recorder latency = new Recorder(2);
    final LongAdder requests = new LongAdder();
    final LongAdder failures = new LongAdder();
    final Histogram folded = new Histogram(2);

    void clear() {
      latency.reset();
      requests.reset();
      failures.reset();
      folded.reset();
    }
  }

  /** What the window holds now. */
  record View(long requests, long failures, Duration p99) {
    /** A window nothing was recorded in. */
    static final View NONE = new View(0, 0, Duration.ZERO);

    double errorRate() {
      return requests == 0 ? 0 : failures / (double) requests;
    }
  }

  RecentWindow(TimeSource time, Duration window) {
    this.time = time;
    this.slotNanos = Math.max(1, window.toNanos() / SLOTS);
    for (int i = 0; i < SLOTS; i++) {
      slots[i] = new Slot();
    }
    this.currentEnds = time.nanoTime() + slotNanos;
  }

  void record(long latencyNanos, boolean failed) {
    Slot slot = slot();
    slot.requests.increment();
    if (failed) {
      slot.failures.increment();
    }
    slot.latency.recordValue(Math.max(0, Math.min(latencyNanos, HIGHEST_NANOS)));
  }

  synchronized View view() {
    slot();
    Histogram merged = new Histogram(2);
    long requests = 0;
    long failures = 0;
    for (Slot slot : slots) {
      slot.folded.add(slot.latency.getIntervalHistogram());
      merged.add(slot.folded);
      requests += slot.requests.sum();
      failures += slot.failures.sum();
    }
    return new View(
        requests,
        failures,
        Duration.ofNanos(merged.getTotalCount() == 0 ? 0 : merged.getValueAtPercentile(99)));
  }

  private Slot slot() {
    long now = time.nanoTime();
    if (now >= currentEnds) {
      rotate(now);
    }
    return slots[current];
  }

  private synchronized void rotate(long now) {
    while (now >= currentEnds) {
      int next = (current + 1) % SLOTS;
      slots[next].clear();
      current = next;
      currentEnds += slotNanos;
      if (now - currentEnds > (long) SLOTS * slotNanos) {
        // idle for longer than the window: everything is stale
        for (Slot slot : slots) {
          slot.clear();
        }
        currentEnds = now + slotNanos;
      }
    }
  }
}
