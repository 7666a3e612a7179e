package dev.hangar.spi;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * File operations for the writers of a backend's cache directory ({@link
 * BackendContext#cacheDirectory()}): lock files, atomic moves and the removal of garbage (a
 * directory or link where the cache keeps a file). Readers of a complete cache need none of them,
 * so that a read-only cache works. Here, not in each backend, because every backend that caches
 * needs the same care.
 */
public final class CacheFiles {
  private CacheFiles() {}

  /**
   * Opens {@code file} for a {@link FileChannel#lock}, creating it; anything else found at its name
   * (a directory, a link) is deleted first.
   *
   * @throws IOException when the file cannot be opened for writing
   */
  public static FileChannel openLock(Path file) throws IOException {
    deleteUnlessRegularFile(file);
    return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  /** Moves {@code source} over {@code target} atomically where the file system can. */
  public static void move(Path source, Path target) throws IOException {
    // rename(2) cannot replace a directory with a file
    deleteUnlessRegularFile(target);
    try {
      Files.move(
          source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Deletes whatever is at {@code path}: a file, a link (not its target) or a directory tree. */
  public static void delete(Path path) throws IOException {
    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(path);
      return;
    }
    Files.walkFileTree(
        path,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path directory, IOException e)
              throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(directory);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /**
   * Returns the exception's message with its reason: an {@link AccessDeniedException} says only the
   * path.
   */
  public static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return e.getMessage() + ": permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() == null) {
      return e.getMessage() + ": " + e.getClass().getSimpleName();
    }
    return e.getMessage();
  }

  private static void deleteUnlessRegularFile(Path path) throws IOException {
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
        && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
      delete(path);
    }
  }
}
