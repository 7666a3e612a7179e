package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.DataType;
import dev.hangar.spi.TensorSpec;
import java.util.List;

/**
 * One declared input or output in {@code config.yaml}: {@code {name: features, datatype: FP32,
 * shape: [-1, 10]}}.
 *
 * @param name the tensor name
 * @param datatype the v2 datatype
 * @param shape the dimensions, -1 for a free one; dimension 0 is the batch dimension of a batched
 *     model
 */
public record TensorConfig(String name, DataType datatype, List<Long> shape) {
  /** Validates and copies. */
  public TensorConfig {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a declared tensor needs a name");
    }
    requireNonNull(datatype, "tensor '" + name + "' needs a datatype");
    requireNonNull(shape, "tensor '" + name + "' needs a shape (use [] for a scalar)");
    shape = List.copyOf(shape);
    for (long dimension : shape) {
      if (dimension < -1) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' shape " + shape + " has a dimension below -1");
      }
    }
  }

  /** Returns the SPI spec. */
  public TensorSpec toSpec() {
    return new TensorSpec(name, datatype, shape.stream().mapToLong(Long::longValue).toArray());
  }
}
