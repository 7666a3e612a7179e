package dev.hangar.core.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.model.ModelNotFoundException;
import dev.hangar.core.model.ModelUnavailableException;
import dev.hangar.core.testing.Harness;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceValidationTest {
  @TempDir Path root;
  private Harness harness;

  @BeforeEach
  void setUp() throws IOException {
    harness = new Harness(root, DataSize.ofMegabytes(500), 10 * Harness.MB);
    harness.model("echo", 1, 1);
    harness.config("echo", "max_batch_size: 8\n");
    harness.manager.start().join();
  }

  @AfterEach
  void tearDown() {
    harness.close();
  }

  private static Tensor rows(int rows) {
    return Tensor.ofFloats("x", new long[] {rows, 4}, new float[rows * 4]);
  }

  @Test
  void runsAValidRequest() {
    float[] values = {1, 2, 3, 4};
    InferenceResponse response =
        harness.inference.infer(
            InferenceRequest.of("echo", List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)))
                .withId("r1"));
    assertThat(response.model()).isEqualTo("echo");
    assertThat(response.version()).isEqualTo(1);
    assertThat(response.id()).isEqualTo("r1");
    assertThat(response.outputs().get(0).toFloatArray()).containsExactly(2, 4, 6, 8);
  }

  @Test
  void wrongDataTypeNamesTheInputAndBothTypes() {
    Tensor ints = Tensor.ofInts("x", new long[] {1, 4}, 1, 2, 3, 4);
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("echo", List.of(ints))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("model 'echo'")
        .hasMessageContaining("input 'x' has datatype INT32 but the model expects FP32");
  }

  @Test
  void wrongShapeNamesTheInputAndTheExpectedShape() {
    Tensor wrong = Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3);
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("echo", List.of(wrong))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("input 'x' has shape [1, 3] but the model expects [-1, 4]");
  }

  @Test
  void missingAndUnknownInputsAndOutputs() {
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("echo", List.of())))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("missing input(s): x FP32[-1, 4]");
    assertThatThrownBy(
            () ->
                harness.inference.infer(
                    InferenceRequest.of("echo", List.of(rows(1), rows(1).withName("z")))))
        .hasMessageContaining("unknown input 'z'");
    assertThatThrownBy(
            () ->
                harness.inference.infer(
                    InferenceRequest.of("echo", List.of(rows(1))).withOutputs(List.of("q"))))
        .hasMessageContaining("unknown output 'q'; the model's outputs are [y]");
    assertThatThrownBy(
            () ->
                harness.inference.infer(
                    InferenceRequest.of("echo", List.of(rows(1))).withOutputs(List.of("y", "y"))))
        .hasMessageContaining("model 'echo': output 'y' is requested more than once");
  }

  @Test
  void batchLimits() {
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("echo", List.of(rows(9)))))
        .hasMessageContaining("batch size 9 exceeds the model's max_batch_size 8");
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("echo", List.of(rows(0)))))
        .hasMessageContaining("must be at least 1");
    assertThat(
            harness
                .inference
                .infer(InferenceRequest.of("echo", List.of(rows(8))))
                .outputs()
                .get(0)
                .shape())
        .containsExactly(8, 4);
  }

  @Test
  void unknownModelAndVersion() {
    assertThatThrownBy(() -> harness.inference.infer(InferenceRequest.of("ecko", List.of(rows(1)))))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("unknown model 'ecko'; did you mean 'echo'?");
    assertThatThrownBy(
            () ->
                harness.inference.infer(
                    InferenceRequest.of("echo", List.of(rows(1))).withVersion(2)))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("no version 2 being served");
  }

  @Test
  void aBrokenModelIsUnavailableWithItsReasonAndTheOthersServe() throws IOException {
    harness.model("broken", 1, 1);
    Files.writeString(root.resolve("broken/config.yaml"), "instance: 2\n");
    Files.writeString(harness.model("corrupt", 1, 1), "\u0000\u0001garbage");
    harness.manager.refresh().join();
    assertThatThrownBy(
            () -> harness.inference.infer(InferenceRequest.of("broken", List.of(rows(1)))))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("unknown key 'instance'")
        .hasMessageContaining("did you mean 'instances'");
    assertThatThrownBy(
            () -> harness.inference.infer(InferenceRequest.of("corrupt", List.of(rows(1)))))
        .isInstanceOf(HangarException.class)
        .hasMessageContaining("corrupt")
        .satisfies(
            e -> assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.UNAVAILABLE));
    assertThat(harness.inference.infer(InferenceRequest.of("echo", List.of(rows(1)))).outputs())
        .hasSize(1);
  }
}
