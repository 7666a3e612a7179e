package dev.hangar.backend.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import dev.hangar.spi.CacheFiles;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Unpacks ONNX Runtime's native libraries from its jar once, into a cache directory keyed by the
 * ONNX Runtime version and platform, and points ONNX Runtime at them through its {@code
 * onnxruntime.native.path} property. Without this ONNX Runtime copies about 22 MB into a fresh
 * temporary folder on every start.
 *
 * <p>Nothing happens until {@link #environment()} is first called. A user who set {@code
 * onnxruntime.native.path} themselves keeps their setting.
 */
final class OnnxNativeLibrary {
  private static final System.Logger LOG = System.getLogger(OnnxNativeLibrary.class.getName());
  private static final String NATIVE_PATH_PROPERTY = "onnxruntime.native.path";
  private static final String MARKER = ".complete";

  private final Path cacheRoot;
  // guards the one-time unpacking and environment creation
  private final Object lock = new Object();
  private volatile OrtEnvironment environment;

  OnnxNativeLibrary(Path cacheRoot) {
    this.cacheRoot = cacheRoot;
  }

  /** Returns the ONNX Runtime version of the jar on the class path, without loading native code. */
  static String runtimeVersion() {
    String version = OrtEnvironment.class.getPackage().getImplementationVersion();
    return version == null ? "unknown" : version;
  }

  /**
   * Returns the process's ONNX Runtime environment, unpacking and loading the native libraries on
   * the first call.
   *
   * @throws ModelLoadException when the platform has no native library in the jar or loading it
   *     fails
   */
  OrtEnvironment environment() {
    OrtEnvironment current = environment;
    if (current != null) {
      return current;
    }
    synchronized (lock) {
      if (environment == null) {
        if (System.getProperty(NATIVE_PATH_PROPERTY) == null) {
          unpack()
              .ifPresent(
                  directory -> System.setProperty(NATIVE_PATH_PROPERTY, directory.toString()));
        }
        try {
          environment =
              OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "hangar");
        } catch (UnsatisfiedLinkError | RuntimeException e) {
          throw new ModelLoadException(
              ErrorCategory.BACKEND_FAILURE,
              "ONNX Runtime "
                  + runtimeVersion()
                  + " failed to load its native library: "
                  + e.getMessage(),
              e);
        }
      }
      return environment;
    }
  }

  /** Returns the directory the libraries are (or would be) unpacked to. */
  Path nativeDirectory() {
    return cacheRoot.resolve("native").resolve(runtimeVersion()).resolve(platform());
  }

  /**
   * Returns the directory holding a complete copy of the libraries, unpacking them first when
   * needed. A complete copy is used without writing anything, so a read-only cache works. Empty
   * when the copy is incomplete and the cache cannot be written (logged as a warning): ONNX Runtime
   * then unpacks the libraries into a temporary folder itself, as it does without Hangar.
   *
   * @throws ModelLoadException when the platform has no native library in the jar
   */
  Optional<Path> unpack() {
    String platform = platform();
    List<String> libraries = List.of(libraryFile("onnxruntime"), libraryFile("onnxruntime4j_jni"));
    String resourceDirectory = "ai/onnxruntime/native/" + platform + "/";
    ClassLoader loader = OrtEnvironment.class.getClassLoader();
    if (loader.getResource(resourceDirectory + libraries.get(0)) == null) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "com.microsoft.onnxruntime:onnxruntime:"
              + runtimeVersion()
              + " has no native library for "
              + platform
              + " ("
              + System.getProperty("os.name")
              + "/"
              + System.getProperty("os.arch")
              + "); it ships linux-x64, linux-aarch64, osx-aarch64 and win-x64."
              + " Set -Donnxruntime.native.path to a directory holding a build for this platform");
    }
    Path directory = nativeDirectory();
    Path marker = directory.resolve(MARKER);
    // no lock to read: the marker is moved into place last, and every library is checked against
    // the jar, so a copy another process is still writing never looks complete
    if (isComplete(directory, marker, libraries, resourceDirectory, loader)) {
      LOG.log(Level.DEBUG, "ONNX Runtime native libraries already unpacked in {0}", directory);
      return Optional.of(directory);
    }
    try {
      Files.createDirectories(directory);
      // other Hangar processes may unpack the same version at the same time
      try (FileChannel channel = CacheFiles.openLock(directory.resolve(".lock"));
          FileLock ignored = CacheFiles.lock(channel)) {
        if (isComplete(directory, marker, libraries, resourceDirectory, loader)) {
          return Optional.of(directory);
        }
        Properties sizes = new Properties();
        for (String library : libraries) {
          URL resource = loader.getResource(resourceDirectory + library);
          Path target = directory.resolve(library);
          Path temporary = directory.resolve(library + ".tmp");
          try (InputStream in = resource.openStream()) {
            Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
          }
          CacheFiles.move(temporary, target);
          sizes.setProperty(library, Long.toString(Files.size(target)));
        }
        Path temporaryMarker = directory.resolve(MARKER + ".tmp");
        try (var out = Files.newOutputStream(temporaryMarker)) {
          sizes.store(
              out, "ONNX Runtime " + runtimeVersion() + " native libraries, unpacked by Hangar");
        }
        CacheFiles.move(temporaryMarker, marker);
        LOG.log(
            Level.INFO,
            "unpacked ONNX Runtime {0} native libraries into {1}",
            runtimeVersion(),
            directory);
        return Optional.of(directory);
      }
    } catch (IOException e) {
      LOG.log(
          Level.WARNING,
          "cannot unpack ONNX Runtime''s native libraries into {0} ({1}): the cache directory"
              + " cannot be written, so ONNX Runtime unpacks them (about 22 MB) into a temporary"
              + " folder at every start",
          directory,
          CacheFiles.describe(e));
      return Optional.empty();
    }
  }

  /** Whether the libraries in {@code directory} are a complete copy of the jar's. */
  private static boolean isComplete(
      Path directory,
      Path marker,
      List<String> libraries,
      String resourceDirectory,
      ClassLoader loader) {
    Map<String, URL> resources = new LinkedHashMap<>();
    for (String library : libraries) {
      resources.put(library, loader.getResource(resourceDirectory + library));
    }
    return CacheFiles.isCompleteCopy(directory, marker, resources);
  }

  private static String libraryFile(String name) {
    return System.mapLibraryName(name);
  }

  /** ONNX Runtime's name for this platform, as used in its jar. */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName;
    if (os.contains("linux")) {
      osName = "linux";
    } else if (os.contains("mac") || os.contains("darwin")) {
      osName = "osx";
    } else if (os.contains("win")) {
      osName = "win";
    } else {
      osName = os.replace(' ', '-');
    }
    String archName =
        switch (arch) {
          case "amd64", "x86_64" -> "x64";
          case "aarch64", "arm64" -> "aarch64";
          default -> arch;
        };
    return osName + "-" + archName;
  }
}
