package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * What the host gives a backend when it creates it.
 *
 * @param cacheDirectory a directory the backend may use for files that outlive the process:
 *     unpacked native libraries, compiled or optimized models. Each backend uses a subdirectory
 *     named after its {@link BackendProvider#format()}.
 */
public record BackendContext(Path cacheDirectory) {
  /** Validates. */
  public BackendContext {
    requireNonNull(cacheDirectory, "cacheDirectory is null");
  }

  /** Returns the cache subdirectory for the given backend format. */
  public Path cacheDirectoryFor(String format) {
    return cacheDirectory.resolve(format);
  }
}
