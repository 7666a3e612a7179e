package dev.hangar.backend.torchscript;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.testkit.ReadOnlyTree;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend never downloads: in a fresh JVM with a cold cache, an empty home directory and every
 * connection recorded and refused, it unpacks libtorch from the class path into the configured
 * cache, loads and runs a model, and asks for no connection at all. A second JVM on the same cache
 * unpacks nothing, and a third serves from it made read-only.
 */
class OfflineTest {
  @TempDir Path cache;
  @TempDir Path home;
  @TempDir Path work;

  @Test
  void aColdAWarmAndAReadOnlyStartLoadLibTorchFromTheCacheWithoutAnyConnection() throws Exception {
    Properties cold = runProbe("cold");
    assertThat(cold.getProperty("attempts")).as("connections asked for").isEmpty();
    assertThat(cold.getProperty("control"))
        .as("the recorder sees connections")
        .contains("hangar-offline-probe.invalid");
    assertThat(cold.getProperty("ai.djl.offline")).isEqualTo("true");
    Path nativeDirectory = Path.of(cold.getProperty("PYTORCH_LIBRARY_PATH"));
    assertThat(nativeDirectory).startsWith(cache.resolve("torchscript").resolve("native"));
    assertThat(nativeDirectory.resolve(System.mapLibraryName("torch_cpu"))).isRegularFile();
    assertThat(nativeDirectory.resolve(System.mapLibraryName("djl_torch"))).isRegularFile();
    assertThat(nativeDirectory.resolve(".complete")).isRegularFile();
    assertThat(Float.parseFloat(cold.getProperty("output"))).isBetween(0f, 1f);
    // DJL's own cache (~/.djl.ai) stays untouched; JNA, which DJL uses to look for CUDA, leaves an
    // empty ~/.cache/JNA/temp behind after unpacking and deleting its dispatch library
    assertThat(home.resolve(".djl.ai")).doesNotExist();
    assertThat(regularFiles(home)).as("files written to the home directory").isEmpty();

    FileTime unpacked =
        Files.getLastModifiedTime(nativeDirectory.resolve(System.mapLibraryName("torch_cpu")));
    Properties warm = runProbe("warm");
    assertThat(warm.getProperty("attempts")).isEmpty();
    assertThat(warm.getProperty("PYTORCH_LIBRARY_PATH")).isEqualTo(nativeDirectory.toString());
    assertThat(
            Files.getLastModifiedTime(nativeDirectory.resolve(System.mapLibraryName("torch_cpu"))))
        .as("libtorch is not unpacked again")
        .isEqualTo(unpacked);

    // a pre-built cache shipped read-only, as in a container image
    var listing = ReadOnlyTree.listing(cache);
    try (ReadOnlyTree readOnly = new ReadOnlyTree(cache)) {
      Properties readOnlyRun = runProbe("read-only");
      assertThat(readOnlyRun.getProperty("error.message"))
          .as("the load from a cache made read-only by " + readOnly.mechanism())
          .isNull();
      assertThat(readOnlyRun.getProperty("attempts")).isEmpty();
      assertThat(readOnlyRun.getProperty("PYTORCH_LIBRARY_PATH"))
          .isEqualTo(nativeDirectory.toString());
      assertThat(readOnlyRun.getProperty("output")).isEqualTo(cold.getProperty("output"));
    }
    assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
  }

  @Test
  void withoutANativeJarForThePlatformTheLoadNamesTheArtifactToAddAndFetchesNothing()
      throws Exception {
    String classPath =
        Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> !entry.contains("pytorch-native-cpu"))
            .collect(Collectors.joining(File.pathSeparator));
    Properties report = runProbe("no-native", classPath);
    assertThat(report.getProperty("error.category")).isEqualTo("BACKEND_FAILURE");
    assertThat(report.getProperty("error.message"))
        .contains(
            "ai.djl.pytorch:pytorch-native-cpu:2.7.1 with classifier "
                + NativeArtifacts.classifier(
                    System.getProperty("os.name"), System.getProperty("os.arch")))
        .contains("never downloads");
    assertThat(report.getProperty("attempts")).isEmpty();
    assertThat(cache.resolve("torchscript")).doesNotExist();
  }

  private Properties runProbe(String label) throws IOException, InterruptedException {
    return runProbe(label, System.getProperty("java.class.path"));
  }

  private Properties runProbe(String label, String classPath)
      throws IOException, InterruptedException {
    Path report = work.resolve(label + ".properties");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Duser.home=" + home,
            "-Dhttp.proxyHost=127.0.0.1",
            "-Dhttp.proxyPort=9",
            "-Dhttps.proxyHost=127.0.0.1",
            "-Dhttps.proxyPort=9",
            "-cp",
            classPath,
            OfflineLoadProbe.class.getName(),
            cache.toString(),
            SampleModels.MODELS
                .resolve("quality_predictor_torchscript/1/model.pt")
                .toAbsolutePath()
                .toString(),
            report.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("probe output: " + output).isZero();
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(report)) {
      properties.load(in);
    }
    return properties;
  }

  private static List<Path> regularFiles(Path directory) throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }
}
