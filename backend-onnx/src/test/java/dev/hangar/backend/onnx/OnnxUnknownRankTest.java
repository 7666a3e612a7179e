package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ValueInfoProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A model whose file gives its tensors no shape at all (unknown rank). */
class OnnxUnknownRankTest extends OnnxFilesTestBase {
  private static ValueInfoProto withoutShape(ValueInfoProto info) {
    return info.toBuilder()
        .setType(
            info.getType().toBuilder()
                .setTensorType(info.getType().getTensorType().toBuilder().clearShape()))
        .build();
  }

  @Test
  void theShapeConfigYamlDeclaresStandsForTensorsTheFileGivesNoShape() throws IOException {
    ModelProto identity =
        new OnnxGraphBuilder("identity")
            .input("x", DataType.FP32, new long[0])
            .node("Identity", List.of("x"), List.of("y"))
            .output("y", DataType.FP32, new long[0])
            .build();
    ModelProto unknownRank =
        identity.toBuilder()
            .setGraph(
                identity.getGraph().toBuilder()
                    .setInput(0, withoutShape(identity.getGraph().getInput(0)))
                    .setOutput(0, withoutShape(identity.getGraph().getOutput(0))))
            .build();
    Path file = write("m", unknownRank);
    ModelSignature declared =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 3})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 3})),
            true);
    ModelSource source =
        new ModelSource("m", 1, file, Optional.of(declared), ModelParameters.empty());
    try (LoadedModel model = backend.load(source)) {
      assertThat(model.signature()).isEqualTo(declared);
      Tensor rows = Tensor.ofFloats("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
      assertThat(model.infer(List.of(rows)).get(0).toFloatArray())
          .containsExactly(1, 2, 3, 4, 5, 6);
    }
  }
}
