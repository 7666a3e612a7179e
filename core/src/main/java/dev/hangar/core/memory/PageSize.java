package dev.hangar.core.memory;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** The system's memory page size, asked of libc once; 4096 where libc cannot be reached. */
final class PageSize {
  private static final int SC_PAGESIZE = 30; // _SC_PAGESIZE on Linux

  private PageSize() {}

  interface LibC extends Library {
    long sysconf(int name);
  }

  static long bytes() {
    try {
      long size = Native.load("c", LibC.class).sysconf(SC_PAGESIZE);
      return size > 0 ? size : 4096;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return 4096;
    }
  }
}
