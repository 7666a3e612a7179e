package dev.hangar.testkit.fake;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A gate that fake model executions or loads wait at: closed until the test opens it, counting who
 * arrived, so tests synchronize on events instead of sleeping.
 */
public final class Gate {
  private final CountDownLatch open = new CountDownLatch(1);
  private final Semaphore arrivals = new Semaphore(0);

  /** Lets everyone through, now and later. */
  public void open() {
    open.countDown();
  }

  /**
   * Waits until {@code count} more callers have arrived at the gate (a bounded wait: a test fails
   * instead of hanging).
   *
   * @throws AssertionError when they do not arrive within 30 seconds
   */
  public void awaitArrivals(int count) {
    try {
      if (!arrivals.tryAcquire(count, 30, TimeUnit.SECONDS)) {
        throw new AssertionError("expected " + count + " arrivals at the gate within 30s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  void pass() {
    arrivals.release();
    try {
      if (!open.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("a test left a gate closed for 60s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
