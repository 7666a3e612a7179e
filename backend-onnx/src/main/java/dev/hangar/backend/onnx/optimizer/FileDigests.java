package dev.hangar.backend.onnx.optimizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 digests of files, remembered for as long as a file keeps its size, modification time and
 * identity (its inode where the file system has one). A model evicted and loaded again is then not
 * read twice more just to find its cache entry: hashing a 50 MB model and its 50 MB optimized entry
 * takes about 150 ms, longer than loading the model.
 */
public final class FileDigests {
  private record Stamp(long size, FileTime modified, Object identity) {}

  private record Known(Stamp stamp, String sha256) {}

  private static final long SETTLED_MILLIS = 2_000;

  private final Map<Path, Known> known = new ConcurrentHashMap<>();

  /** Returns the SHA-256 of {@code file}'s content as lower-case hex. */
  public String sha256(Path file) throws IOException {
    Path path = file.toAbsolutePath().normalize();
    Stamp before = stamp(path);
    Known memo = known.get(path);
    if (memo != null && memo.stamp().equals(before)) {
      return memo.sha256();
    }
    String digest = Digests.sha256(path);
    // remembered only when nothing touched the file while it was read, and only when its time is
    // older than file systems' coarse clocks: a same-size rewrite within one tick keeps the time
    if (stamp(path).equals(before)
        && before.modified().toMillis() < System.currentTimeMillis() - SETTLED_MILLIS) {
      known.put(path, new Known(before, digest));
    }
    return digest;
  }

  private static Stamp stamp(Path path) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
    return new Stamp(attributes.size(), attributes.lastModifiedTime(), attributes.fileKey());
  }
}
