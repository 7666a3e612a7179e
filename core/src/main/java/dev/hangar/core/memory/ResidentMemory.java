package dev.hangar.core.memory;

/** Measures how much memory the process holds in RAM. */
public interface ResidentMemory {
  /** Returns the process's resident set size in bytes. */
  long residentBytes();

  /**
   * Returns the measurement for this platform: Linux's {@code /proc/self/statm} where it exists,
   * otherwise the JVM's committed heap and non-heap memory, which misses native allocations.
   */
  static ResidentMemory forPlatform() {
    return ProcStatmResidentMemory.isAvailable()
        ? new ProcStatmResidentMemory()
        : new JvmCommittedMemory();
  }
}
