package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Asks the {@link ModelManager} every interval to bring resident memory back within its budget
 * ({@link ModelManager#relieveMemoryPressure()}): the server's runs grow it after their models have
 * loaded (the engines' arenas, buffers), and without these checks only a load would evict.
 */
public final class MemoryPressureChecks implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MemoryPressureChecks.class.getName());

  /** How often a server checks. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);

  private final ModelManager manager;
  private final Periodic checks;
  // the check queued last: another is not queued behind a long load while it waits
  private volatile CompletableFuture<Integer> pending = CompletableFuture.completedFuture(0);

  /** Creates the checks; {@link #start()} starts them. */
  public MemoryPressureChecks(
      ModelManager manager, ScheduledExecutorService timer, Duration interval) {
    this.manager = requireNonNull(manager, "manager is null");
    this.checks = new Periodic(timer, interval, "check", this::check);
  }

  /** Starts checking; the first check comes one interval from now. */
  public void start() {
    checks.start();
  }

  private void check() {
    try {
      if (pending.isDone()) {
        pending = manager.relieveMemoryPressure();
      }
    } catch (Throwable e) {
      // an exception escaping would end scheduleWithFixedDelay's task silently
      LOG.log(Level.WARNING, "checking memory against the budget failed: " + e, e);
    }
  }

  @Override
  public void close() {
    checks.close();
  }
}
