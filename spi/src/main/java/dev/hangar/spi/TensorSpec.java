package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * The declared name, element type and shape of one model input or output.
 *
 * <p>A dimension of {@code -1} is free: any size is accepted there. An empty shape declares a 0-d
 * (scalar) tensor.
 *
 * @param name the input or output name
 * @param dataType the element type
 * @param shape the dimensions, {@code -1} for a free one
 */
public record TensorSpec(String name, DataType dataType, long[] shape) {
  /** Validates and copies. */
  public TensorSpec {
    requireNonNull(name, "name is null");
    requireNonNull(dataType, "dataType is null");
    shape = requireNonNull(shape, "shape is null").clone();
    if (name.isBlank()) {
      throw new IllegalArgumentException("tensor name is blank");
    }
    for (long dimension : shape) {
      if (dimension < -1) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' shape " + Arrays.toString(shape) + " has a dimension below -1");
      }
    }
  }

  /** Returns a copy of the declared shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Returns the number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Returns the declared size of dimension {@code index}, {@code -1} when free. */
  public long dimension(int index) {
    return shape[index];
  }

  /** Returns whether every dimension is fixed. */
  public boolean isFullyStatic() {
    for (long dimension : shape) {
      if (dimension < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns whether a concrete shape fits this declaration: same rank, and every fixed dimension
   * equal.
   */
  public boolean accepts(long[] concreteShape) {
    if (concreteShape.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0 && shape[i] != concreteShape[i]) {
        return false;
      }
    }
    return true;
  }

  /** Returns the shape in the form {@code [-1, 10]}. */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TensorSpec that
        && name.equals(that.name)
        && dataType == that.dataType
        && Arrays.equals(shape, that.shape);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * name.hashCode() + dataType.hashCode()) + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + dataType + shapeString();
  }
}
