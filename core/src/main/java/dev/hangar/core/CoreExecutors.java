package dev.hangar.core;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads core runs on besides the callers': workers that run model executions and continue
 * requests after a load, and one timer thread for deadlines, batching delays and repository
 * polling.
 */
public final class CoreExecutors implements AutoCloseable {
  private final ExecutorService workers = Executors.newCachedThreadPool(named("hangar-worker"));
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(named("hangar-timer"));

  /** Returns the worker pool. */
  public ExecutorService workers() {
    return workers;
  }

  /** Returns the timer. */
  public ScheduledExecutorService timer() {
    return timer;
  }

  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
