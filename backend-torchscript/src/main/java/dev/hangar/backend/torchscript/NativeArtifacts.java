package dev.hangar.backend.torchscript;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Where libtorch and DJL's JNI bridge are on the class path for this platform: the resources of
 * {@code ai.djl.pytorch:pytorch-native-cpu:<version>:<classifier>} and {@code
 * ai.djl.pytorch:pytorch-jni}. Finding them reads a few properties files and loads no native code.
 *
 * @param classifier the platform, as DJL names it: {@code linux-x86_64}, {@code osx-aarch64}, ...
 * @param nativeVersion libtorch's build version from the native jar, such as {@code 2.7.1-20250812}
 * @param flavor the native jar's flavor, {@code cpu}
 * @param libraries the file names of libtorch's libraries, in the native jar's order
 * @param jniVersion the JNI bridge's version, such as {@code 2.7.1-0.36.0}
 */
record NativeArtifacts(
    String classifier,
    String nativeVersion,
    String flavor,
    List<String> libraries,
    String jniVersion) {

  /** The libtorch version this backend is built and tested against. */
  static final String PYTORCH_VERSION = "2.7.1";

  /** The DJL version this backend is built and tested against. */
  static final String DJL_VERSION = "0.36.0";

  /** The platforms DJL publishes {@code pytorch-native-cpu} jars for. */
  static final List<String> PUBLISHED_CLASSIFIERS =
      List.of("linux-x86_64", "linux-aarch64", "osx-aarch64", "win-x86_64");

  private static final String NATIVE_PROPERTIES = "native/lib/pytorch.properties";
  private static final String JNI_PROPERTIES = "jnilib/pytorch.properties";

  /** Validates and copies. */
  NativeArtifacts {
    requireNonNull(classifier, "classifier is null");
    requireNonNull(nativeVersion, "nativeVersion is null");
    requireNonNull(flavor, "flavor is null");
    libraries = List.copyOf(libraries);
    requireNonNull(jniVersion, "jniVersion is null");
  }

  /** Returns the class path folder of libtorch's libraries. */
  String libraryResourceDirectory() {
    return "pytorch/" + flavor + "/" + classifier + "/";
  }

  /** Returns the class path name of the JNI bridge. */
  String jniResource() {
    return "jnilib/" + classifier + "/" + flavor + "/" + jniLibraryFileName();
  }

  /**
   * Returns the file name of DJL's JNI bridge on this platform, such as {@code libdjl_torch.so}.
   */
  static String jniLibraryFileName() {
    return System.mapLibraryName("djl_torch");
  }

  /** Returns a name for the unpacked directory that changes whenever any of the files may. */
  String directoryName() {
    return "pytorch-" + nativeVersion + "-" + flavor + "-" + classifier + "-jni-" + jniVersion;
  }

  /**
   * Returns the artifacts for the running platform.
   *
   * @throws ModelLoadException naming the artifact and classifier to add when there is none
   */
  static NativeArtifacts locate(ClassLoader loader) {
    return locate(
        loader, classifier(System.getProperty("os.name", ""), System.getProperty("os.arch", "")));
  }

  /**
   * Returns the artifacts for the given platform classifier.
   *
   * @throws ModelLoadException naming the artifact and classifier to add when there is none
   */
  static NativeArtifacts locate(ClassLoader loader, String classifier) {
    List<String> found = new ArrayList<>();
    Properties match = null;
    for (URL url : resources(loader, NATIVE_PROPERTIES)) {
      Properties properties = load(url);
      String jarClassifier = properties.getProperty("classifier", "");
      String flavor = properties.getProperty("flavor", "");
      found.add(flavor + "/" + jarClassifier);
      if (jarClassifier.equals(classifier)
          && flavor.startsWith("cpu")
          && properties.getProperty("placeholder") == null) {
        match = properties;
      }
    }
    if (match == null) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "no libtorch for this platform ("
              + classifier
              + ") is on the class path"
              + (found.isEmpty() ? "" : " (found " + found + ")")
              + ": add the Maven artifact ai.djl.pytorch:pytorch-native-cpu:"
              + PYTORCH_VERSION
              + " with classifier "
              + classifier
              + (PUBLISHED_CLASSIFIERS.contains(classifier)
                  ? ""
                  : " (DJL publishes it for " + String.join(", ", PUBLISHED_CLASSIFIERS) + " only)")
              + ". The TorchScript backend never downloads libtorch.");
    }
    String nativeVersion = match.getProperty("version", "");
    String flavor = match.getProperty("flavor");
    List<String> libraries = List.of(match.getProperty("libraries", "").split(","));
    String jniVersion = jniVersion(loader);
    NativeArtifacts artifacts =
        new NativeArtifacts(classifier, nativeVersion, flavor, libraries, jniVersion);
    if (!nativeVersion.startsWith(PYTORCH_VERSION + "-")
        && !nativeVersion.equals(PYTORCH_VERSION)) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "the libtorch on the class path is version "
              + nativeVersion
              + " but this backend needs "
              + PYTORCH_VERSION
              + ": use ai.djl.pytorch:pytorch-native-cpu:"
              + PYTORCH_VERSION
              + " with classifier "
              + classifier);
    }
    if (!jniVersion.equals(PYTORCH_VERSION + "-" + DJL_VERSION)) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "DJL's JNI bridge on the class path is ai.djl.pytorch:pytorch-jni:"
              + jniVersion
              + " but this backend needs ai.djl.pytorch:pytorch-jni:"
              + PYTORCH_VERSION
              + "-"
              + DJL_VERSION);
    }
    for (String library : libraries) {
      if (loader.getResource(artifacts.libraryResourceDirectory() + library) == null) {
        throw new ModelLoadException(
            ErrorCategory.BACKEND_FAILURE,
            "the pytorch-native-cpu jar for "
                + classifier
                + " lists "
                + library
                + " but does not contain it; the jar is damaged, download it again");
      }
    }
    if (loader.getResource(artifacts.jniResource()) == null) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "ai.djl.pytorch:pytorch-jni:"
              + jniVersion
              + " has no JNI bridge for "
              + classifier
              + "/"
              + flavor
              + " ("
              + artifacts.jniResource()
              + ")");
    }
    return artifacts;
  }

  private static String jniVersion(ClassLoader loader) {
    List<URL> urls = resources(loader, JNI_PROPERTIES);
    if (urls.isEmpty()) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "DJL's JNI bridge is not on the class path: add the Maven artifact"
              + " ai.djl.pytorch:pytorch-jni:"
              + PYTORCH_VERSION
              + "-"
              + DJL_VERSION
              + ". The TorchScript backend never downloads it.");
    }
    return load(urls.get(0)).getProperty("jni_version", "");
  }

  /** Returns DJL's name for a platform: {@code linux-x86_64}, {@code osx-aarch64}, ... */
  static String classifier(String osName, String osArch) {
    String os = osName.toLowerCase(Locale.ROOT);
    String prefix;
    if (os.startsWith("linux")) {
      prefix = "linux";
    } else if (os.startsWith("mac") || os.startsWith("darwin")) {
      prefix = "osx";
    } else if (os.startsWith("win")) {
      prefix = "win";
    } else {
      prefix = os.replace(' ', '_');
    }
    String arch =
        switch (osArch.toLowerCase(Locale.ROOT)) {
          case "amd64", "x86_64" -> "x86_64";
          case "aarch64", "arm64" -> "aarch64";
          default -> osArch.toLowerCase(Locale.ROOT);
        };
    return prefix + "-" + arch;
  }

  private static List<URL> resources(ClassLoader loader, String name) {
    try {
      return Collections.list(loader.getResources(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Properties load(URL url) {
    Properties properties = new Properties();
    try (InputStream in = url.openStream()) {
      properties.load(in);
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE, "cannot read " + url + ": " + e.getMessage(), e);
    }
    return properties;
  }
}
