package dev.hangar.backend.onnx;

import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The inputs a model divides integers by, directly (an integer {@code Div} or {@code Mod} whose
 * divisor is a model input). ONNX Runtime's CPU kernels for these trap on a zero divisor, which
 * kills the whole process: such an input holding a zero is refused as an invalid input instead.
 */
final class IntegerDivisors {
  private IntegerDivisors() {}

  /** Whether any input is an integer, the only way a divisor can be an input. */
  static boolean possible(ModelSignature signature) {
    return signature.inputs().stream().anyMatch(spec -> isInteger(spec.dataType()));
  }

  /** The integer inputs {@code model}'s top-level graph divides by. */
  static Set<String> of(ModelProto model, ModelSignature signature) {
    Set<String> divisors = new LinkedHashSet<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      boolean division =
          (node.getOpType().equals("Div") || node.getOpType().equals("Mod"))
              && (node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx"));
      if (division && node.getInputCount() == 2) {
        String divisor = node.getInput(1);
        signature.inputs().stream()
            .filter(spec -> spec.name().equals(divisor) && isInteger(spec.dataType()))
            .map(TensorSpec::name)
            .findFirst()
            .ifPresent(divisors::add);
      }
    }
    return Set.copyOf(divisors);
  }

  /**
   * Refuses an input the model divides integers by when it holds a zero.
   *
   * @throws InvalidInputException naming the input and the element
   */
  static void check(Tensor input) {
    ByteBuffer data = input.data().order(ByteOrder.LITTLE_ENDIAN);
    int size = input.dataType().byteSize();
    long count = input.elementCount();
    for (int i = 0; i < count; i++) {
      long value =
          switch (size) {
            case 1 -> data.get(i);
            case 2 -> data.getShort(i * 2);
            case 4 -> data.getInt(i * 4);
            default -> data.getLong(i * 8);
          };
      if (value == 0) {
        throw new InvalidInputException(
            "input '"
                + input.name()
                + "' holds 0 at element "
                + i
                + ", and the model divides integers by it, which ONNX Runtime cannot do safely");
      }
    }
  }

  private static boolean isInteger(DataType type) {
    return switch (type) {
      case INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64 -> true;
      default -> false;
    };
  }
}
