package dev.hangar.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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
import java.util.Map;
import java.util.Properties;

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

  /**
   * Takes {@code channel}'s file lock, waiting while another process or another thread of this one
   * holds it: {@link FileChannel#lock} waits for other processes only, and throws {@link
   * OverlappingFileLockException} at once while a thread of this process holds the lock (two
   * backends unpacking into one cold cache, say). The channel stays open while it waits: closing
   * one would release the locks this process holds on the file.
   *
   * @throws InterruptedIOException when the thread is interrupted while it waits
   */
  public static FileLock lock(FileChannel channel) throws IOException {
    while (true) {
      try {
        return channel.lock();
      } catch (OverlappingFileLockException e) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException(
              "interrupted while waiting for the lock on a cache file");
        }
      }
    }
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
   * Returns whether files unpacked from a jar into {@code directory} are a complete copy: {@code
   * marker}, written last by the unpacker, records each file's size, and each file has that size
   * and its resource's, when the resource tells its length. Reads only, and takes no lock: a copy
   * another process is still writing has no marker yet.
   *
   * @param resources each file's name in {@code directory}, and the resource it was copied from
   */
  public static boolean isCompleteCopy(Path directory, Path marker, Map<String, URL> resources) {
    if (!Files.isRegularFile(marker)) {
      return false;
    }
    Properties sizes = new Properties();
    try (InputStream in = Files.newInputStream(marker)) {
      sizes.load(in);
      for (Map.Entry<String, URL> resource : resources.entrySet()) {
        Path file = directory.resolve(resource.getKey());
        String recorded = sizes.getProperty(resource.getKey());
        if (recorded == null
            || !Files.isRegularFile(file)
            || !recorded.equals(Long.toString(Files.size(file)))) {
          return false;
        }
        long expected = resource.getValue().openConnection().getContentLengthLong();
        if (expected >= 0 && expected != Files.size(file)) {
          return false;
        }
      }
      return true;
    } catch (IOException | IllegalArgumentException e) {
      return false;
    }
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
