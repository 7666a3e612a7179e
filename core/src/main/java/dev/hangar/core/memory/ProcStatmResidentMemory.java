package dev.hangar.core.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the resident set size from Linux's {@code /proc/self/statm}: its second field counts
 * resident pages.
 */
public final class ProcStatmResidentMemory implements ResidentMemory {
  private static final Path STATM = Path.of("/proc/self/statm");
  private static final long PAGE_SIZE = PageSize.bytes();

  static boolean isAvailable() {
    return Files.isReadable(STATM);
  }

  @Override
  public long residentBytes() {
    try {
      String[] fields = Files.readString(STATM).trim().split("\\s+");
      return Long.parseLong(fields[1]) * PAGE_SIZE;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + STATM, e);
    }
  }
}
