package dev.hangar.backend.onnx.optimizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The int8 rewrite: ONNX Runtime loads what it writes, outputs stay close to FP32, Gemm's
 * attributes are honoured, per-channel scales beat per-tensor ones where channels differ, and
 * ineligible nodes are left alone with a reason.
 */
class Int8QuantizerTest {
  private static final int[] SIZES = {64, 256, 256, 8};
  // what the optimizer picks on this CPU: full 8-bit weights saturate x86 without VNNI
  private static final boolean REDUCE_RANGE = CpuFeatures.detect().needsReducedRange();

  @TempDir static Path directory;
  private static Backend backend;

  @BeforeAll
  static void createBackend() {
    backend =
        new OnnxBackendProvider()
            .create(
                new BackendContext(
                    Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))));
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  static Stream<Arguments> variants() {
    return Stream.of(Granularity.values())
        .flatMap(
            granularity ->
                Stream.of(Int8Quantizer.Form.values())
                    .flatMap(
                        form ->
                            Stream.of(false, true)
                                .map(gemm -> Arguments.of(granularity, form, gemm))));
  }

  @ParameterizedTest(name = "{0} {1} gemm={2}")
  @MethodSource("variants")
  void theQuantizedGraphLoadsAndStaysCloseToFp32(
      Granularity granularity, Int8Quantizer.Form form, boolean gemm) throws IOException {
    ModelProto model = TestGraphs.mlp("mlp", SIZES, 7, gemm);
    Int8Quantizer.Result result =
        Int8Quantizer.quantize(model, new Int8Quantizer.Settings(granularity, REDUCE_RANGE, form));

    assertThat(result.quantized()).hasSize(3);
    assertThat(result.skipped()).isEmpty();
    assertThat(result.summary()).startsWith("3 " + (gemm ? "Gemm" : "MatMul") + " quantized");
    assertThat(result.model().getGraph().getInitializerList())
        .extracting(TensorProto::getName)
        .doesNotContain("w0", "w1", "w2");
    assertThat(result.model().getSerializedSize()).isLessThan(model.getSerializedSize() * 3 / 10);
    if (form == Int8Quantizer.Form.FUSED) {
      assertThat(result.model().getGraph().getNodeList())
          .filteredOn(node -> node.getOpType().equals("DynamicQuantizeMatMul"))
          .hasSize(3)
          .allMatch(node -> node.getDomain().equals(Int8Quantizer.MICROSOFT_DOMAIN));
    } else {
      assertThat(result.model().getGraph().getNodeList())
          .extracting(NodeProto::getDomain)
          .containsOnly("");
    }

    Accuracy accuracy = compare(model, result.model());
    assertThat(accuracy.maxAbsoluteError()).isPositive().isLessThan(0.02);
    assertThat(accuracy.comparedValues()).isEqualTo((1 + 8 + 8 * 64) * 8);
  }

  @Test
  void gemmAlphaBetaTransposesAndBiasesAreHonoured() throws IOException {
    SplittableRandom random = new SplittableRandom(3);
    int k = 48;
    int n = 40;
    OnnxGraphBuilder graph = new OnnxGraphBuilder("gemm_attributes");
    graph.input("a", DataType.FP32, new long[] {k, 4}); // transA: A is [K, M]
    graph.input("c_dynamic", DataType.FP32, new long[] {4, n});
    graph.initializer("w_t", new long[] {n, k}, TestGraphs.uniform(random, n * k, 0.2));
    graph.initializer("w", new long[] {n, n}, TestGraphs.uniform(random, n * n, 0.2));
    graph.initializer("bias_row", new long[] {1, n}, TestGraphs.uniform(random, n, 1));
    graph.initializer("bias_full", new long[] {4, n}, TestGraphs.uniform(random, 4 * n, 1));
    graph.initializer("bias_scalar", new long[] {}, 0.75f);
    graph.node(
        "Gemm",
        List.of("a", "w_t", "bias_row"),
        List.of("g1"),
        OnnxGraphBuilder.attribute("transA", 1L),
        OnnxGraphBuilder.attribute("transB", 1L),
        OnnxGraphBuilder.attribute("alpha", 0.5f),
        OnnxGraphBuilder.attribute("beta", 2f));
    graph.node(
        "Gemm",
        List.of("g1", "w", "bias_full"),
        List.of("g2"),
        OnnxGraphBuilder.attribute("alpha", -1.5f),
        OnnxGraphBuilder.attribute("beta", 0.5f));
    graph.node(
        "Gemm",
        List.of("g2", "w", "c_dynamic"),
        List.of("g3"),
        OnnxGraphBuilder.attribute("beta", 3f));
    graph.node("Gemm", List.of("g3", "w", "bias_scalar"), List.of("y"));
    graph.output("y", DataType.FP32, new long[] {4, n});
    ModelProto model = graph.build();

    for (Granularity granularity : Granularity.values()) {
      Int8Quantizer.Result result =
          Int8Quantizer.quantize(
              model,
              new Int8Quantizer.Settings(granularity, REDUCE_RANGE, Int8Quantizer.Form.FUSED));
      assertThat(result.quantized()).as(granularity.name()).hasSize(4);
      Accuracy accuracy = compare(model, result.model());
      assertThat(accuracy.maxAbsoluteReference()).isGreaterThan(1);
      assertThat(accuracy.maxAbsoluteError() / accuracy.maxAbsoluteReference())
          .as(granularity + " relative error")
          .isLessThan(0.03);
    }
  }

  @Test
  void perChannelErrorIsAtMostPerTensorErrorWhenChannelScalesDiffer() throws IOException {
    SplittableRandom random = new SplittableRandom(11);
    int k = 64;
    int n = 32;
    float[] weights = TestGraphs.uniform(random, k * n, 1);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < n; j++) {
        // column j spans 1e-3 .. 10: a per-tensor scale crushes the small columns
        weights[i * n + j] *= (float) Math.pow(10, -3 + 4.0 * j / (n - 1));
      }
    }
    ModelProto model =
        new OnnxGraphBuilder("channel_scales")
            .input("x", DataType.FP32, new long[] {-1, k})
            .initializer("w", new long[] {k, n}, weights)
            .node("MatMul", List.of("x", "w"), List.of("y"))
            .output("y", DataType.FP32, new long[] {-1, n})
            .build();

    Accuracy perTensor =
        compare(
            model,
            Int8Quantizer.quantize(
                    model,
                    new Int8Quantizer.Settings(
                        Granularity.PER_TENSOR, REDUCE_RANGE, Int8Quantizer.Form.FUSED))
                .model());
    Accuracy perChannel =
        compare(
            model,
            Int8Quantizer.quantize(
                    model,
                    new Int8Quantizer.Settings(
                        Granularity.PER_CHANNEL, REDUCE_RANGE, Int8Quantizer.Form.FUSED))
                .model());

    assertThat(perChannel.maxAbsoluteError()).isLessThanOrEqualTo(perTensor.maxAbsoluteError());
    assertThat(perChannel.meanAbsoluteError()).isLessThan(perTensor.meanAbsoluteError() * 0.8);
  }

  @Test
  void ineligibleNodesAreLeftInFp32WithTheReason() {
    OnnxGraphBuilder graph = new OnnxGraphBuilder("ineligible");
    graph.input("x", DataType.FP32, new long[] {-1, 4});
    graph.input("dynamic", DataType.FP32, new long[] {4, 4});
    graph.input("overridable", DataType.FP32, new long[] {4, 4});
    graph.initializer("overridable", new long[] {4, 4}, new float[16]);
    graph.initializer("cube", new long[] {1, 4, 4}, new float[16]);
    graph.initializer(
        "shared", new long[] {4, 4}, TestGraphs.uniform(new SplittableRandom(1), 16, 1));
    graph.node("MatMul", List.of("x", "dynamic"), List.of("a"));
    graph.node("MatMul", List.of("a", "overridable"), List.of("b"));
    graph.node("MatMul", List.of("b", "cube"), List.of("c"));
    graph.node("MatMul", List.of("b", "shared"), List.of("d"));
    graph.node("Add", List.of("d", "shared"), List.of("y"));
    graph.output("y", DataType.FP32, new long[] {-1, 4});
    ModelProto model = graph.build();

    Int8Quantizer.Result result =
        Int8Quantizer.quantize(
            model,
            new Int8Quantizer.Settings(Granularity.PER_CHANNEL, false, Int8Quantizer.Form.FUSED));

    assertThat(result.quantized()).hasSize(1).first().asString().contains("[4x4] per-channel");
    assertThat(result.skipped())
        .hasSize(3)
        .anyMatch(line -> line.contains("'dynamic' is not a constant initializer"))
        .anyMatch(line -> line.contains("'overridable' is also a graph input"))
        .anyMatch(line -> line.contains("'cube' has 3 dimensions, not 2"));
    // the Add still reads the FP32 weight, so it stays
    assertThat(result.model().getGraph().getInitializerList())
        .extracting(TensorProto::getName)
        .contains("shared");
  }

  @Test
  void reducedRangeKeepsWeightsWithinSevenBits() {
    ModelProto model = TestGraphs.mlp("mlp", new int[] {8, 8}, 5, false);
    Int8Quantizer.Result result =
        Int8Quantizer.quantize(
            model,
            new Int8Quantizer.Settings(Granularity.PER_TENSOR, true, Int8Quantizer.Form.FUSED));
    TensorProto weights =
        result.model().getGraph().getInitializerList().stream()
            .filter(tensor -> tensor.getDataType() == TensorProto.DataType.INT8.getNumber())
            .filter(tensor -> tensor.getDimsCount() == 2)
            .findFirst()
            .orElseThrow();
    byte[] values = weights.getRawData().toByteArray();
    int largest = 0;
    for (byte value : values) {
      largest = Math.max(largest, Math.abs(value));
    }
    assertThat(largest).isEqualTo(63);
  }

  @Test
  void theStandardFormNeedsOpset11() {
    ModelProto model =
        TestGraphs.mlp("mlp", new int[] {8, 8}, 5, false).toBuilder()
            .setOpsetImport(
                0,
                dev.hangar.backend.onnx.proto.OnnxProto.OperatorSetIdProto.newBuilder()
                    .setDomain("")
                    .setVersion(10))
            .build();
    Int8Quantizer.Result result =
        Int8Quantizer.quantize(
            model,
            new Int8Quantizer.Settings(Granularity.PER_TENSOR, false, Int8Quantizer.Form.STANDARD));
    assertThat(result.changed()).isFalse();
    assertThat(result.skipped()).singleElement().asString().contains("opset 11");
  }

  /** Runs both models on the probe inputs and compares their outputs. */
  static Accuracy compare(ModelProto original, ModelProto quantized) throws IOException {
    Path originalFile = Files.createTempFile(directory, "original", ".onnx");
    Path quantizedFile = Files.createTempFile(directory, "quantized", ".onnx");
    Files.write(originalFile, original.toByteArray());
    Files.write(quantizedFile, quantized.toByteArray());
    try (LoadedModel reference = backend.load(ModelSource.of("original", 1, originalFile));
        LoadedModel candidate = backend.load(ModelSource.of("quantized", 1, quantizedFile))) {
      OutputComparison comparison = new OutputComparison();
      for (List<Tensor> inputs : ProbeInputs.accuracySets(reference.signature())) {
        comparison.add(reference.infer(inputs), candidate.infer(inputs));
      }
      return comparison.result();
    }
  }
}
