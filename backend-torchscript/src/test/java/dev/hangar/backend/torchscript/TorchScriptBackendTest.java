package dev.hangar.backend.torchscript;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendException;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Loading refusals, the probe's messages, engine errors and input order. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptBackendTest {
  private Backend backend;

  @BeforeAll
  void createBackend() {
    backend = TestBackends.create();
  }

  @AfterAll
  void closeBackend() {
    backend.close();
  }

  @Test
  void aModelWithoutDeclaredSignatureIsRefusedWithTheConfigToWrite() {
    ModelSource source = ModelSource.of("difference", 1, Fixtures.file("difference.pt"));
    assertThatThrownBy(() -> backend.load(source))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("'difference' version 1")
        .hasMessageContaining("has no declared signature")
        // a bare file has no config.yaml: where to put it and its config
        .hasMessageContaining(
            "(a file outside a model directory has none: move it to "
                + Fixtures.file("difference.pt").toAbsolutePath().getParent().resolve("difference")
                + "/1/model.pt and write ")
        .hasMessageContaining("backend: torchscript\n")
        // forward's own argument names, read from the archive
        .hasMessageContaining("  - name: a\n    datatype: FP32\n    shape: [-1, 10]")
        .hasMessageContaining("  - name: b\n")
        .hasMessageContaining("outputs:")
        .hasMessageContaining("  - name: output\n");
  }

  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {"UINT16", "UINT32", "UINT64", "BYTES"})
  void unsupportedDatatypesAreRefusedNamingTheSupportedOnes(DataType type) {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("input", DataType.FP32, new long[] {-1, 3})),
            List.of(new TensorSpec("output", type, new long[] {-1, 3})),
            true);
    ModelSource source = Fixtures.source("echo", Fixtures.file("echo.pt"), signature);
    assertThatThrownBy(() -> backend.load(source))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("output 'output' of datatype " + type)
        .hasMessageContaining(
            "it supports FP32, FP64, FP16, BF16, INT8, INT16, INT32, INT64, UINT8, BOOL");
  }

  @Test
  void aDeclaredInputThatDoesNotFitTheWeightsFailsTheProbeNamingTheShapes() {
    ModelSource source =
        withSignature(
            SampleModels.qualityPredictor().source(), SampleModels.signature(7, "ssim", 1));
    assertThatThrownBy(() -> backend.load(source))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("does not fit")
        .hasMessageContaining("inputs [features FP32[1, 7]]")
        .hasMessageContaining("mat1 and mat2 shapes cannot be multiplied (1x7 and 10x32)")
        .as("a model that cannot run on zeros fails the probe too: the message allows for it")
        .hasMessageEndingWith(
            "the model cannot run on zeros with free dimensions of 1, which this probe needs");
  }

  @Test
  void tooManyDeclaredInputsFailTheProbe() {
    ModelSignature signature =
        new ModelSignature(
            List.of(
                new TensorSpec("features", DataType.FP32, new long[] {-1, 10}),
                new TensorSpec("extra", DataType.FP32, new long[] {-1, 1})),
            List.of(new TensorSpec("ssim", DataType.FP32, new long[] {-1, 1})),
            true);
    assertThatThrownBy(
            () -> backend.load(withSignature(SampleModels.qualityPredictor().source(), signature)))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("inputs [features FP32[1, 10], extra FP32[1, 1]]")
        .hasMessageContaining("forward");
  }

  @Test
  void aStateDictIsRefusedWithHowToExportTorchScript() {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 2})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 2})),
            true);
    ModelSource source = Fixtures.source("linear", Fixtures.file("state_dict.pt"), signature);
    assertThatThrownBy(() -> backend.load(source))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("state_dict.pt")
        .hasMessageContaining("torch.save")
        .hasMessageContaining("torch.jit.script(model).save(path)");
  }

  @Test
  void anUnknownParameterIsRefusedNamingIt() {
    ModelSource source =
        Fixtures.source(
            "echo", Fixtures.file("echo.pt"), contractEcho(), Map.of("intra_op_thread", "2"));
    assertThatThrownBy(() -> backend.load(source))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining("[intra_op_thread]")
        .hasMessageContaining("intra_op_threads");
  }

  @Test
  void inputsReachForwardInTheDeclaredOrderWhateverTheRequestOrder() {
    ModelSignature signature =
        new ModelSignature(
            List.of(
                new TensorSpec("a", DataType.INT64, new long[] {-1}),
                new TensorSpec("b", DataType.INT64, new long[] {-1})),
            List.of(new TensorSpec("difference", DataType.INT64, new long[] {-1})),
            true);
    try (LoadedModel model =
        backend.load(Fixtures.source("difference", Fixtures.file("difference.pt"), signature))) {
      Tensor a = Tensor.ofLongs("a", new long[] {2}, 10, 20);
      Tensor b = Tensor.ofLongs("b", new long[] {2}, 1, 2);
      List<Tensor> expected = List.of(Tensor.ofLongs("difference", new long[] {2}, 9, 18));
      assertTensorsClose(model.infer(List.of(a, b)), expected, 0);
      assertTensorsClose(model.infer(List.of(b, a)), expected, 0);
    }
  }

  @Test
  void inputsDeclaredUnderForwardsNamesInAnotherOrderAreRefused() {
    ModelSignature swapped =
        new ModelSignature(
            List.of(
                new TensorSpec("b", DataType.INT64, new long[] {-1}),
                new TensorSpec("a", DataType.INT64, new long[] {-1})),
            List.of(new TensorSpec("difference", DataType.INT64, new long[] {-1})),
            true);
    assertThatThrownBy(
            () ->
                backend.load(
                    Fixtures.source("difference", Fixtures.file("difference.pt"), swapped)))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(e -> assertUserError(e))
        .hasMessageContaining(
            "declares its inputs in the order [b, a], but forward() takes them as [a, b]: inputs"
                + " reach forward() by position");
  }

  @Test
  void anErrorRaisedInForwardIsABackendFailureNamingIt() {
    try (LoadedModel model =
        backend.load(Fixtures.source("failing", Fixtures.file("failing.pt"), contractEcho()))) {
      Tensor large = Tensor.ofFloats("input", new long[] {1, 3}, 1000, 1000, 1000);
      assertThatThrownBy(() -> model.infer(List.of(large)))
          .isInstanceOf(BackendException.class)
          .hasMessageContaining("libtorch failed running model 'failing'")
          .hasMessageContaining("input FP32[1, 3]")
          .hasMessageContaining("builtins.RuntimeError: input sum is above 1000")
          .hasMessageNotContaining("Traceback");
      // the model still serves afterwards
      Tensor small = Tensor.ofFloats("input", new long[] {1, 3}, 1, 2, 3);
      assertTensorsClose(model.infer(List.of(small)), List.of(small.withName("output")), 0);
    }
  }

  @Test
  void aValueErrorRaisedInForwardIsAnInvalidInput() {
    try (LoadedModel model =
        backend.load(
            Fixtures.source("validating", Fixtures.file("validating.pt"), contractEcho()))) {
      Tensor negative = Tensor.ofFloats("input", new long[] {1, 3}, 1, -2, 3);
      assertThatThrownBy(() -> model.infer(List.of(negative)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("model 'validating' rejected the inputs [input FP32[1, 3]]")
          .hasMessageContaining("ValueError: features must not be negative");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = DataType.class,
      names = {"BF16", "FP16", "FP32"})
  void nanPayloadsAndSignsSurviveTheRoundTrip(DataType type) {
    ByteBuffer data = ByteBuffer.allocate(3 * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case BF16 -> data.putShort((short) 0x7FC1).putShort((short) 0xFF81).putShort((short) 0x7F81);
      case FP16 -> data.putShort((short) 0x7E01).putShort((short) 0xFE01).putShort((short) 0x7C01);
      default -> data.putInt(0x7FC00001).putInt(0xFFC00001).putInt(0x7F800001);
    }
    data.flip();
    Tensor input = Tensor.of("input", type, new long[] {1, 3}, data);
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("input", type, new long[] {-1, 3})),
            List.of(new TensorSpec("output", type, new long[] {-1, 3})),
            true);
    try (LoadedModel model =
        backend.load(Fixtures.source("echo", Fixtures.file("echo.pt"), signature))) {
      assertThat(model.infer(List.of(input)).get(0).data()).isEqualTo(input.data());
    }
  }

  @Test
  void theMemoryEstimateCoversTheWeights() throws Exception {
    ModelSource source = SampleModels.routingClassifier().source();
    try (LoadedModel model = backend.load(source)) {
      long parameters = (15 * 32 + 32 + 32 * 4 + 4) * 4L;
      assertThat(model.memoryEstimateBytes())
          .isGreaterThanOrEqualTo(parameters)
          .isGreaterThanOrEqualTo(Files.size(source.file()))
          .isLessThan(Files.size(source.file()) + 1024 * 1024);
    }
  }

  @Test
  void closingTwiceIsHarmless() {
    LoadedModel model = backend.load(SampleModels.qualityPredictor().source());
    model.close();
    model.close();
  }

  @Test
  void theEngineVersionNeedsNoNativeCode() {
    assertThat(new TorchScriptBackendProvider().create(TestBackends.context()).engineVersion())
        .isEqualTo("PyTorch 2.7.1 (libtorch, through DJL 0.36.0)");
  }

  private static ModelSignature contractEcho() {
    return new ModelSignature(
        List.of(new TensorSpec("input", DataType.FP32, new long[] {-1, 3})),
        List.of(new TensorSpec("output", DataType.FP32, new long[] {-1, 3})),
        true);
  }

  private static ModelSource withSignature(ModelSource source, ModelSignature signature) {
    return new ModelSource(
        source.name(),
        source.version(),
        source.file(),
        Optional.of(signature),
        source.parameters());
  }

  private static void assertUserError(Throwable e) {
    assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.USER_ERROR);
  }
}
