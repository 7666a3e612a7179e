package dev.hangar.models;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelState;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.testkit.ReferenceCase;
import dev.hangar.testkit.ReferenceFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Serves the sample repository through core and every backend on the class path, the way {@code
 * hangar serve} does, and holds every sample model to the PyTorch reference outputs of {@code
 * models/reference}: the same weights in every format give the same outputs within 1e-5.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SampleModelsTest {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "."));

  private ServingCore core;
  private ModelManager manager;
  private InferenceService inference;

  @BeforeAll
  void start() {
    core = new ServingCore(MODELS, DataSize.ofMegabytes(500));
    manager = core.manager;
    inference = core.inference;
  }

  @AfterAll
  void stop() {
    core.close();
  }

  Stream<String> sampleModels() {
    return manager.list().stream().map(ModelStatus::name);
  }

  @Test
  void everySampleModelIsServable() {
    assertThat(manager.list()).isNotEmpty();
    for (ModelStatus status : manager.list()) {
      assertThat(status.format()).as(status.name() + ": " + status.reason().orElse("")).isPresent();
      assertThat(status.state())
          .as(status.name() + ": " + status.reason().orElse(""))
          .isNotEqualTo(ModelState.FAILED);
    }
    assertThat(manager.notReady()).as("start-up models not READY").isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"quality_predictor", "routing_classifier"})
  void twinsInEveryFormatAgreeWithinOneMillionth(String family) {
    java.util.Random random = new java.util.Random(family.hashCode());
    int width = family.equals("quality_predictor") ? 10 : 15;
    float[] values = new float[32 * width];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() * 1.5f - 0.25f;
    }
    dev.hangar.spi.Tensor batch =
        dev.hangar.spi.Tensor.ofFloats("features", new long[] {32, width}, values);
    List<dev.hangar.spi.Tensor> onnx =
        inference.infer(InferenceRequest.of(family, List.of(batch))).outputs();
    for (String twin : List.of(family + "_torchscript", family + "_coreml")) {
      assertTensorsClose(
          inference.infer(InferenceRequest.of(twin, List.of(batch))).outputs(), onnx, 1e-5);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sampleModels")
  void matchesThePyTorchReference(String model) throws IOException {
    String family = model.replaceAll("_(torchscript|coreml)$", "");
    List<ReferenceCase> cases =
        ReferenceFile.read(MODELS.resolve("reference").resolve(family + ".txt"));
    for (ReferenceCase testCase : cases) {
      assertTensorsClose(
          inference.infer(InferenceRequest.of(model, testCase.inputs())).outputs(),
          testCase.expectedOutputs(),
          1e-5);
    }
  }
}
