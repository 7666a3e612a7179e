package dev.hangar.core.repository;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What the repository poller compares to notice that a file changed: its size and modification
 * time.
 *
 * @param size the size in bytes, -1 when the file is missing
 * @param modifiedMillis the modification time in milliseconds since the epoch
 */
public record FileStamp(long size, long modifiedMillis) {
  /** The stamp of a missing file. */
  public static final FileStamp MISSING = new FileStamp(-1, 0);

  /** Returns the stamp of a file, {@link #MISSING} when it cannot be read. */
  public static FileStamp of(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return new FileStamp(attributes.size(), attributes.lastModifiedTime().toMillis());
    } catch (IOException e) {
      return MISSING;
    }
  }
}
