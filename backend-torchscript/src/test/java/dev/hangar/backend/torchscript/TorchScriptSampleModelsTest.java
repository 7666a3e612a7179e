package dev.hangar.backend.torchscript;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.Backend;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.Tensor;
import dev.hangar.testkit.ReferenceCase;
import dev.hangar.testkit.ReferenceModel;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both sample TorchScript models give PyTorch's reference outputs (and so their ONNX twins'), one
 * row at a time and in batches of 32, with the configuration their config.yaml declares.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptSampleModelsTest {
  private Backend backend;

  @BeforeAll
  void createBackend() {
    backend = TestBackends.create();
  }

  @AfterAll
  void closeBackend() {
    backend.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"quality_predictor", "routing_classifier"})
  void outputsEqualPyTorchsReference(String name) {
    ReferenceModel reference = reference(name);
    try (LoadedModel model = backend.load(reference.source())) {
      assertThat(model.signature()).isEqualTo(reference.expectedSignature());
      for (ReferenceCase testCase : reference.cases()) {
        assertTensorsClose(
            model.infer(testCase.inputs()), testCase.expectedOutputs(), reference.tolerance());
      }
      List<List<Tensor>> inputs = new ArrayList<>();
      List<List<Tensor>> outputs = new ArrayList<>();
      for (int row = 0; row < 32; row++) {
        ReferenceCase testCase = reference.cases().get(row % reference.cases().size());
        inputs.add(testCase.inputs());
        outputs.add(testCase.expectedOutputs());
      }
      assertTensorsClose(model.infer(stack(inputs)), stack(outputs), reference.tolerance());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"quality_predictor", "routing_classifier"})
  void theConfigYamlDeclaresWhatTheseTestsHandTheBackend(String name) throws IOException {
    ReferenceModel reference = reference(name);
    String config =
        Files.readString(reference.source().file().getParent().getParent().resolve("config.yaml"));
    var input = reference.expectedSignature().inputs().get(0);
    var output = reference.expectedSignature().outputs().get(0);
    assertThat(config)
        .startsWith("backend: torchscript\n")
        .contains(
            "  - name: "
                + input.name()
                + "\n    datatype: FP32\n    shape: [-1, "
                + input.dimension(1)
                + "]\n")
        .contains(
            "  - name: "
                + output.name()
                + "\n    datatype: FP32\n    shape: [-1, "
                + output.dimension(1)
                + "]\n")
        .contains("parameters:\n  intra_op_threads: 1\n");
  }

  private static ReferenceModel reference(String name) {
    return name.equals("quality_predictor")
        ? SampleModels.qualityPredictor()
        : SampleModels.routingClassifier();
  }

  private static List<Tensor> stack(List<List<Tensor>> rows) {
    List<Tensor> stacked = new ArrayList<>();
    for (int i = 0; i < rows.get(0).size(); i++) {
      int index = i;
      List<Tensor> parts = rows.stream().map(row -> row.get(index)).toList();
      stacked.add(Tensor.concatenateRows(parts.get(0).name(), parts));
    }
    return stacked;
  }
}
