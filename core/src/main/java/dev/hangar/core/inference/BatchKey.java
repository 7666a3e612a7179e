package dev.hangar.core.inference;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * What requests must share to run in one batch: for every input, its datatype and its dimensions
 * after the batch dimension. Inputs are taken in the signature's order.
 */
final class BatchKey {
  private final DataType[] types;
  private final long[][] trailingDimensions;
  private final int hash;

  private BatchKey(DataType[] types, long[][] trailingDimensions) {
    this.types = types;
    this.trailingDimensions = trailingDimensions;
    this.hash = 31 * Arrays.hashCode(types) + Arrays.deepHashCode(trailingDimensions);
  }

  /** Returns the key of inputs ordered as the signature's inputs. */
  static BatchKey of(List<Tensor> orderedInputs) {
    DataType[] types = new DataType[orderedInputs.size()];
    long[][] trailing = new long[orderedInputs.size()][];
    for (int i = 0; i < types.length; i++) {
      Tensor input = orderedInputs.get(i);
      types[i] = input.dataType();
      long[] shape = input.shape();
      trailing[i] = shape.length == 0 ? shape : Arrays.copyOfRange(shape, 1, shape.length);
    }
    return new BatchKey(types, trailing);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof BatchKey that
        && hash == that.hash
        && Arrays.equals(types, that.types)
        && Arrays.deepEquals(trailingDimensions, that.trailingDimensions);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
