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

  /**
   * The arguments of tuning routing_classifier on one thread under {@code p99}, then {@code more}.
   */
  private static String[] tuneOnOneThread(String p99, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of("optimize", "routing_classifier", "--tune", "--threads", "1", "--p99", p99));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** Runs {@code args} on the sample repository and this test's cache, with no other defaults. */
  private CliRunner.Result inRepository(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of(args));
    all.addAll(List.of("--repo", MODELS, "--cache-dir", temporary.resolve("cache").toString()));
    return CliRunner.run(all.toArray(String[]::new));
  }

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
        .contains("p99 target 1 s")
        .containsPattern("threads +batch +p50 +p99 +runs +rows/s")
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
    assertThat(perChannel.err()).contains("--per-channel applies to --int8; add --int8");

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

  /**
   * A repository of its own holding quality_predictor, its config.yaml extended by {@code extra}.
   */
  private Path repositoryWith(String extra) throws IOException {
    Path repository = temporary.resolve("own-repo");
    Path version = Files.createDirectories(repository.resolve("quality_predictor/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), version.resolve("model.onnx"));
    Files.writeString(
        repository.resolve("quality_predictor/config.yaml"),
        Files.readString(Path.of(MODELS, "quality_predictor/config.yaml")) + extra);
    return repository;
  }

  private CliRunner.Result optimizeIn(Path repository, String... args) {
    List<String> all =
        new java.util.ArrayList<>(
            List.of(
                "optimize",
                "quality_predictor",
                "--repo",
                repository.toString(),
                "--cache-dir",
                temporary.resolve("cache").toString(),
                "--runs",
                "5",
                "--warmup-runs",
                "1"));
    all.addAll(List.of(args));
    return CliRunner.run(all.toArray(String[]::new));
  }

  @Test
  void aSuggestionNeverServesWhatTheReportRefused() throws IOException {
    Path repository =
        repositoryWith("optimization: {level: all, int8: true, int8_tolerance: 0.5}\n");
    Path out = temporary.resolve("refused");
    // a tolerance no int8 model meets: int8 is refused, and level none leaves only the original
    CliRunner.Result result =
        optimizeIn(
            repository,
            "--level",
            "none",
            "--int8",
            "--tolerance",
            "1e-12",
            "--out",
            out.toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("no variant was kept; the original stays as it is")
        .contains("written    nothing (the original stays as it is)");
    String config = Files.readString(out.resolve("config.yaml"));
    assertThat(config)
        .contains("# the model's optimization: block is left out: the original was kept")
        .doesNotContain("int8")
        .doesNotContain("optimization:\n");
    ModelConfig suggested = ModelConfig.from(ConfigFiles.read(out.resolve("config.yaml")));
    assertThat(suggested.optimization()).as("the original, served as it is").isEmpty();
    assertThat(suggested.maxBatchSize()).as("the rest of the model's config is kept").contains(64);
  }

  @Test
  void tuneAloneMeasuresTheModelAsItsConfigServesIt() throws IOException {
    Path repository = repositoryWith("optimization: {level: all}\n");
    Path out = temporary.resolve("tuned-as-served");
    CliRunner.Result result =
        optimizeIn(repository, "--tune", "--threads", "1", "--p99", "10s", "--out", out.toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    // the suggestion keeps the block, so the tuned model is the one it builds (and caches)
    assertThat(ModelConfig.from(ConfigFiles.read(out.resolve("config.yaml"))).optimization())
        .contains(OptimizationOptions.graphOnly(Level.ALL));
    try (Stream<Path> files = Files.list(temporary.resolve("cache/onnx/optimized"))) {
      assertThat(files.filter(file -> file.toString().endsWith(".onnx"))).hasSize(1);
    }
  }

  @Test
  void aMissedP99TargetIsAFailureInTheUnitsGivenAndSuggestsNoTunedSetting() throws IOException {
    Path out = temporary.resolve("missed");
    CliRunner.Result result = hangar(tuneOnOneThread("1ns", "--out", out.toString()));

    assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
    assertThat(result.out())
        .contains("p99 target 1 ns")
        .containsPattern("chosen +nothing: no setting met the p99 target of 1 ns; the lowest p99")
        .doesNotContain("best");
    assertThat(result.err())
        .startsWith("error: no setting met the p99 target of 1 ns; the lowest p99 was ")
        .contains("(1 thread, batch ")
        .contains("; the suggested config.yaml has no tuned setting");
    ModelConfig suggested = ModelConfig.from(ConfigFiles.read(out.resolve("config.yaml")));
    assertThat(suggested.maxBatchSize()).as("the model's own").contains(64);

    CliRunner.Result json = hangar(tuneOnOneThread("1ns", "--json", "--out", out.toString()));
    assertThat(json.exitCode()).isEqualTo(1);
    JsonNode tuning = new ObjectMapper().readTree(json.out()).get("tuning");
    assertThat(tuning.get("target_met").asBoolean()).isFalse();
    assertThat(tuning.get("p99_target").asText()).isEqualTo("1 ns");
    assertThat(tuning.get("suggested_parameters")).isEmpty();
  }

  @Test
  void everyTuningSettingIsTimedAsManyTimesAsRunsSays() throws IOException {
    CliRunner.Result result =
        inRepository(
            tuneOnOneThread(
                "10s",
                "--runs",
                "150",
                "--warmup-runs",
                "1",
                "--json",
                "--out",
                temporary.resolve("runs").toString()));

    assertThat(result.exitCode()).as(result.err()).isZero();
    JsonNode trials = new ObjectMapper().readTree(result.out()).get("tuning").get("trials");
    assertThat(trials).hasSize(7);
    assertThat(trials.findValuesAsText("runs")).containsOnly("150");

    CliRunner.Result table =
        hangar(tuneOnOneThread("10s", "--out", temporary.resolve("runs").toString()));
    assertThat(table.out())
        .containsPattern("threads +batch +p50 +p99 +runs +rows/s")
        .contains("  p99 the slowest of 5; warmup up to 1 run or 1 s per setting");

    // the default count is a budget: past --max-time, a setting stops at 100 runs
    CliRunner.Result budgeted =
        inRepository(
            tuneOnOneThread(
                "10s",
                "--warmup-runs",
                "1",
                "--max-time",
                "1ns",
                "--json",
                "--out",
                temporary.resolve("runs").toString()));
    assertThat(budgeted.exitCode()).as(budgeted.err()).isZero();
    assertThat(
            new ObjectMapper()
                .readTree(budgeted.out())
                .get("tuning")
                .get("trials")
                .findValuesAsText("runs"))
        .containsOnly("100");
  }

  @Test
  void helpSaysWhatAP99RestsOnAndTheDefaultsMeasureLongEnough() {
    CliRunner.Result help = CliRunner.run("optimize", "--help");

    assertThat(help.out().replaceAll("\\s+", " "))
        .contains("so a p99 rests on N samples: of 1000 it is the 11th slowest")
        .contains("Given, every run is made (unless --max-time is given too)")
        .contains("(default: 1000)")
        .contains("--max-time=DURATION")
        .contains("once 100 are made")
        .contains("(default: 3s)")
        .contains("(default: 10000)")
        .contains("--warmup-time=DURATION")
        .contains("a large one stops early (default: 1s)");
  }

  @Test
  void theTableSaysHowLatenciesWereMeasured() {
    CliRunner.Result result =
        hangar(
            "optimize",
            "routing_classifier",
            "--level",
            "basic",
            "--warmup-time",
            "2s",
            "--out",
            temporary.resolve("timed").toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains(
            "  timed runs per variant: b1 p99 the slowest of 5, b32 p99 the slowest of 5; warmup"
                + " up to 1 run or 2 s per batch size");
  }

  @Test
  void optionsOfAModeNotAskedForAndBadValuesAreUsageErrors() {
    java.util.Map<List<String>, String> refusals = new java.util.LinkedHashMap<>();
    refusals.put(List.of("--p99", "20ms"), "error: --p99 applies to --tune; add --tune");
    refusals.put(List.of("--threads", "2"), "error: --threads applies to --tune; add --tune");
    refusals.put(List.of("--tolerance", "0.1"), "error: --tolerance applies to --int8; add --int8");
    refusals.put(
        List.of("--tune", "--batch-sizes", "1,8"),
        "error: --batch-sizes applies to the variants of --level and --int8; --tune alone tries"
            + " batch sizes 1 to 64");
    refusals.put(
        List.of("--int8", "--tolerance", "Infinity"),
        "error: --tolerance must be a positive number, got Infinity");
    refusals.put(
        List.of("--int8", "--tolerance", "NaN"),
        "error: --tolerance must be a positive number, got NaN");
    refusals.put(
        List.of("--tune", "--threads", "0"), "error: --threads must each be at least 1, got [0]");
    refusals.put(List.of("--tune", "--p99", "0ms"), "error: --p99 must be positive, got 0ms");
    refusals.put(List.of("--runs", "0"), "error: --runs must be at least 1, got 0");
    refusals.put(List.of("--warmup-time", "0s"), "error: --warmup-time must be positive, got 0s");
    refusals.put(
        List.of("--batch-sizes", "0"), "error: --batch-sizes must each be at least 1, got [0]");
    refusals.forEach(
        (options, message) -> {
          List<String> args =
              new java.util.ArrayList<>(
                  List.of("optimize", "quality_predictor", "--repo", MODELS, "--cache-dir"));
          args.add(temporary.resolve("cache").toString());
          args.addAll(options);
          args.addAll(List.of("--out", temporary.resolve("never").toString()));
          CliRunner.Result result = CliRunner.run(args.toArray(String[]::new));
          assertThat(result.exitCode()).as(options + ": " + result.err()).isEqualTo(2);
          assertThat(result.err()).as(options.toString()).startsWith(message + "\n");
        });
    assertThat(temporary.resolve("never")).as("refused before anything is written").doesNotExist();
  }

  @Test
  void anOutputThatIsNotAWritableDirectoryIsRefusedBeforeAnythingIsMeasured() throws IOException {
    Path file = Files.writeString(temporary.resolve("afile"), "kept\n");

    CliRunner.Result aFile = hangar("optimize", "quality_predictor", "--out", file.toString());
    assertThat(aFile.exitCode()).as(aFile.err()).isEqualTo(2);
    assertThat(aFile.err())
        .isEqualTo(
            "error: --out " + file + " is a file; name a directory (it is created when missing)\n");

    Path below = file.resolve("sub");
    CliRunner.Result underAFile =
        hangar("optimize", "quality_predictor", "--tune", "--out", below.toString());
    assertThat(underAFile.exitCode()).as(underAFile.err()).isEqualTo(2);
    assertThat(underAFile.err())
        .isEqualTo(
            "error: --out "
                + below
                + " cannot be created: "
                + file
                + " is a file, not a directory\n");
    assertThat(underAFile.out()).as("nothing measured").isEmpty();
    assertThat(file).hasContent("kept");
  }

  @Test
  void aMistakeFoundAfterTheOutCheckLeavesNoOutDirectoryBehind() {
    Path fresh = temporary.resolve("fresh");
    CliRunner.Result unknown = hangar("optimize", "no_such_model", "--out", fresh.toString());
    assertThat(unknown.exitCode()).as(unknown.err()).isNotZero();
    assertThat(unknown.err()).contains("no_such_model");
    assertThat(fresh).doesNotExist();
  }

  @Test
  void aDirectoryThatCannotBeWrittenInIsRefusedBeforeAnythingIsMeasured() throws IOException {
    Path readOnly = Files.createDirectory(temporary.resolve("read-only"));
    // read-only for real, root included (chattr +i), or the test fails: it never skips
    try (dev.hangar.testkit.ReadOnlyTree tree = new dev.hangar.testkit.ReadOnlyTree(readOnly)) {
      CliRunner.Result denied =
          hangar("optimize", "quality_predictor", "--out", readOnly.toString());
      assertThat(denied.exitCode()).as(denied.err()).isEqualTo(2);
      assertThat(denied.err())
          .startsWith("error: --out " + readOnly + " is not a directory Hangar can write in: ");
      assertThat(denied.out()).as("nothing measured").isEmpty();
    }
  }

  @Test
  void aConfigThatCannotBeWrittenAtTheEndStillPrintsTheResults() throws IOException {
    Path out = temporary.resolve("late");
    // a directory where config.yaml goes, found only when it is written
    Files.writeString(
        Files.createDirectories(out.resolve("config.yaml")).resolve("in-the-way"), "");

    CliRunner.Result result =
        hangar("optimize", "quality_predictor", "--level", "basic", "--out", out.toString());

    assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
    assertThat(result.out())
        .containsPattern("(?m)^level basic \\* ")
        .contains("suggested config.yaml (not written: ")
        .contains("  optimization:");
    assertThat(result.err())
        .startsWith(
            "error: cannot write the suggested config to " + out.resolve("config.yaml") + ": ")
        .doesNotContain("Exception");
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files.map(path -> path.getFileName().toString()))
          .containsExactlyInAnyOrder("config.yaml", "quality_predictor.optimized.onnx");
    }
  }
}
