package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime's integer Div and Mod kernels trap on a zero divisor, killing the process (a served
 * model died so of one request): a request that would do so is refused instead.
 */
class IntegerDivisionTest extends OnnxFilesTestBase {
  private static Tensor ints(String name, int... values) {
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int value : values) {
      data.putInt(value);
    }
    return Tensor.of(name, DataType.INT32, new long[] {1, values.length}, data.flip());
  }

  @Test
  void aZeroInAnInputTheModelDividesIntegersByIsRefusedAndTheProcessLives() throws IOException {
    for (String op : List.of("Div", "Mod")) {
      Path file =
          write(
              op,
              new OnnxGraphBuilder(op)
                  .input("a", DataType.INT32, new long[] {-1, 2})
                  .input("b", DataType.INT32, new long[] {-1, 2})
                  .node(op, List.of("a", "b"), List.of("y"))
                  .output("y", DataType.INT32, new long[] {-1, 2})
                  .build());
      try (LoadedModel model = backend.load(ModelSource.of(op, 1, file))) {
        assertThatThrownBy(() -> model.infer(List.of(ints("a", 7, 9), ints("b", 2, 0))))
            .isInstanceOf(InvalidInputException.class)
            .hasMessage(
                "input 'b' holds 0 at element 1, and the model divides integers by it, which ONNX"
                    + " Runtime cannot do safely");
        Tensor answer = model.infer(List.of(ints("a", 7, 9), ints("b", 2, 4))).get(0);
        ByteBuffer data = answer.data();
        assertThat(List.of(data.getInt(0), data.getInt(4)))
            .isEqualTo(op.equals("Div") ? List.of(3, 2) : List.of(1, 1));
      }
    }
  }
}
