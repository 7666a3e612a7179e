package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.Durations;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Rescans the model repository every {@code interval} and lets the manager apply what changed
 * ({@code --poll}). A model whose files changed less than {@link #QUIET} before a scan, or that has
 * been gone for less than that, is applied at a later scan: a file still being written is not
 * loaded half-written, and a directory deleted and put back at once is not unloaded. A scan that
 * fails (the repository directory vanished, say) is logged and tried again at the next tick;
 * serving goes on. So is one that throws an {@link Error}, logged at ERROR with its stack trace.
 */
public final class RepositoryPoller implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RepositoryPoller.class.getName());

  /** How long a model's files must stay unchanged before a scan applies them. */
  public static final Duration QUIET = Duration.ofSeconds(1);

  private final ModelManager manager;
  private final Duration interval;
  private final Periodic scans;
  // the last scan's failure, null after a scan that worked: the same failure again is not news
  private volatile String lastFailure;

  /** Creates a poller; {@link #start()} starts it. */
  public RepositoryPoller(ModelManager manager, ScheduledExecutorService timer, Duration interval) {
    this.manager = requireNonNull(manager, "manager is null");
    this.interval = requireNonNull(interval, "interval is null");
    this.scans = new Periodic(timer, interval, "poll", this::poll);
  }

  /** Starts polling; the first scan comes one interval from now. */
  public void start() {
    if (scans.start()) {
      LOG.log(Level.INFO, "polling the model repository every {0}", Durations.format(interval));
    }
  }

  /** Scans once now, on the calling thread. */
  public void poll() {
    try {
      manager.refreshSettled(QUIET);
      if (lastFailure != null) {
        lastFailure = null;
        LOG.log(Level.INFO, "scanning the model repository works again");
      }
    } catch (RuntimeException e) {
      String failure = String.valueOf(e.getMessage());
      // a repository gone for a while fails every scan: said once, then at DEBUG until it is back
      LOG.log(
          failure.equals(lastFailure) ? Level.DEBUG : Level.WARNING,
          "scanning the model repository failed; trying again every {0}: {1}",
          Durations.format(interval),
          failure);
      lastFailure = failure;
    } catch (Throwable e) {
      // an Error escaping would end scheduleWithFixedDelay's task silently: polling would stop
      LOG.log(
          Level.ERROR,
          "scanning the model repository failed with "
              + e
              + "; trying again in "
              + Durations.format(interval),
          e);
    }
  }

  @Override
  public void close() {
    scans.close();
  }
}
