package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

/**
 * What the repository poller compares to notice that a file changed: its size, modification time
 * and status-change time. The last catches a file replaced by one of the same size whose
 * modification time was kept ({@code cp -p}, {@code rsync -a}, {@code tar}, {@code touch -r}), as
 * Triton's poller does: renaming or writing a file always sets it.
 *
 * @param size the size in bytes, -1 when the file is missing
 * @param modified the modification time
 * @param changed the status-change time ({@code ctime}), the modification time where the file
 *     system has none
 */
public record FileStamp(long size, Instant modified, Instant changed) {
  /** The stamp of a missing file. */
  public static final FileStamp MISSING = new FileStamp(-1, Instant.EPOCH, Instant.EPOCH);

  /** Validates. */
  public FileStamp {
    requireNonNull(modified, "modified is null");
    requireNonNull(changed, "changed is null");
  }

  /** Returns the stamp of a file, {@link #MISSING} when it cannot be read. */
  public static FileStamp of(Path file) {
    try {
      // one stat for the three, where the file system has a status-change time
      Map<String, Object> unix = Files.readAttributes(file, "unix:size,lastModifiedTime,ctime");
      return new FileStamp(
          (Long) unix.get("size"),
          ((FileTime) unix.get("lastModifiedTime")).toInstant(),
          ((FileTime) unix.get("ctime")).toInstant());
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return basic(file); // not a POSIX file system
    } catch (IOException e) {
      return MISSING;
    }
  }

  private static FileStamp basic(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      Instant modified = attributes.lastModifiedTime().toInstant();
      return new FileStamp(attributes.size(), modified, modified);
    } catch (IOException e) {
      return MISSING;
    }
  }
}
