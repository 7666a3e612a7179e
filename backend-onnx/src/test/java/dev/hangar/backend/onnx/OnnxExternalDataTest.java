package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Weights kept in a side file beside the model (ONNX's external data). */
class OnnxExternalDataTest extends OnnxFilesTestBase {
  /** y = x · W, W = 2·I held in weights.bin beside the model; z = u, an unsigned input. */
  private Path modelWithSideWeights() throws IOException {
    Path version = Files.createDirectories(directory.resolve("m/1"));
    ByteBuffer weights = ByteBuffer.allocate(16 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 16; i++) {
      weights.putFloat(i % 5 == 0 ? 2 : 0);
    }
    Files.write(version.resolve("weights.bin"), weights.array());
    TensorProto external =
        TensorProto.newBuilder()
            .setName("w")
            .addDims(4)
            .addDims(4)
            .setDataType(TensorProto.DataType.FLOAT_VALUE)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", "weights.bin"))
            .addExternalData(entry("offset", "0"))
            .addExternalData(entry("length", "64"))
            .build();
    ModelProto model =
        new OnnxGraphBuilder("side_weights")
            .input("x", DataType.FP32, new long[] {-1, 4})
            .input("u", DataType.UINT32, new long[] {-1, 1})
            .initializer(external)
            .node("MatMul", List.of("x", "w"), List.of("y"))
            .node("Identity", List.of("u"), List.of("z"))
            .output("y", DataType.FP32, new long[] {-1, 4})
            .output("z", DataType.UINT32, new long[] {-1, 1})
            .build();
    return write("m", model);
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  @Test
  void sideWeightsAreReadFromTheModelsDirectoryWhenAnUnsignedInputIsRewritten() throws IOException {
    // the unsigned input makes the backend rebuild the graph and load it from memory: the side
    // file must still come from beside the model, not from the process's working directory
    Path file = modelWithSideWeights();
    try (LoadedModel model = backend.load(ModelSource.of("m", 1, file))) {
      ByteBuffer u = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 7);
      List<Tensor> outputs =
          model.infer(
              List.of(
                  Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4),
                  Tensor.of("u", DataType.UINT32, new long[] {1, 1}, u)));
      assertThat(outputs.get(0).toFloatArray()).containsExactly(2, 4, 6, 8);
      assertThat(outputs.get(1).data().order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(7);
    }
  }

  @Test
  void aModelWithSideWeightsIsNotOptimizedAndSaysWhy() throws IOException {
    Path file = modelWithSideWeights();
    ModelOptimizer optimizer = backend.capability(ModelOptimizer.class).orElseThrow();
    assertThatThrownBy(
            () ->
                optimizer.prepare(
                    ModelSource.of("m", 1, file),
                    new OptimizationOptions(
                        OptimizationOptions.Level.BASIC,
                        false,
                        OptimizationOptions.DEFAULT_INT8_TOLERANCE,
                        OptimizationOptions.Granularity.PER_TENSOR)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(
            "a model whose weights are in side files (ONNX external data: initializer 'w') cannot"
                + " be optimized");
  }
}
