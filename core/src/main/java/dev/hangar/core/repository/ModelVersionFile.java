package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * One version of a model on disk.
 *
 * @param version the version number
 * @param file the model file
 * @param stamp the file's size and modification time when scanned
 */
public record ModelVersionFile(long version, Path file, FileStamp stamp) {
  /** Validates. */
  public ModelVersionFile {
    requireNonNull(file, "file is null");
    requireNonNull(stamp, "stamp is null");
    if (version < 1) {
      throw new IllegalArgumentException("version must be positive: " + version);
    }
  }
}
