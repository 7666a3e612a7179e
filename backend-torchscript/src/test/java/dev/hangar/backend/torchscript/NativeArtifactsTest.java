package dev.hangar.backend.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.testkit.ReadOnlyTree;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Finding libtorch on the class path and unpacking it, on fake native jars (folders with the same
 * layout and a few bytes per library), so that nothing here loads native code.
 */
class NativeArtifactsTest {
  @TempDir Path jar;
  @TempDir Path cache;

  @ParameterizedTest
  @CsvSource({
    "Linux, amd64, linux-x86_64",
    "Linux, aarch64, linux-aarch64",
    "Mac OS X, aarch64, osx-aarch64",
    "Windows 11, amd64, win-x86_64",
    "Linux, riscv64, linux-riscv64"
  })
  void platformsAreNamedAsDjlNamesThem(String os, String arch, String classifier) {
    assertThat(NativeArtifacts.classifier(os, arch)).isEqualTo(classifier);
  }

  @Test
  void theRealJarsOnTheTestClassPathAreFound() {
    NativeArtifacts artifacts = NativeArtifacts.locate(getClass().getClassLoader(), "linux-x86_64");
    assertThat(artifacts.nativeVersion()).startsWith("2.7.1-");
    assertThat(artifacts.jniVersion()).isEqualTo("2.7.1-0.36.0");
    assertThat(artifacts.libraries()).contains("libtorch_cpu.so", "libc10.so");
  }

