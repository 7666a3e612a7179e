package dev.hangar.backend.coreml;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * A neural-network blob: the ONNX value holding it, its static shape (-1 where unknown) and what
 * its dimension 0 is.
 *
 * @param value the ONNX value name
 * @param shape the static shape, -1 where unknown
 * @param batch whether dimension 0 is an independent batch dimension
 */
record Blob(String value, long[] shape, Batch batch) {
  /** What dimension 0 of a blob is, for deciding whether a network can be batched. */
  enum Batch {
    /** Rows along dimension 0 are independent: stacking inputs stacks this blob the same way. */
    BATCHED,
    /** Computed from constants only: dimension 0 has size 1 and broadcasts. */
    CONSTANT,
    /** Dimension 0 is not a batch: a layer mixes or indexes values along it. */
    BROKEN;

    /**
     * Returns the state of a value computed from blobs of states {@code this} and {@code other}.
     */
    Batch and(Batch other) {
      if (this == BROKEN || other == BROKEN) {
        return BROKEN;
      }
      return this == BATCHED || other == BATCHED ? BATCHED : CONSTANT;
    }

    /** Returns the state after a layer that mixes values along dimension 0. */
    Batch mixed() {
      return this == CONSTANT ? CONSTANT : BROKEN;
    }
  }

  Blob {
    requireNonNull(value, "value is null");
    shape = shape.clone();
    requireNonNull(batch, "batch is null");
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  int rank() {
    return shape.length;
  }

  long dimension(int index) {
    return shape[index];
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Blob that
        && value.equals(that.value)
        && Arrays.equals(shape, that.shape)
        && batch == that.batch;
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return value + Arrays.toString(shape) + " " + batch;
  }
}
