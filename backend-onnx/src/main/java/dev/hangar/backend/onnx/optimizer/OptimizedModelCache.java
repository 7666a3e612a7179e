package dev.hangar.backend.onnx.optimizer;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.CacheFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Optimized model files kept on disk, one per key, so that a model is optimized once and every
 * later load reuses the result.
 *
 * <p>An entry is two files: {@code <id>.onnx}, the model, and {@code <id>.properties}, a sidecar
 * written after it that records the full key, the model's size and SHA-256, and notes (what was
 * done, what was refused). Both are written to a temporary file and moved into place. A lookup
 * serves an entry only when the sidecar's key is the one asked for and the model file's size and
 * SHA-256 are those recorded; anything else (a truncated or replaced file, a garbage or missing
 * sidecar, or a directory where a file belongs) is a corrupt entry, deleted and reported as a miss,
 * so the caller rebuilds it.
 *
 * <p>Thread-safe. {@link #find} only reads, so that an intact entry is served from a read-only
 * cache. {@link #locked} serializes the builders of one key: in this process with a lock per key,
 * across processes with a file lock; it throws {@link NotWritableException} when the directory
 * cannot be written.
 */
public final class OptimizedModelCache {
  private static final System.Logger LOG = System.getLogger(OptimizedModelCache.class.getName());
  private static final String KEY = "key";
  private static final String SHA256 = "file.sha256";
  private static final String SIZE = "file.size";
  private static final String NOTE = "note.";

  private final Path directory;
  private final FileDigests digests = new FileDigests();
  // one lock per entry id, so that two threads never build the same entry at once
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /** A cache in {@code directory}, created when first written. */
  public OptimizedModelCache(Path directory) {
    this.directory = requireNonNull(directory, "directory is null");
  }

  /** Returns the digests of files this cache has read, which its owner may share. */
  public FileDigests digests() {
    return digests;
  }

  /** Returns the cache directory. */
  public Path directory() {
    return directory;
  }

  /**
   * A cache key: every field that changes the optimized file.
   *
   * @param fields the fields, in a fixed order, such as source digest, engine version and options
   */
  public record Key(Map<String, String> fields) {
    /** Copies, keeping the order. */
    public Key {
      fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** Returns the key as one line, as the sidecar records it. */
    public String canonical() {
      StringBuilder text = new StringBuilder();
      fields.forEach(
          (name, value) -> {
            if (text.length() > 0) {
              text.append(';');
            }
            text.append(name).append('=').append(value);
          });
      return text.toString();
    }

    /** Returns the entry's file-name id: a prefix of the key's SHA-256. */
    public String id() {
      return Digests.sha256(canonical()).substring(0, 32);
    }
  }

  /**
   * A verified entry.
   *
   * @param file the optimized model
   * @param notes what the builder recorded, by name
   */
  public record Entry(Path file, Map<String, String> notes) {
    /** Copies. */
    public Entry {
      notes = Map.copyOf(notes);
    }
  }

  /** Returns the model file an entry of this key lives in. */
  public Path modelFile(Key key) {
    return directory.resolve(key.id() + ".onnx");
  }

  private Path sidecar(Key key) {
    return directory.resolve(key.id() + ".properties");
  }

  /**
   * Returns the entry for the key when it is present and intact, reading only: no lock is taken and
   * nothing is written or deleted, so a read-only cache serves its intact entries. Anything else is
   * absent; {@link #lookup} under {@link #locked} tells a corrupt entry and deletes it.
   */
  public Optional<Entry> find(Key key) {
    Verified verified = verify(key);
    return verified.problem() == null ? verified.entry() : Optional.empty();
  }

  /**
   * Returns the entry for the key when it is present and intact. A corrupt entry is logged, deleted
   * and reported as absent. Call it under {@link #locked}: it writes.
   */
  public Optional<Entry> lookup(Key key) throws IOException {
    Verified verified = verify(key);
    if (verified.problem() == null) {
      return verified.entry();
    }
    Path model = modelFile(key);
    LOG.log(
        Level.WARNING,
        "optimized model cache entry {0} is corrupt ({1}); rebuilding it",
        model,
        verified.problem());
    CacheFiles.delete(model);
    CacheFiles.delete(sidecar(key));
    return Optional.empty();
  }

  /** An entry as found: absent, intact, or corrupt for the reason {@code problem} gives. */
  private record Verified(Optional<Entry> entry, String problem) {}

  private Verified verify(Key key) {
    Path sidecar = sidecar(key);
    Path model = modelFile(key);
    if (!Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)
        && !Files.exists(model, LinkOption.NOFOLLOW_LINKS)) {
      return new Verified(Optional.empty(), null);
    }
    if (!Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
      return new Verified(Optional.empty(), "its sidecar is missing");
    }
    if (!Files.isRegularFile(sidecar)) {
      return new Verified(Optional.empty(), "its sidecar is not a file");
    }
    Properties properties = new Properties();
    String problem;
    try (InputStream in = Files.newInputStream(sidecar)) {
      properties.load(in);
      problem = check(key, properties, model);
    } catch (IllegalArgumentException | IOException e) {
      problem = "it cannot be read: " + e.getMessage();
    }
    if (problem != null) {
      return new Verified(Optional.empty(), problem);
    }
    Map<String, String> notes = new LinkedHashMap<>();
    for (String name : properties.stringPropertyNames()) {
      if (name.startsWith(NOTE)) {
        notes.put(name.substring(NOTE.length()), properties.getProperty(name));
      }
    }
    return new Verified(Optional.of(new Entry(model, notes)), null);
  }

  private String check(Key key, Properties properties, Path model) throws IOException {
    if (!key.canonical().equals(properties.getProperty(KEY))) {
      return "its sidecar records another key";
    }
    if (!Files.exists(model, LinkOption.NOFOLLOW_LINKS)) {
      return "the model file is missing";
    }
    if (!Files.isRegularFile(model)) {
      return "the model file is not a file";
    }
    String size = properties.getProperty(SIZE, "");
    if (!size.equals(Long.toString(Files.size(model)))) {
      return "the model file has " + Files.size(model) + " bytes, the sidecar records " + size;
    }
    String digest = properties.getProperty(SHA256, "");
    String actual = digests.sha256(model);
    if (!digest.equals(actual)) {
      return "the model file's SHA-256 is " + actual + ", the sidecar records " + digest;
    }
    return null;
  }

  /** Returns a new temporary file name in the cache directory, for a builder to write into. */
  public Path temporaryFile(Key key) throws IOException {
    Files.createDirectories(directory);
    return directory.resolve(key.id() + "." + UUID.randomUUID() + ".tmp");
  }

  /**
   * Moves a built model into the cache under the key, with its notes, replacing any entry, and
   * returns the entry. {@code built} must be a file in the cache directory (see {@link
   * #temporaryFile}); it is moved, not copied.
   */
  public Entry store(Key key, Path built, Map<String, String> notes) throws IOException {
    Files.createDirectories(directory);
    Path model = modelFile(key);
    Properties properties = new Properties();
    properties.setProperty(KEY, key.canonical());
    properties.setProperty(SIZE, Long.toString(Files.size(built)));
    properties.setProperty(SHA256, Digests.sha256(built));
    notes.forEach((name, value) -> properties.setProperty(NOTE + name, value));
    // the sidecar goes first out of the way: a model without one is never served
    CacheFiles.delete(sidecar(key));
    CacheFiles.move(built, model);
    Path temporarySidecar = temporaryFile(key);
    try (OutputStream out = Files.newOutputStream(temporarySidecar)) {
      properties.store(out, "Hangar optimized model: the key, the model file's size and SHA-256");
    }
    CacheFiles.move(temporarySidecar, sidecar(key));
    return new Entry(model, notes);
  }

  /** Copies a file into the cache's temporary space, for {@link #store}. */
  public Path copyIn(Key key, Path file) throws IOException {
    Path temporary = temporaryFile(key);
    Files.copy(file, temporary, StandardCopyOption.REPLACE_EXISTING);
    return temporary;
  }

  /** A builder of one entry. */
  @FunctionalInterface
  public interface Builder<T> {
    /** Builds, under the entry's lock. */
    T build() throws IOException;
  }

  /**
   * Thrown by {@link #locked} when the cache directory cannot be written: it cannot be created, the
   * process may not write in it, or the entry's lock file cannot be opened.
   */
  public static final class NotWritableException extends IOException {
    private static final long serialVersionUID = 1L;

    NotWritableException(Path directory, String reason, Throwable cause) {
      super(directory + " cannot be written: " + reason, cause);
    }
  }

  /**
   * Runs {@code work} holding the key's lock: one thread of this process at a time, and one process
   * at a time where the file system supports file locks.
   *
   * @throws NotWritableException when the cache directory cannot be written; {@code work} did not
   *     run
   */
  public <T> T locked(Key key, Builder<T> work) throws IOException {
    ReentrantLock lock = locks.computeIfAbsent(key.id(), id -> new ReentrantLock());
    lock.lock();
    try (FileChannel channel = openLock(key)) {
      FileLock fileLock;
      try {
        fileLock = channel.lock();
      } catch (OverlappingFileLockException e) {
        // another cache object of this process holds it; the atomic moves keep entries whole
        fileLock = null;
      }
      if (fileLock != null) {
        // no one else writes this key's temporary files now: these are a killed build's
        deleteLeftovers(key);
      }
      try {
        return work.build();
      } finally {
        if (fileLock != null) {
          fileLock.release();
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the key's temporary files that a process killed while building left behind; best
   * effort, as what stays only takes room.
   */
  private void deleteLeftovers(Key key) {
    String prefix = key.id() + ".";
    try (DirectoryStream<Path> leftovers =
        Files.newDirectoryStream(
            directory,
            file -> {
              String name = file.getFileName().toString();
              return name.startsWith(prefix) && name.endsWith(".tmp");
            })) {
      for (Path leftover : leftovers) {
        CacheFiles.delete(leftover);
        LOG.log(Level.DEBUG, "deleted {0}, left by a build that was stopped", leftover);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "cannot delete leftovers in {0}: {1}", directory, e.getMessage());
    }
  }

  private FileChannel openLock(Key key) throws NotWritableException {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new NotWritableException(directory, CacheFiles.describe(e), e);
    }
    // the lock file alone may be writable (left by an earlier run) in a directory that is not
    if (!Files.isWritable(directory)) {
      throw new NotWritableException(directory, "this process may not create files in it", null);
    }
    try {
      return CacheFiles.openLock(directory.resolve(key.id() + ".lock"));
    } catch (IOException e) {
      throw new NotWritableException(directory, CacheFiles.describe(e), e);
    }
  }
}
