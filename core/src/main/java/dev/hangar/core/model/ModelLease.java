package dev.hangar.core.model;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A claim on a loaded model version: while it is held, the version is neither evicted nor closed.
 * Every inference holds one from before it is queued until its response is complete. Release it
 * exactly once with {@link #close()} (further calls do nothing).
 */
public final class ModelLease implements AutoCloseable {
  private final LoadedVersion version;
  private final Runnable onRelease;
  private final AtomicBoolean released = new AtomicBoolean();

  ModelLease(LoadedVersion version, Runnable onRelease) {
    this.version = version;
    this.onRelease = onRelease;
  }

  /** Returns the leased version. */
  public LoadedVersion version() {
    return version;
  }

  /** Releases the lease. */
  @Override
  public void close() {
    if (released.compareAndSet(false, true)) {
      onRelease.run();
      version.release();
    }
  }
}
