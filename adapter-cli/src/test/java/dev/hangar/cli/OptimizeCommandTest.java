package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.core.config.ConfigFiles;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hangar optimize} in process on the sample models, and a repository model whose config asks
 * for optimization served through the real ONNX backend.
 */
class OptimizeCommandTest {
  static final String MODELS = OneShotCommandsTest.MODELS;

  @TempDir Path temporary;

  private CliRunner.Result hangar(String... args) {
    String[] all = new String[args.length + 8];
    System.arraycopy(args, 0, all, 0, args.length);
    String[] common = {
      "--repo",
      MODELS,
      "--cache-dir",
      temporary.resolve("cache").toString(),
      "--runs",
      "5",
      "--warmup-runs",
      "1"
    };
    System.arraycopy(common, 0, all, args.length, common.length);
    return CliRunner.run(java.util.Arrays.copyOf(all, args.length + common.length));
  }

  @Test
  void optimizePrintsEveryVariantAndWritesTheModelAndASuggestedConfig() throws IOException {
    Path out = temporary.resolve("out");
    CliRunner.Result result =
        hangar(
            "optimize",
            "quality_predictor",
            "--int8",
            "--per-channel",
            "--tolerance",
            "0.05",
            "--out",
            out.toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("model      quality_predictor")
        .contains("options    level all, int8 per-channel (tolerance 0.05)")
        .containsPattern("variant +file +load +b1 p50 +b1 p99 +b32 p50 +b32 p99 +max err +mean err")
        .containsPattern("(?m)^original ")
        .containsPattern("(?m)^level all ")
        .containsPattern("(?m)^level all \\+ int8 per-channel \\* ")
        .contains("level all + int8 per-channel: file ")
        .contains("int8 variant: 2 Gemm quantized to int8")
        .contains("written    " + out.resolve("quality_predictor.optimized.onnx"))
        .contains("suggested config.yaml (written to " + out.resolve("config.yaml") + ")");
    assertThat(out.resolve("quality_predictor.optimized.onnx")).isRegularFile();

    ModelConfig suggested = ModelConfig.from(ConfigFiles.read(out.resolve("config.yaml")));
    assertThat(suggested.optimization())
        .contains(new OptimizationOptions(Level.ALL, true, 0.05, Granularity.PER_CHANNEL));
    assertThat(suggested.maxBatchSize()).as("the model's own config is kept").contains(64);
    assertThat(suggested.parameters()).containsEntry("intra_op_threads", "1");

    // named by its file in a model's version directory, the model's config is kept as well
    Path byFile = temporary.resolve("by-file");
    CliRunner.Result fromFile =
        hangar(
            "optimize",
            Path.of(MODELS, "routing_classifier/1/model.onnx").toString(),
            "--level",
            "basic",
            "--out",
            byFile.toString());
    assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
    ModelConfig kept = ModelConfig.from(ConfigFiles.read(byFile.resolve("config.yaml")));
    assertThat(kept.maxBatchSize()).contains(64);
    assertThat(kept.loadAtStartup()).isTrue();
    assertThat(kept.inputs()).hasSize(1);
  }

  @Test
  void jsonCarriesTheSameReport() throws IOException {
    Path file = Path.of(MODELS, "routing_classifier/1/model.onnx");
    CliRunner.Result result =
        hangar(
            "optimize",
            file.toString(),
            "--level",
            "extended",
            "--batch-sizes",
            "1,8",
            "--json",
            "--out",
            temporary.resolve("out").toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(result.out());
    JsonNode report = json.get("optimization");
    assertThat(report.get("model").asText()).isEqualTo("model");
    assertThat(report.get("variants")).hasSize(2);
    assertThat(report.get("variants").get(1).get("name").asText()).isEqualTo("level extended");
    assertThat(report.get("variants").get(1).get("latency").findValuesAsText("batch_size"))
        .containsExactly("1", "8");
    assertThat(report.get("variants").get(1).get("accuracy").get("max_abs_error").asDouble())
        .isLessThan(1e-5);
    assertThat(report.get("suggested_optimization").get("level").asText()).isEqualTo("extended");
    assertThat(json.get("suggested_config").asText()).contains("level: extended");
  }

  @Test
  void tuneMeasuresThreadsAndBatchSizesAndSuggestsThem() throws IOException {
    Path out = temporary.resolve("tuned");
    CliRunner.Result result =
        hangar(
            "optimize",
            "routing_classifier",
            "--tune",
            "--threads",
            "1,2",
            "--p99",
            "1s",
            "--out",
            out.toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("p99 target 1000.00 ms")
        .containsPattern("threads +batch +p50 +p99 +rows/s")
        .contains("best")
        .contains("the most rows per second among the 14 of 14 settings");
    assertThat(result.out()).doesNotContain("variant ");
    ModelConfig suggested = ModelConfig.from(ConfigFiles.read(out.resolve("config.yaml")));
    assertThat(suggested.maxBatchSize())
        .hasValueSatisfying(size -> assertThat(size).isIn(List.of(1, 2, 4, 8, 16, 32, 64)));
    assertThat(suggested.parameters()).containsKey("intra_op_threads");
    assertThat(suggested.optimization()).isEmpty();
  }

  @Test
  void badOptionsAreUsageErrors() {
    CliRunner.Result level = hangar("optimize", "quality_predictor", "--level", "fast");
    assertThat(level.exitCode()).isEqualTo(2);
    assertThat(level.err()).contains("--level: unknown optimization level 'fast'");

    CliRunner.Result perChannel = hangar("optimize", "quality_predictor", "--per-channel");
    assertThat(perChannel.exitCode()).isEqualTo(2);
    assertThat(perChannel.err()).contains("--tolerance and --per-channel apply to --int8");

    CliRunner.Result unknown = hangar("optimize", "quality_predicter");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).contains("did you mean 'quality_predictor'");
  }

  private CliRunner.Result optimizeInto(String target, String repository, Path out) {
    return CliRunner.run(
        "optimize",
        target,
        "--repo",
        repository,
        "--cache-dir",
        temporary.resolve("cache").toString(),
        "--out",
        out.toString());
  }

  @Test
  void anOutputDirectoryInsideTheRepositoryIsRefusedBeforeAnythingIsWritten() throws IOException {
    // a repository of its own: were the check to fail, the run would write into its model
    Path model = Files.createDirectories(temporary.resolve("repo/quality_predictor/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), model.resolve("model.onnx"));
    Path config = temporary.resolve("repo/quality_predictor/config.yaml");
    Files.writeString(config, "# kept as written\n");
    Path repository = temporary.resolve("repo").toAbsolutePath().normalize();
    for (Path out :
        List.of(
            repository.resolve("quality_predictor"), repository.resolve("quality_predictor/1"))) {
      CliRunner.Result result = optimizeInto("quality_predictor", repository.toString(), out);
      assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
      assertThat(result.err())
          .startsWith(
              "error: --out "
                  + out
                  + " is inside the model repository "
                  + repository
                  + "; write the optimized model elsewhere and copy what you keep");
    }
    // a FILE in a version directory: the repository it lies in, whatever --repo says
    Path file = model.resolve("model.onnx");
    CliRunner.Result byFile =
        optimizeInto(file.toString(), MODELS, repository.resolve("quality_predictor/3"));
    assertThat(byFile.exitCode()).as(byFile.err()).isEqualTo(2);
    assertThat(byFile.err()).contains("is inside the model repository " + repository);
    // a link into the repository is the repository
    Path link = Files.createSymbolicLink(temporary.resolve("link"), repository);
    CliRunner.Result linked =
        optimizeInto("quality_predictor", repository.toString(), link.resolve("optimized"));
    assertThat(linked.exitCode()).as(linked.err()).isEqualTo(2);
    assertThat(Files.exists(repository.resolve("quality_predictor/3"))).isFalse();
    assertThat(Files.exists(repository.resolve("optimized"))).isFalse();
    assertThat(config).hasContent("# kept as written\n");
    try (var files = Files.list(model)) {
      assertThat(files).containsExactly(model.resolve("model.onnx"));
    }
  }

  @Test
  void aConfigWithOptimizationIsOptimizedAtLoadAndCached() throws IOException {
    Path repository = temporary.resolve("repo");
    Path version = Files.createDirectories(repository.resolve("quality_predictor/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), version.resolve("model.onnx"));
    Files.writeString(
        repository.resolve("quality_predictor/config.yaml"),
        Files.readString(Path.of(MODELS, "quality_predictor/config.yaml"))
            + "optimization: {level: all, int8: true, int8_tolerance: 0.05, per_channel: true}\n");
    Path cache = temporary.resolve("cache");
    String features =
        "{\"features\": [[0.6483104228973389, 0.2147577404975891, 0.94930499792099,"
            + " 0.012108683586120605, 0.1808772087097168, 0.18771517276763916,"
            + " 0.2927446961402893, 0.5996986627578735, 0.12125527858734131,"
            + " 0.11479580402374268]]}";

    java.nio.file.attribute.FileTime built = null;
    for (int run = 0; run < 2; run++) {
      CliRunner.Result result =
          CliRunner.run(
              "infer",
              "quality_predictor",
              "--input",
              features,
              "--repo",
              repository.toString(),
              "--cache-dir",
              cache.toString());
      assertThat(result.exitCode()).as(result.err()).isZero();
      String data = result.out().replaceAll("(?s).*\"data\":\\[([^\\]]*)\\].*", "$1");
      // PyTorch's output for this row is 0.5176595; int8 stays within the configured tolerance
      assertThat(Double.parseDouble(data))
          .isCloseTo(0.5176595, org.assertj.core.data.Offset.offset(0.05));
      List<Path> optimized;
      try (Stream<Path> files = Files.list(cache.resolve("onnx/optimized"))) {
        optimized = files.filter(p -> p.getFileName().toString().endsWith(".onnx")).toList();
      }
      assertThat(optimized).hasSize(1);
      java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(optimized.get(0));
      if (built != null) {
        assertThat(modified).as("the second load reuses the first one's file").isEqualTo(built);
      }
      built = modified;
      assertThat(Files.size(optimized.get(0)))
          .isLessThan(Files.size(version.resolve("model.onnx")));
    }
  }
}
