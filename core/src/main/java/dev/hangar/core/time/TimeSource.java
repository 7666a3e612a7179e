package dev.hangar.core.time;

import java.time.Instant;

/**
 * Where core reads time: a monotonic clock for durations, deadlines and least-recently-used order,
 * and a wall clock for what users see. Injected so tests can advance time instead of sleeping.
 */
public interface TimeSource {
  /** Returns a monotonic time in nanoseconds, with an arbitrary origin. */
  long nanoTime();

  /** Returns the current wall-clock time. */
  Instant now();

  /** The system clocks. */
  TimeSource SYSTEM =
      new TimeSource() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public Instant now() {
          return Instant.now();
        }
      };
}
