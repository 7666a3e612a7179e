package dev.hangar.testkit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A directory tree made read-only for this process, for real, until {@link #close()}: as root, whom
 * permissions do not stop, every file and directory is made immutable ({@code chattr +i});
 * otherwise their write permissions are removed. The constructor proves it by failing to create a
 * file in the directory, and throws when the tree cannot be made read-only, so that a test never
 * passes without the condition it means to test.
 *
 * <p>Use it in try-with-resources, or close it in {@code @AfterEach}: JUnit cannot delete an
 * immutable {@code @TempDir}.
 */
public final class ReadOnlyTree implements AutoCloseable {
  private final Path root;
  private final boolean immutable;
  // the permissions taken away, to give back on close
  private final Map<Path, Set<PosixFilePermission>> permissions = new LinkedHashMap<>();
  private boolean closed;

  /**
   * Makes {@code root} and everything under it read-only.
   *
   * @throws IOException when the tree cannot be walked
   * @throws IllegalStateException when the tree cannot be made read-only here (no {@code chattr}, a
   *     file system without immutable files, a process whose writes nothing stops)
   */
  public ReadOnlyTree(Path root) throws IOException {
    this.root = requireNonNull(root, "root is null");
    this.immutable = runsAsRoot(root);
    if (immutable) {
      chattr("+i");
    } else {
      removeWritePermissions();
    }
    if (isWritable()) {
      close();
      throw new IllegalStateException(
          "cannot make "
              + root
              + " read-only: a file could still be created in it after "
              + (immutable ? "chattr -R +i" : "removing its write permissions"));
    }
  }

  /**
   * Returns every file, directory and link under {@code root} (relative path, then its type, size
   * and modification time), sorted: two listings are equal when nothing under {@code root} was
   * created, deleted or written in between.
   */
  public static SortedMap<String, String> listing(Path root) throws IOException {
    SortedMap<String, String> listing = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.toList()) {
        BasicFileAttributes attributes =
            Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        listing.put(
            root.relativize(path).toString(),
            (attributes.isDirectory() ? "directory" : attributes.isSymbolicLink() ? "link" : "file")
                + " "
                + attributes.size()
                + " bytes, modified "
                + attributes.lastModifiedTime());
      }
    }
    return listing;
  }

  /** Returns how the tree was made read-only: {@code chattr +i} or permissions. */
  public String mechanism() {
    return immutable ? "chattr +i" : "permissions";
  }

  /** Makes the tree writable again. Idempotent. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (immutable) {
      chattr("-i");
      return;
    }
    for (Map.Entry<Path, Set<PosixFilePermission>> entry : permissions.entrySet()) {
      Files.setPosixFilePermissions(entry.getKey(), entry.getValue());
    }
  }

  private static boolean runsAsRoot(Path root) throws IOException {
    Path probe = Files.createTempFile("hangar-uid-", ".probe");
    try {
      return ((Integer) Files.getAttribute(probe, "unix:uid")) == 0;
    } finally {
      Files.delete(probe);
    }
  }

  private void chattr(String change) {
    List<String> command = List.of("chattr", "-R", change, root.toString());
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes());
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + output.strip());
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
    }
  }

  private void removeWritePermissions() throws IOException {
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.filter(path -> !Files.isSymbolicLink(path)).toList();
    }
    for (Path path : paths) {
      Set<PosixFilePermission> original =
          Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      Set<PosixFilePermission> readOnly = EnumSet.noneOf(PosixFilePermission.class);
      readOnly.addAll(original);
      readOnly.removeAll(
          EnumSet.of(
              PosixFilePermission.OWNER_WRITE,
              PosixFilePermission.GROUP_WRITE,
              PosixFilePermission.OTHERS_WRITE));
      permissions.put(path, original);
      Files.setPosixFilePermissions(path, readOnly);
    }
  }

  private boolean isWritable() {
    Path probe = root.resolve(".hangar-write-probe");
    try {
      Files.createFile(probe);
    } catch (IOException e) {
      return false;
    }
    try {
      Files.delete(probe);
    } catch (IOException e) {
      // the tree is writable either way; the stray probe file is the caller's to see
    }
    return true;
  }
}
