package dev.hangar.backend.coreml;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.DataType;
import java.util.Arrays;

/**
 * A CoreML feature as an ONNX value in the graph being compiled, in Hangar's batched form:
 * dimension 0 is the batch, followed by the feature's own shape. Scalars (Double, Int64, String)
 * are {@code [N]}, a MultiArray of shape {@code D} is {@code [N, D...]}, an image is {@code [N, H,
 * W, C]} UINT8, and class probabilities are {@code [N, K]} FP32 in class-label order.
 *
 * @param value the ONNX value name
 * @param kind what the feature is
 * @param dataType the element type of the value
 * @param shape the static shape, -1 where unknown
 */
record FeatureValue(String value, Kind kind, DataType dataType, long[] shape) {
  /** The kinds of feature values the compiler passes between models. */
  enum Kind {
    ARRAY,
    DOUBLE,
    INT64,
    STRING,
    IMAGE,
    PROBABILITIES
  }

  FeatureValue {
    requireNonNull(value, "value is null");
    requireNonNull(kind, "kind is null");
    requireNonNull(dataType, "dataType is null");
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  int rank() {
    return shape.length;
  }

  /** Returns the number of values per batch row, or -1 when a dimension is unknown. */
  long rowSize() {
    long size = 1;
    for (int i = 1; i < shape.length; i++) {
      if (shape[i] < 0) {
        return -1;
      }
      size *= shape[i];
    }
    return size;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof FeatureValue that
        && value.equals(that.value)
        && kind == that.kind
        && dataType == that.dataType
        && Arrays.equals(shape, that.shape);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value + ":" + kind + ":" + dataType + Arrays.toString(shape);
  }
}
