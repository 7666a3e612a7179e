package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hangar convert}: CoreML to ONNX, and what it refuses. */
class ConvertCommandTest {
  static final String MODELS = OneShotCommandsTest.MODELS;
  static final String CACHE = OneShotCommandsTest.CACHE;

  @TempDir Path temporary;

  @Test
  void convertsACoremlModelToOnnxThatServesTheSameOutputs() throws IOException {
    Path onnx = temporary.resolve("repo/quality_predictor/1/model.onnx");
    Files.createDirectories(onnx.getParent());
    CliRunner.Result result =
        CliRunner.run(
            "convert",
            Path.of(MODELS, "quality_predictor_coreml/1/model.mlmodel").toString(),
            onnx.toString(),
            "--cache-dir",
            CACHE);
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).contains("wrote " + onnx).contains("(onnx, ").contains("(coreml)");
    assertThat(Files.size(onnx)).isPositive();
    // as readable by others as a file written plainly here (a server may run as another user)
    Path plain = Files.writeString(temporary.resolve("plain.txt"), "");
    assertThat(Files.getPosixFilePermissions(onnx)).isEqualTo(Files.getPosixFilePermissions(plain));

    CliRunner.Result inspected = CliRunner.run("inspect", onnx.toString(), "--cache-dir", CACHE);
    assertThat(inspected.exitCode()).as(inspected.err()).isZero();
    assertThat(inspected.out())
        .contains("format:            onnx")
        .contains("input:             features  FP32 [-1, 10]");

    CliRunner.Result converted =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            OneShotCommandsTest.FEATURES,
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE);
    CliRunner.Result original =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            OneShotCommandsTest.FEATURES,
            "--repo",
            MODELS,
            "--cache-dir",
            CACHE);
    assertThat(converted.exitCode()).as(converted.err()).isZero();
    assertThat(converted.out().replaceAll("(?s).*\"data\":", ""))
        .isEqualTo(original.out().replaceAll("(?s).*\"data\":", ""));
  }

  @Test
  void refusalsAreUsageErrors() {
    CliRunner.Result onnx =
        CliRunner.run(
            "convert",
            Path.of(MODELS, "quality_predictor/1/model.onnx").toString(),
            temporary.resolve("x.mlmodel").toString(),
            "--cache-dir",
            CACHE);
    assertThat(onnx.exitCode()).isEqualTo(2);
    assertThat(onnx.err()).contains("the onnx backend converts to no other format");

    CliRunner.Result extension =
        CliRunner.run(
            "convert",
            Path.of(MODELS, "quality_predictor_coreml/1/model.mlmodel").toString(),
            temporary.resolve("x.pt").toString(),
            "--cache-dir",
            CACHE);
    assertThat(extension.exitCode()).isEqualTo(2);
    assertThat(extension.err()).contains("writes onnx files (.onnx)");

    CliRunner.Result missing =
        CliRunner.run(
            "convert",
            temporary.resolve("none.mlmodel").toString(),
            temporary.resolve("x.onnx").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err().strip())
        .isEqualTo("error: no model file " + temporary.resolve("none.mlmodel"));
  }
}
