package dev.hangar.core.memory;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Optional;

/** Calls glibc's {@code malloc_trim(0)} through JNA. */
final class GlibcMallocTrim implements MemoryReclaimer {
  interface LibC extends Library {
    int malloc_trim(long pad);
  }

  private final LibC libc;

  private GlibcMallocTrim(LibC libc) {
    this.libc = libc;
  }

  static Optional<GlibcMallocTrim> load() {
    try {
      LibC libc = Native.load("c", LibC.class);
      libc.malloc_trim(0);
      return Optional.of(new GlibcMallocTrim(libc));
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return Optional.empty();
    }
  }

  @Override
  public void releaseFreedMemory() {
    libc.malloc_trim(0);
  }
}
