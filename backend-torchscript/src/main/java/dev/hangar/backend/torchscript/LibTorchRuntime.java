package dev.hangar.backend.torchscript;

import ai.djl.engine.Engine;
import ai.djl.pytorch.engine.PtEngineProvider;
import dev.hangar.spi.CacheFiles;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Loads libtorch through DJL without ever touching the network: the native libraries come from the
 * {@code pytorch-native-cpu} and {@code pytorch-jni} jars on the class path and are unpacked once
 * into {@code <cache>/native/<version>/}, a directory shared by every Hangar process using the same
 * cache. Later starts find them there and copy nothing.
 *
 * <p>Nothing happens until {@link #engine()} is first called, which the backend does on its first
 * model load. A user who points DJL at a libtorch of their own ({@code PYTORCH_LIBRARY_PATH} as an
 * environment variable or system property) keeps it, and nothing is unpacked.
 */
final class LibTorchRuntime {
  private static final System.Logger LOG = System.getLogger(LibTorchRuntime.class.getName());

  /** DJL's setting of the libtorch directory it loads from (environment or system property). */
  static final String LIBRARY_PATH_PROPERTY = "PYTORCH_LIBRARY_PATH";

  /** DJL's offline switch: no model zoo lookups, no telemetry, no native downloads. */
  static final String OFFLINE_PROPERTY = "ai.djl.offline";

  private static final String MARKER = ".complete";

  private final Path cacheRoot;
  private final ClassLoader loader;
  // guards the one-time unpacking and engine start
  private final Object lock = new Object();
  private volatile Engine engine;

  LibTorchRuntime(Path cacheRoot, ClassLoader loader) {
    this.cacheRoot = cacheRoot;
    this.loader = loader;
  }

  /** Returns the version of libtorch and DJL on the class path, without loading native code. */
  String engineVersion() {
    Properties properties = new Properties();
    URL url = loader.getResource("pytorch-engine.properties");
    if (url != null) {
      try (InputStream in = url.openStream()) {
        properties.load(in);
      } catch (IOException e) {
        // reported as unknown below
      }
    }
    return "PyTorch "
        + properties.getProperty("pytorch_version", "unknown")
        + " (libtorch, through DJL "
        + properties.getProperty("djl_version", "unknown")
        + ")";
  }

  /**
   * Returns DJL's PyTorch engine, unpacking and loading libtorch on the first call.
   *
   * @throws ModelLoadException naming the missing artifact when no libtorch fits this platform, or
   *     the cause when unpacking or loading fails
   */
  Engine engine() {
    Engine current = engine;
    if (current != null) {
      return current;
    }
    synchronized (lock) {
      if (engine == null) {
        engine = start();
      }
      return engine;
    }
  }

  private Engine start() {
    String presetLibraryPath = environmentOrProperty(LIBRARY_PATH_PROPERTY);
    String libraryPath;
    if (presetLibraryPath == null || presetLibraryPath.isEmpty()) {
      Path directory = unpack(NativeArtifacts.locate(loader));
      libraryPath = directory.toString();
      // DJL reads the libtorch location only from this JVM-wide setting (or the environment)
      System.setProperty(LIBRARY_PATH_PROPERTY, libraryPath);
    } else {
      libraryPath = presetLibraryPath;
      LOG.log(
          Level.INFO,
          "PYTORCH_LIBRARY_PATH is already set to {0}: libtorch is loaded from there",
          libraryPath);
    }
    String offline =
        System.getenv("DJL_OFFLINE") != null
            ? System.getenv("DJL_OFFLINE")
            : System.getProperty(OFFLINE_PROPERTY);
    if (offline == null) {
      // DJL's Engine class initializer calls home (EC2 metadata, telemetry) unless it is offline
      System.setProperty(OFFLINE_PROPERTY, "true");
    } else if (!Boolean.parseBoolean(offline)) {
      LOG.log(
          Level.WARNING,
          "DJL's offline mode is switched off by the user (DJL_OFFLINE or ai.djl.offline);"
              + " DJL may contact the network for telemetry");
    }
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    // DJL finds its engine and properties files through the context class loader: use ours, so that
    // a backend loaded from a plugin folder sees its own jars
    thread.setContextClassLoader(loader);
    try {
      Engine started = new PtEngineProvider().getEngine();
      LOG.log(Level.INFO, "libtorch {0} loaded from {1}", started.getVersion(), libraryPath);
      return started;
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "libtorch failed to load from " + libraryPath + ": " + e.getMessage(),
          e);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** Returns the directory libtorch is (or would be) unpacked to for the given artifacts. */
  Path nativeDirectory(NativeArtifacts artifacts) {
    return cacheRoot.resolve("native").resolve(artifacts.directoryName());
  }

  /**
   * Unpacks libtorch and the JNI bridge unless a complete copy is already there. A complete copy is
   * used without writing anything, so a read-only cache works.
   *
   * @throws ModelLoadException when the copy is incomplete and cannot be written
   */
  @SuppressWarnings("try") // the file lock is held for the block, never read
  Path unpack(NativeArtifacts artifacts) {
    Path directory = nativeDirectory(artifacts);
    List<Entry> entries = new ArrayList<>();
    for (String library : artifacts.libraries()) {
      entries.add(new Entry(artifacts.libraryResourceDirectory() + library, library));
    }
    entries.add(new Entry(artifacts.jniResource(), NativeArtifacts.jniLibraryFileName()));
    Path marker = directory.resolve(MARKER);
    // no lock to read: the marker is moved into place last, and every file is checked against the
    // jar, so a copy another process is still writing never looks complete
    if (isComplete(directory, marker, entries)) {
      LOG.log(Level.DEBUG, "libtorch already unpacked in {0}", directory);
      return directory;
    }
    try {
      Files.createDirectories(directory);
      // other Hangar processes may unpack the same version at the same time
      try (FileChannel channel = CacheFiles.openLock(directory.resolve(".lock"));
          FileLock ignored = CacheFiles.lock(channel)) {
        if (isComplete(directory, marker, entries)) {
          return directory;
        }
        CacheFiles.delete(marker);
        Properties sizes = new Properties();
        for (Entry entry : entries) {
          URL resource = loader.getResource(entry.resource());
          Path target = directory.resolve(entry.fileName());
          // a name DJL's library scan skips (it loads every *.so in the folder)
          Path temporary = directory.resolve(entry.fileName() + ".partial");
          CacheFiles.delete(temporary);
          try (InputStream in = resource.openStream()) {
            Files.copy(in, temporary);
          }
          CacheFiles.move(temporary, target);
          sizes.setProperty(entry.fileName(), Long.toString(Files.size(target)));
        }
        Path temporaryMarker = directory.resolve(MARKER + ".partial");
        try (OutputStream out = Files.newOutputStream(temporaryMarker)) {
          sizes.store(out, "libtorch " + artifacts.nativeVersion() + ", unpacked by Hangar");
        }
        CacheFiles.move(temporaryMarker, marker);
        LOG.log(
            Level.INFO,
            "unpacked libtorch {0} ({1}) into {2}",
            artifacts.nativeVersion(),
            artifacts.classifier(),
            directory);
        return directory;
      }
    } catch (IOException e) {
      // no fallback to a temporary folder: libtorch is about 450 MB to copy at every start, into
      // what is often a memory-backed tmpfs in a container
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "cannot unpack libtorch into "
              + directory
              + ": "
              + CacheFiles.describe(e)
              + ". The cache directory (--cache-dir) must be writable, or hold a complete copy"
              + " unpacked by an earlier Hangar run of the same version (with its .complete file)",
          e);
    }
  }

  private record Entry(String resource, String fileName) {}

  /** Whether the files in {@code directory} are a complete copy of the jar's. */
  private boolean isComplete(Path directory, Path marker, List<Entry> entries) {
    Map<String, URL> resources = new LinkedHashMap<>();
    for (Entry entry : entries) {
      resources.put(entry.fileName(), loader.getResource(entry.resource()));
    }
    return CacheFiles.isCompleteCopy(directory, marker, resources);
  }

  private static String environmentOrProperty(String name) {
    String value = System.getenv(name);
    return value != null ? value : System.getProperty(name);
  }
}
