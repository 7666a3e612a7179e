package dev.hangar.core.memory;

/** Returns memory freed by the process to the operating system. */
public interface MemoryReclaimer {
  /** Asks the allocator to give freed memory back. Never throws. */
  void releaseFreedMemory();

  /** Does nothing. */
  MemoryReclaimer NONE = () -> {};

  /**
   * Returns glibc's {@code malloc_trim(0)} where the C library has it, otherwise {@link #NONE}.
   * glibc keeps freed blocks inside the process; after a model unloads, trimming hands them back.
   */
  static MemoryReclaimer forPlatform() {
    return GlibcMallocTrim.load().map(MemoryReclaimer.class::cast).orElse(NONE);
  }
}
