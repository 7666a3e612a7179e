package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Work run on a timer every interval, from {@link #start()} until {@link #close()}. */
final class Periodic implements AutoCloseable {
  private final ScheduledExecutorService timer;
  private final Duration interval;
  private final Runnable work;
  // guards task
  private final Object lock = new Object();
  private ScheduledFuture<?> task;

  /**
   * @param what names the interval in the message for one that is not positive
   * @param work must not throw: an exception would end the timer's task silently
   */
  Periodic(ScheduledExecutorService timer, Duration interval, String what, Runnable work) {
    this.timer = requireNonNull(timer, "timer is null");
    this.interval = requireNonNull(interval, "interval is null");
    this.work = requireNonNull(work, "work is null");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the " + what + " interval must be positive");
    }
  }

  /**
   * Starts the runs; the first comes one interval from now.
   *
   * @return whether this call started them (false when they run already)
   */
  boolean start() {
    synchronized (lock) {
      if (task != null) {
        return false;
      }
      long millis = interval.toMillis();
      task = timer.scheduleWithFixedDelay(work, millis, millis, TimeUnit.MILLISECONDS);
      return true;
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (task != null) {
        task.cancel(false);
        task = null;
      }
    }
  }
}
