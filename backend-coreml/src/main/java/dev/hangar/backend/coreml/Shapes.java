package dev.hangar.backend.coreml;

import java.util.Arrays;

/** Static shape arithmetic where -1 stands for an unknown dimension. */
final class Shapes {
  private Shapes() {}

  /** Returns the product, or -1 when a factor is unknown. */
  static long product(long... dimensions) {
    long product = 1;
    for (long dimension : dimensions) {
      if (dimension < 0) {
        return -1;
      }
      product *= dimension;
    }
    return product;
  }

  /** Returns the product of {@code shape[from, to)}, or -1 when a factor is unknown. */
  static long product(long[] shape, int from, int to) {
    return product(Arrays.copyOfRange(shape, from, to));
  }

  /** Returns {@code shape} with {@code values} appended. */
  static long[] append(long[] shape, long... values) {
    long[] all = Arrays.copyOf(shape, shape.length + values.length);
    System.arraycopy(values, 0, all, shape.length, values.length);
    return all;
  }

  /** Returns the first {@code count} dimensions. */
  static long[] head(long[] shape, int count) {
    return Arrays.copyOf(shape, count);
  }

  /** Returns the numpy broadcast of two static shapes; unknown where it cannot be told. */
  static long[] broadcast(long[] first, long[] second) {
    int rank = Math.max(first.length, second.length);
    long[] result = new long[rank];
    for (int i = 0; i < rank; i++) {
      long a = dimensionFromEnd(first, rank - 1 - i);
      long b = dimensionFromEnd(second, rank - 1 - i);
      if (a == 1) {
        result[i] = b;
      } else if (b == 1) {
        result[i] = a;
      } else if (a < 0 || b < 0) {
        result[i] = a < 0 ? b : a;
      } else if (a == b) {
        result[i] = a;
      } else {
        throw new UnsupportedModelException(
            "shapes "
                + Arrays.toString(first)
                + " and "
                + Arrays.toString(second)
                + " do not broadcast");
      }
    }
    return result;
  }

  private static long dimensionFromEnd(long[] shape, int fromEnd) {
    int index = shape.length - 1 - fromEnd;
    return index < 0 ? 1 : shape[index];
  }

  /** Returns the dimension after a convolution or pooling window with the given padding. */
  static long windowed(long size, long padding, long window, long stride) {
    if (size < 0) {
      return -1;
    }
    return Math.floorDiv(size + padding - window, stride) + 1;
  }

  /** Returns ceil(size / stride), or -1 when unknown. */
  static long ceilDivide(long size, long stride) {
    return size < 0 ? -1 : (size + stride - 1) / stride;
  }

  /** Returns {@code shape[permutation[i]]} for each i. */
  static long[] permute(long[] shape, long[] permutation) {
    long[] result = new long[permutation.length];
    for (int i = 0; i < permutation.length; i++) {
      result[i] = shape[(int) permutation[i]];
    }
    return result;
  }
}
