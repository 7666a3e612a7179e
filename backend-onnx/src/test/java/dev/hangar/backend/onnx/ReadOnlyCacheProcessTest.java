package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.testkit.ReadOnlyTree;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache directory that cannot be written, as a container ships a pre-built one: each load runs in
 * a fresh JVM ({@link CacheLoadProbe}), since ONNX Runtime's native library is loaded once per
 * process. A complete cache is used as it is, without a write; an empty one still serves, with a
 * warning for each thing it costs.
 */
class ReadOnlyCacheProcessTest {
  static final Path MODEL =
      Path.of(System.getProperty("hangar.models.dir", "../models"))
          .resolve("quality_predictor/1/model.onnx")
          .toAbsolutePath();

  @TempDir Path cache;
  @TempDir Path work;
  private ReadOnlyTree readOnly;

  @AfterEach
  void makeWritableAgain() throws IOException {
    if (readOnly != null) {
      readOnly.close();
    }
  }

  /** The report and what the probe printed. */
  private record Run(Properties report, String output) {}

  @Test
  void aCompleteCacheServesEveryLoadReadOnlyAndCreatesNoLockFile() throws Exception {
    Run cold = probe("cold");
    assertThat(cold.report().getProperty("error.message")).isNull();
    Path nativeDirectory = new OnnxNativeLibrary(cache.resolve("onnx")).nativeDirectory();
    assertThat(cold.report().getProperty("onnxruntime.native.path"))
        .isEqualTo(nativeDirectory.toString());
    Path optimized = Path.of(cold.report().getProperty("optimized.file"));
    assertThat(optimized).startsWith(cache.resolve("onnx/optimized"));

    // a cache copied without the writers' lock files: reading it must not create them again
    try (Stream<Path> files = Files.walk(cache)) {
      for (Path lock : files.filter(file -> file.toString().endsWith(".lock")).toList()) {
        Files.delete(lock);
      }
    }
    var listing = ReadOnlyTree.listing(cache);
    Run warm = probe("warm");
    assertThat(warm.report().getProperty("error.message")).isNull();
    assertThat(ReadOnlyTree.listing(cache)).as("the cache after a warm start").isEqualTo(listing);

    readOnly = new ReadOnlyTree(cache);
    Run readOnlyRun = probe("read-only");
    assertThat(readOnlyRun.report().getProperty("error.message"))
        .as("load error; probe output: " + readOnlyRun.output())
        .isNull();
    assertThat(readOnlyRun.report().getProperty("onnxruntime.native.path"))
        .isEqualTo(nativeDirectory.toString());
    assertThat(readOnlyRun.report().getProperty("optimized.file")).isEqualTo(optimized.toString());
    assertThat(readOnlyRun.report().getProperty("plain.output"))
        .isEqualTo(cold.report().getProperty("plain.output"))
        .isEqualTo(readOnlyRun.report().getProperty("optimized.output"));
    assertThat(readOnlyRun.output()).doesNotContain("WARNING");
    assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
  }

  @Test
  void anEmptyReadOnlyCacheStillServesWithAWarningForEachCost() throws Exception {
    var listing = ReadOnlyTree.listing(cache);
    readOnly = new ReadOnlyTree(cache);

    Run run = probe("empty");

    assertThat(run.report().getProperty("error.message"))
        .as("load error; probe output: " + run.output())
        .isNull();
    assertThat(run.report().getProperty("plain.output"))
        .isEqualTo(run.report().getProperty("optimized.output"));
    // ONNX Runtime unpacked its libraries itself, as it does without Hangar
    assertThat(run.report().getProperty("onnxruntime.native.path")).isEqualTo("null");
    assertThat(Path.of(run.report().getProperty("optimized.file")).startsWith(cache))
        .as("served from the cache")
        .isFalse();
    assertThat(run.report().getProperty("optimized.exists.after.close")).isEqualTo("false");
    List<String> warnings =
        run.output().lines().filter(line -> line.startsWith("WARNING")).toList();
    assertThat(warnings).as("probe output: " + run.output()).hasSize(2);
    assertThat(run.output())
        .contains("cannot unpack ONNX Runtime's native libraries into " + cache)
        .contains("into a temporary folder at every start")
        .contains("every start optimizes it again");
    assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
  }

  @Test
  void aLockOrMarkerThatIsADirectoryIsReplacedNotAFailedLoad() throws Exception {
    Path nativeDirectory = new OnnxNativeLibrary(cache.resolve("onnx")).nativeDirectory();
    Files.createDirectories(nativeDirectory.resolve(".lock").resolve("junk"));
    Files.createDirectories(nativeDirectory.resolve(".complete").resolve("junk"));

    Run run = probe("garbage");

    assertThat(run.report().getProperty("error.message"))
        .as("load error; probe output: " + run.output())
        .isNull();
    assertThat(run.report().getProperty("onnxruntime.native.path"))
        .isEqualTo(nativeDirectory.toString());
    assertThat(nativeDirectory.resolve(".complete")).isRegularFile();
    assertThat(nativeDirectory.resolve(".lock")).isRegularFile();
  }

  private Run probe(String label) throws IOException, InterruptedException {
    Path report = work.resolve(label + ".properties");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            CacheLoadProbe.class.getName(),
            cache.toString(),
            MODEL.toString(),
            report.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("probe output: " + output).isZero();
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(report)) {
      properties.load(in);
    }
    return new Run(properties, output);
  }
}