  @Test
  void aPlatformWithoutNativeJarNamesTheArtifactAndClassifierToAdd() {
    assertThatThrownBy(() -> NativeArtifacts.locate(getClass().getClassLoader(), "linux-aarch64"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("no libtorch for this platform (linux-aarch64)")
        .hasMessageContaining("found [cpu/linux-x86_64]")
        .hasMessageContaining(
            "add the Maven artifact ai.djl.pytorch:pytorch-native-cpu:2.7.1 with classifier"
                + " linux-aarch64")
        .hasMessageContaining("never downloads");
  }

  @Test
  void anUnpublishedPlatformSaysSo() {
    assertThatThrownBy(() -> NativeArtifacts.locate(getClass().getClassLoader(), "linux-riscv64"))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("classifier linux-riscv64")
        .hasMessageContaining(
            "DJL publishes it for linux-x86_64, linux-aarch64, osx-aarch64, win-x86_64 only");
  }

  @Test
  void noNativeJarAtAllIsAClearLoadFailure() throws IOException {
    try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
      assertThatThrownBy(() -> NativeArtifacts.locate(empty, "linux-x86_64"))
          .isInstanceOf(ModelLoadException.class)
          .satisfies(
              e ->
                  assertThat(((HangarException) e).category())
                      .isEqualTo(ErrorCategory.BACKEND_FAILURE))
          .hasMessageContaining(
              "ai.djl.pytorch:pytorch-native-cpu:2.7.1 with classifier linux-x86_64");
    }
  }

  @Test
  void aMissingJniJarNamesIt() throws IOException {
    writeNativeJar("2.7.1-20250812");
    try (URLClassLoader loader = loader()) {
      assertThatThrownBy(() -> NativeArtifacts.locate(loader, "linux-x86_64"))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0");
    }
  }

  @Test
  void anotherLibTorchVersionIsRefused() throws IOException {
    writeNativeJar("2.5.1-20241120");
    writeJniJar("2.5.1-0.31.0");
    try (URLClassLoader loader = loader()) {
      assertThatThrownBy(() -> NativeArtifacts.locate(loader, "linux-x86_64"))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("version 2.5.1-20241120 but this backend needs 2.7.1");
    }
  }

  @Test
  void libTorchIsUnpackedOnceAndAgainOnlyWhenAFileIsDamaged() throws IOException {
    writeNativeJar("2.7.1-20250812");
    writeJniJar("2.7.1-0.36.0");
    try (URLClassLoader loader = loader()) {
      NativeArtifacts artifacts = NativeArtifacts.locate(loader, "linux-x86_64");
      LibTorchRuntime runtime = new LibTorchRuntime(cache, loader);
      Path directory = runtime.unpack(artifacts);
      assertThat(directory)
          .isEqualTo(
              cache
                  .resolve("native")
                  .resolve("pytorch-2.7.1-20250812-cpu-linux-x86_64-jni-2.7.1-0.36.0"));
      assertThat(directory.resolve("libtorch_cpu.so"))
          .hasContent("libtorch_cpu.so of 2.7.1-20250812");
      assertThat(directory.resolve(NativeArtifacts.jniLibraryFileName()))
          .hasContent("jni 2.7.1-0.36.0");
      assertThat(directory.resolve(".complete")).isRegularFile();

      FileTime old = FileTime.fromMillis(1_000_000_000_000L);
      for (String file : List.of("libtorch_cpu.so", "libc10.so")) {
        Files.setLastModifiedTime(directory.resolve(file), old);
      }
      runtime.unpack(artifacts);
      assertThat(Files.getLastModifiedTime(directory.resolve("libtorch_cpu.so"))).isEqualTo(old);

      Files.writeString(directory.resolve("libc10.so"), "trunc");
      runtime.unpack(artifacts);
      assertThat(directory.resolve("libc10.so")).hasContent("libc10.so of 2.7.1-20250812");
      try (var files = Files.list(directory)) {
        assertThat(files.map(path -> path.getFileName().toString()))
            .as("no partial files are left for DJL's library scan to load")
            .noneMatch(name -> name.endsWith(".partial"));
      }
    }
  }

  @Test
  void aCompleteCopyInAReadOnlyCacheIsUsedWithoutAnyWrite() throws IOException {
    writeNativeJar("2.7.1-20250812");
    writeJniJar("2.7.1-0.36.0");
    try (URLClassLoader loader = loader()) {
      NativeArtifacts artifacts = NativeArtifacts.locate(loader, "linux-x86_64");
      Path directory = new LibTorchRuntime(cache, loader).unpack(artifacts);
      // a cache copied without the writer's lock file: reading it must not create one
      Files.delete(directory.resolve(".lock"));
      var listing = ReadOnlyTree.listing(cache);

      assertThat(new LibTorchRuntime(cache, loader).unpack(artifacts)).isEqualTo(directory);
      assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
      try (ReadOnlyTree readOnly = new ReadOnlyTree(cache)) {
        assertThat(new LibTorchRuntime(cache, loader).unpack(artifacts))
            .as("unpack from a cache made read-only by " + readOnly.mechanism())
            .isEqualTo(directory);
        assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
      }
    }
  }

  @Test
  void anEmptyReadOnlyCacheFailsTheLoadSayingWhatTheCacheNeeds() throws IOException {
    writeNativeJar("2.7.1-20250812");
    writeJniJar("2.7.1-0.36.0");
    try (URLClassLoader loader = loader();
        ReadOnlyTree readOnly = new ReadOnlyTree(cache)) {
      NativeArtifacts artifacts = NativeArtifacts.locate(loader, "linux-x86_64");
      assertThatThrownBy(() -> new LibTorchRuntime(cache, loader).unpack(artifacts))
          .as("unpack into a cache made read-only by " + readOnly.mechanism())
          .isInstanceOf(ModelLoadException.class)
          .hasMessageStartingWith("cannot unpack libtorch into " + cache)
          .hasMessageContaining(
              "The cache directory (--cache-dir) must be writable, or hold a complete copy");
    }
  }

  @Test
  void aLockOrMarkerThatIsADirectoryIsReplacedNotAFailedLoad() throws IOException {
    writeNativeJar("2.7.1-20250812");
    writeJniJar("2.7.1-0.36.0");
    try (URLClassLoader loader = loader()) {
      NativeArtifacts artifacts = NativeArtifacts.locate(loader, "linux-x86_64");
      LibTorchRuntime runtime = new LibTorchRuntime(cache, loader);
      Path directory = runtime.nativeDirectory(artifacts);
      Files.createDirectories(directory.resolve(".lock").resolve("junk"));
      Files.createDirectories(directory.resolve(".complete").resolve("junk"));

      assertThat(runtime.unpack(artifacts)).isEqualTo(directory);
      assertThat(directory.resolve(".lock")).isRegularFile();
      assertThat(directory.resolve(".complete")).isRegularFile();
      assertThat(directory.resolve("libc10.so")).hasContent("libc10.so of 2.7.1-20250812");
    }
  }

  private URLClassLoader loader() throws IOException {
    return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
  }

  private void writeNativeJar(String version) throws IOException {
    Path properties = jar.resolve("native/lib/pytorch.properties");
    Files.createDirectories(properties.getParent());
    Files.writeString(
        properties,
        "version="
            + version
            + "\nflavor=cpu\nclassifier=linux-x86_64\nlibraries=libc10.so,libtorch_cpu.so\n");
    Path libraries = Files.createDirectories(jar.resolve("pytorch/cpu/linux-x86_64"));
    for (String library : List.of("libc10.so", "libtorch_cpu.so")) {
      Files.writeString(libraries.resolve(library), library + " of " + version);
    }
  }

  private void writeJniJar(String version) throws IOException {
    Path properties = jar.resolve("jnilib/pytorch.properties");
    Files.createDirectories(properties.getParent());
    Files.writeString(properties, "jni_version=" + version + "\n");
    Path library = jar.resolve("jnilib/linux-x86_64/cpu/" + NativeArtifacts.jniLibraryFileName());
    Files.createDirectories(library.getParent());
    Files.writeString(library, "jni " + version);
  }
}
