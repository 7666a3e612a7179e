package dev.hangar.core.testing;

import dev.hangar.core.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests advance by hand. */
public final class FakeTime implements TimeSource {
  private static final Instant ORIGIN = Instant.parse("2026-11-26T12:00:00Z");
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  @Override
  public Instant now() {
    return ORIGIN.plusNanos(nanos.get());
  }

  /** Moves time forward. */
  public void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }
}
