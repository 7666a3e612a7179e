package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-shot commands on the sample repository, in process: outputs, one-line errors, exit codes.
 */
class OneShotCommandsTest {
  static final String MODELS = System.getProperty("hangar.models.dir", "../models");
  static final String CACHE = System.getProperty("hangar.cache.dir", "target/hangar-cache");
  static final String FEATURES =
      "{\"features\": [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]}";

  @TempDir Path temporary;

  /** Asserts that {@code result} failed (exit 1), saying only {@code error}. */
  private static void assertFailedWith(CliRunner.Result result, String error) {
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err().strip()).isEqualTo(error);
  }

  /** Asserts that {@code result} was a usage error (exit 2), saying only {@code error}. */
  private static void assertUsageErrorWith(CliRunner.Result result, String error) {
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().strip()).isEqualTo(error);
  }

  private static CliRunner.Result hangar(String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--repo";
    all[args.length + 1] = MODELS;
    all[args.length + 2] = "--cache-dir";
    all[args.length + 3] = CACHE;
    return CliRunner.run(all);
  }

  @Test
  void inferPrintsTheOutputsAsV2Json() throws IOException {
    CliRunner.Result result = hangar("infer", "quality_predictor", "--input", FEATURES);
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("\"model_name\":\"quality_predictor\"")
        .contains("\"name\":\"ssim\"")
        .contains("\"shape\":[1,1]");
    String expected =
        Files.readAllLines(Path.of(MODELS, "reference", "quality_predictor.txt")).get(11).trim();
    float want = Float.parseFloat(expected);
    String data = result.out().replaceAll("(?s).*\"data\":\\[([^\\]]*)\\].*", "$1");
    assertThat(Float.parseFloat(data)).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5f));
  }

  @Test
  void aWrongDataTypeIsOneLineNamingTheInput() {
    CliRunner.Result result =
        hangar(
            "infer",
            "quality_predictor",
            "--input",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"INT64\", \"shape\": [1, 10], \"data\": [1,2,3,4,5,6,7,8,9,10]}]}");
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err())
        .contains(
            "error: model 'quality_predictor': input 'features' has datatype INT64 but the model expects FP32");
  }

  @Test
  void aWrongShapeIsOneLineNamingTheInput() {
    CliRunner.Result result =
        hangar("infer", "quality_predictor", "--input", "{\"features\": [[0.1, 0.2]]}");
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err())
        .contains("input 'features' has shape [1, 2] but the model expects [-1, 10]");
  }

  @Test
  void inputJsonThatDoesNotParseIsOneLineSayingWhere() {
    CliRunner.Result twice =
        hangar(
            "infer", "quality_predictor", "--input", "{\"features\": [[1]], \"features\": [[2]]}");
    assertUsageErrorWith(
        twice, "error: --input is not valid JSON: Duplicate field 'features' at line 1, column 31");
    CliRunner.Result cut = hangar("infer", "quality_predictor", "--input", "{\"features\": [[1]");
    assertThat(cut.exitCode()).isEqualTo(2);
    assertThat(cut.err().strip())
        .isEqualTo(
            "error: --input is not valid JSON: Unexpected end-of-input: expected close marker for"
                + " Array (start marker at line 1, column 14) at line 1, column 18");
  }

  @Test
  void anUnknownInputNameIsAUsageErrorAsWithInputNpy() {
    // it exited 1 with --input, 2 with --input-npy
    assertUsageErrorWith(
        hangar("infer", "quality_predictor", "--input", "{\"pixels\": [[1]]}"),
        "error: unknown input 'pixels'; the model's inputs are [features]");
  }

  @Test
  void aV2RequestsOutputsPointToTheOutputOption() {
    CliRunner.Result result =
        hangar(
            "infer",
            "quality_predictor",
            "--input",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
                + " \"data\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}], \"outputs\": [{\"name\": \"ssim\"}]}");
    assertUsageErrorWith(
        result,
        "error: --input holds \"outputs\", which hangar infer does not take from it; name the"
            + " outputs to print with --output");
  }

  @Test
  void aV2RequestsParametersAndUnknownFieldsAreRefusedAndItsIdLetThrough() {
    String inputs =
        "\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
            + " \"data\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]";
    CliRunner.Result parameters =
        hangar(
            "infer",
            "quality_predictor",
            "--input",
            "{" + inputs + ", \"parameters\": {\"timeout\": 1000}}");
    assertUsageErrorWith(
        parameters,
        "error: --input holds \"parameters\", which hangar infer does not take from it: it"
            + " runs the request as it is, with no priority, timeout or binary output");
    CliRunner.Result typo =
        hangar("infer", "quality_predictor", "--input", "{" + inputs + ", \"ouputs\": []}");
    assertUsageErrorWith(
        typo,
        "error: --input holds \"ouputs\", which is not a field of a v2 request; it has"
            + " \"inputs\", and may have \"id\"");
    CliRunner.Result labelled =
        hangar("infer", "quality_predictor", "--input", "{\"id\": \"first\", " + inputs + "}");
    assertThat(labelled.exitCode()).as(labelled.err()).isZero();
    assertThat(labelled.out()).contains("\"ssim\"");
  }

  @Test
  void anUnknownModelIsOneLineWithASuggestion() {
    CliRunner.Result result = hangar("infer", "quality_predicter", "--input", FEATURES);
    assertFailedWith(
        result, "error: unknown model 'quality_predicter'; did you mean 'quality_predictor'?");
  }

  @Test
  void anUnknownConfigKeyIsOneLineNamingTheKeyAndTheFile() throws IOException {
    Path model = Files.createDirectories(temporary.resolve("repo/quality_predictor/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), model.resolve("model.onnx"));
    Files.writeString(
        temporary.resolve("repo/quality_predictor/config.yaml"), "max_batch_sise: 8\n");
    CliRunner.Result result =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            FEATURES,
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE);
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err())
        .contains("unknown key 'max_batch_sise'")
        .contains(temporary.resolve("repo/quality_predictor/config.yaml").toString())
        .contains("did you mean 'max_batch_size'");
  }

  @Test
  void anInputWithoutDataAZeroTimeoutAndAnUnknownHostAreOneLineEach() {
    assertUsageErrorWith(
        hangar(
            "infer",
            "quality_predictor",
            "--input",
            "{\"features\": {\"datatype\": \"FP32\", \"shape\": [1, 10]}}"),
        "error: input 'features' gives no \"data\"; write {\"data\": [...]} beside its shape");
    CliRunner.Result zero =
        hangar("infer", "quality_predictor", "--timeout", "0s", "--input", FEATURES);
    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.err().strip()).isEqualTo("error: --timeout must be positive, got 0s");
    assertFailedWith(
        CliRunner.run("models", "--url", "http://nonexistent.invalid:9"),
        "error: cannot connect to http://nonexistent.invalid:9: unknown host");
    Path missing = temporary.resolve("missing.json");
    CliRunner.Result noFile = hangar("infer", "quality_predictor", "--input", "@" + missing);
    assertThat(noFile.exitCode()).isEqualTo(2);
    assertThat(noFile.err().strip())
        .isEqualTo(
            "error: cannot read the --input file " + missing + ": no such file or directory");
  }

  @Test
  void modelsLoadExitsOneNamingTheModelsThatFailedAfterItsTable() throws IOException {
    Path model = Files.createDirectories(temporary.resolve("repo/quality_predictor/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), model.resolve("model.onnx"));
    Path broken = Files.createDirectories(temporary.resolve("repo/broken/1"));
    Files.writeString(broken.resolve("model.onnx"), "this is not a protobuf");
    Path typo = Files.createDirectories(temporary.resolve("repo/typo/1"));
    Files.copy(Path.of(MODELS, "quality_predictor/1/model.onnx"), typo.resolve("model.onnx"));
    Files.writeString(temporary.resolve("repo/typo/config.yaml"), "max_batch_sise: 4\n");
    CliRunner.Result result =
        CliRunner.run(
            "models",
            "--load",
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE);
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.out())
        .containsPattern("(?m)^broken +1\\* +onnx +FAILED ")
        .containsPattern("(?m)^quality_predictor +1\\* +onnx +READY ");
    assertThat(result.err().strip().lines().toList())
        .contains("error: 2 models failed to load: typo, broken (the table's DETAIL says why)");
  }

  @Test
  void aCorruptFileIsOneLineNamingTheFile() throws IOException {
    Path file = Files.createDirectories(temporary.resolve("repo/broken/1")).resolve("model.onnx");
    Files.writeString(file, "this is not a protobuf");
    CliRunner.Result result =
        CliRunner.run(
            "inspect",
            file.toString(),
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE);
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err()).contains(file.toString()).contains("corrupt");
    CliRunner.Result viaRepository =
        CliRunner.run(
            "infer",
            "broken",
            "--input",
            FEATURES,
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE);
    assertThat(viaRepository.exitCode()).isEqualTo(1);
    assertThat(viaRepository.err())
        .contains("model 'broken' version 1 failed to load")
        .contains(file.toString());
  }

  @Test
  void inspectPrintsFormatSignatureSizeAndLoadTime() {
    CliRunner.Result result =
        hangar("inspect", Path.of(MODELS, "routing_classifier/1/model.onnx").toString());
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("format:            onnx (onnxruntime 1.24.2)")
        .contains("input:             features  FP32 [-1, 15]")
        .contains("output:            tier_probabilities  FP32 [-1, 4]")
        .contains("size:")
        .contains("load time:");
    // a TorchScript file declares no signature: in its model directory, the config.yaml does
    CliRunner.Result torchScript =
        hangar("inspect", Path.of(MODELS, "quality_predictor_torchscript/1/model.pt").toString());
    assertThat(torchScript.exitCode()).as(torchScript.err()).isZero();
    assertThat(torchScript.out())
        .contains("format:            torchscript")
        .contains("input:             features  FP32 [-1, 10]");
    CliRunner.Result byName = hangar("inspect", "quality_predictor");
    assertThat(byName.exitCode()).as(byName.err()).isZero();
    assertThat(byName.out())
        .contains("warmup time:")
        .contains("memory (measured):")
        .contains("max batch size:    64");
  }

  @Test
  void inspectOfAPathThatIsNoFileIsAUsageErrorNotAnUnknownModel() {
    CliRunner.Result missing = hangar("inspect", "/no/such/model.pt");
    CliRunner.Result directory = hangar("inspect", MODELS);

    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err().strip())
        .isEqualTo("error: '/no/such/model.pt' is not a model file: no such file");
    assertThat(directory.exitCode()).isEqualTo(2);
    assertThat(directory.err()).contains("is not a model file: it is a directory");
  }

  @Test
  void aRepositoryThatIsNoDirectoryAndATokenForNothingAreUsageErrors() {
    CliRunner.Result missing = CliRunner.run("models", "--repo", "/no/such/repository");
    CliRunner.Result token = hangar("models", "--admin-token", "s3cret");

    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err().strip())
        .isEqualTo("error: --repo /no/such/repository: no such directory");
    assertThat(token.exitCode()).isEqualTo(2);
    assertThat(token.err())
        .contains("--admin-token applies with --url and --load")
        .doesNotContain("s3cret");
  }

  @Test
  void aModelVersionBelowOneIsAUsageError() {
    CliRunner.Result infer =
        hangar("infer", "quality_predictor", "--input", "{}", "--model-version", "0");
    CliRunner.Result bench = hangar("bench", "quality_predictor", "--model-version", "-1");
    CliRunner.Result batch = hangar("bench", "quality_predictor", "--batch", "0");

    assertThat(infer.exitCode()).isEqualTo(2);
    assertThat(infer.err()).contains("--model-version must be 1 or more").contains("got 0");
    assertThat(bench.exitCode()).isEqualTo(2);
    assertThat(bench.err()).contains("--model-version must be 1 or more").contains("got -1");
    assertThat(batch.exitCode()).isEqualTo(2);
    assertThat(batch.err()).contains("--batch must be at least 1, got 0");
  }

  @Test
  void modelsListsTheRepository() {
    CliRunner.Result result = hangar("models");
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("MODEL")
        .contains("quality_predictor")
        .contains("routing_classifier")
        .contains("AVAILABLE");
  }

  @Test
  void usageErrorsExitWithTwo() {
    assertThat(CliRunner.run("infer").exitCode()).isEqualTo(2);
    assertThat(CliRunner.run("no-such-command").exitCode()).isEqualTo(2);
    assertThat(CliRunner.run("infer", "m", "--input", "{}", "--memory", "lots").exitCode())
        .isEqualTo(2);
  }
}
