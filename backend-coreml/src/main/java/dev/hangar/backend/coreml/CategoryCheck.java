package dev.hangar.backend.coreml;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.util.List;
import java.util.Set;

/**
 * A check the compiled graph cannot make itself: a oneHotEncoder with {@code ErrorOnUnknown}
 * refuses a value outside its categories. ONNX Runtime would fail deep inside the run; checking the
 * model input first makes it an {@link InvalidInputException} naming the input and the value.
 *
 * @param input the model input the encoder reads
 * @param strings the categories, for a String input
 * @param integers the categories, for an Int64 input
 */
record CategoryCheck(String input, Set<String> strings, Set<Long> integers) {
  CategoryCheck {
    requireNonNull(input, "input is null");
    strings = Set.copyOf(strings);
    integers = Set.copyOf(integers);
  }

  /**
   * @throws InvalidInputException naming the first value outside the categories
   */
  void check(List<Tensor> inputs) {
    for (Tensor tensor : inputs) {
      if (!tensor.name().equals(input)) {
        continue;
      }
      if (tensor.dataType() == DataType.BYTES) {
        for (String value : tensor.toStringList()) {
          if (!strings.contains(value)) {
            throw unknown(value);
          }
        }
      } else if (tensor.dataType() == DataType.INT64) {
        for (long value : tensor.toLongArray()) {
          if (!integers.contains(value)) {
            throw unknown(value);
          }
        }
      }
    }
  }

  private InvalidInputException unknown(Object value) {
    return new InvalidInputException(
        "input '"
            + input
            + "' has value '"
            + value
            + "', which is not one of the categories of the model's oneHotEncoder ("
            + (strings.isEmpty() ? integers : strings)
            + "), and the encoder refuses unknown values (ErrorOnUnknown)");
  }
}
