package dev.hangar.core.testing;

import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.testkit.fake.FakeEngine;
import java.util.concurrent.atomic.AtomicLong;

/** Resident memory that is a fixed server baseline plus what the fake models hold. */
public final class FakeResidentMemory implements ResidentMemory {
  private final FakeEngine engine;
  private final AtomicLong baseline;
  private final AtomicLong peak = new AtomicLong();

  public FakeResidentMemory(FakeEngine engine, long baselineBytes) {
    this.engine = engine;
    this.baseline = new AtomicLong(baselineBytes);
  }

  @Override
  public long residentBytes() {
    long now = baseline.get() + engine.allocatedBytes();
    peak.accumulateAndGet(now, Math::max);
    return now;
  }

  /** Sets what the server itself holds, as its heap or native libraries grow. */
  public void setBaselineBytes(long bytes) {
    baseline.set(bytes);
  }

  /** Returns the highest value ever measured. */
  public long peakBytes() {
    return Math.max(peak.get(), residentBytes());
  }
}
