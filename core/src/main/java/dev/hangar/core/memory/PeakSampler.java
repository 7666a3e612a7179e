package dev.hangar.core.memory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Samples resident memory on a thread of its own while a load runs, to catch the load's peak: an
 * engine may read a model file, build its weights and repack them, holding several copies for a
 * moment before it settles. Loads are rare, so one short-lived thread each is cheap.
 */
public final class PeakSampler implements AutoCloseable {
  private static final long INTERVAL_NANOS = 1_000_000;

  private final ResidentMemory memory;
  private final AtomicLong peak;
  private final Thread thread;
  private volatile boolean running = true;

  private PeakSampler(ResidentMemory memory, long start) {
    this.memory = memory;
    this.peak = new AtomicLong(start);
    this.thread = new Thread(this::sample, "hangar-memory-sampler");
    this.thread.setDaemon(true);
  }

  /** Starts sampling now. */
  public static PeakSampler start(ResidentMemory memory) {
    PeakSampler sampler = new PeakSampler(memory, memory.residentBytes());
    sampler.thread.start();
    return sampler;
  }

  /** Returns the highest resident memory seen so far, in bytes. */
  public long peakBytes() {
    return Math.max(peak.get(), memory.residentBytes());
  }

  private void sample() {
    while (running) {
      peak.accumulateAndGet(memory.residentBytes(), Math::max);
      LockSupport.parkNanos(INTERVAL_NANOS);
    }
  }

  /** Stops sampling. */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
