package dev.hangar.core.memory;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * The fallback measurement where procfs is missing: the JVM's committed heap and non-heap memory.
 * It misses native allocations such as ONNX Runtime's, so budgets are only approximate there.
 */
public final class JvmCommittedMemory implements ResidentMemory {
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

  @Override
  public long residentBytes() {
    return memory.getHeapMemoryUsage().getCommitted()
        + memory.getNonHeapMemoryUsage().getCommitted();
  }
}
