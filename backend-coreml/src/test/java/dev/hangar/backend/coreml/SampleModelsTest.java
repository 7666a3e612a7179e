package dev.hangar.backend.coreml;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.coreml.SampleModelWriter.Sample;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.spi.Backend;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.testkit.ReferenceCase;
import dev.hangar.testkit.ReferenceFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CoreML sample models are interchangeable with their ONNX twins: same signature, and outputs
 * equal to the PyTorch reference outputs within 1e-5, one row at a time and as one batch; and the
 * ONNX file the converter writes loads in the ONNX backend and gives the same outputs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SampleModelsTest {
  private static final Path MODELS = SampleModelFilesTest.MODELS;

  private Backend coreml;
  private Backend onnx;

  @BeforeAll
  void createBackends() {
    coreml = new CoreMlBackendProvider().create(Runner.context());
    onnx = new OnnxBackendProvider().create(Runner.context());
  }

  @AfterAll
  void closeBackends() {
    coreml.close();
    onnx.close();
  }

  private static ModelSource coreMlSource(Sample sample) {
    return ModelSource.of(sample.name + "_coreml", 1, sample.coreMlFile(MODELS));
  }

  private static List<ReferenceCase> reference(Sample sample) throws IOException {
    return ReferenceFile.read(MODELS.resolve("reference").resolve(sample.name + ".txt"));
  }

  @ParameterizedTest
  @EnumSource(Sample.class)
  void signatureIsTheOnnxTwins(Sample sample) {
    try (LoadedModel model = coreml.load(coreMlSource(sample));
        LoadedModel twin = onnx.load(ModelSource.of(sample.name, 1, sample.onnxFile(MODELS)))) {
      assertThat(model.signature()).isEqualTo(twin.signature());
      assertThat(model.signature().batched()).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(Sample.class)
  void outputsMatchThePyTorchReference(Sample sample) throws IOException {
    List<ReferenceCase> cases = reference(sample);
    try (LoadedModel model = coreml.load(coreMlSource(sample))) {
      checkAgainstReference(model, cases);
    }
  }

  @ParameterizedTest
  @EnumSource(Sample.class)
  void convertedOnnxFileLoadsInTheOnnxBackendWithTheSameOutputs(Sample sample, @TempDir Path dir)
      throws IOException {
    var converter = coreml.capability(dev.hangar.spi.FormatConverter.class).orElseThrow();
    assertThat(converter.targetFormat()).isEqualTo("onnx");
    assertThat(converter.targetExtension()).isEqualTo(".onnx");
    Path target = dir.resolve("converted" + converter.targetExtension());
    converter.convert(coreMlSource(sample), target);
    try (LoadedModel converted = onnx.load(ModelSource.of(sample.name + "_converted", 1, target));
        LoadedModel original = coreml.load(coreMlSource(sample))) {
      assertThat(converted.signature()).isEqualTo(original.signature());
      checkAgainstReference(converted, reference(sample));
    }
  }

  private static void checkAgainstReference(LoadedModel model, List<ReferenceCase> cases) {
    List<Tensor> inputs = new ArrayList<>();
    List<Tensor> outputs = new ArrayList<>();
    for (ReferenceCase testCase : cases) {
      assertTensorsClose(model.infer(testCase.inputs()), testCase.expectedOutputs(), 1e-5);
      inputs.add(testCase.inputs().get(0));
      outputs.add(testCase.expectedOutputs().get(0));
    }
    Tensor batch = Tensor.concatenateRows(inputs.get(0).name(), inputs);
    Tensor expected = Tensor.concatenateRows(outputs.get(0).name(), outputs);
    assertTensorsClose(model.infer(List.of(batch)), List.of(expected), 1e-5);
  }
}
