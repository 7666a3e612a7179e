package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.DataType;
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.Tensor;
import java.util.List;

/**
 * Compares a variant's outputs with the original's, over many input sets, as absolute differences:
 * the largest and the mean. Every numeric output counts (integers too: a flipped class label is an
 * error of at least 1); BYTES outputs must match exactly, a mismatch counting as an infinite error.
 * NaN against NaN is equal; NaN against a number is an infinite error.
 */
public final class OutputComparison {
  private double maxError;
  private double sumError;
  private double maxReference;
  private long values;
  private int sets;

  /** Adds one input set's outputs: {@code reference} from the original, in the same order. */
  public void add(List<Tensor> reference, List<Tensor> candidate) {
    if (reference.size() != candidate.size()) {
      throw new IllegalArgumentException(
          "the variant gives " + candidate.size() + " outputs, the original " + reference.size());
    }
    for (int i = 0; i < reference.size(); i++) {
      Tensor expected = reference.get(i);
      Tensor actual = candidate.get(i);
      if (!java.util.Arrays.equals(expected.shape(), actual.shape())) {
        throw new IllegalArgumentException(
            "output '"
                + expected.name()
                + "' has shape "
                + java.util.Arrays.toString(actual.shape())
                + " in the variant and "
                + java.util.Arrays.toString(expected.shape())
                + " in the original");
      }
      if (expected.dataType() == DataType.BYTES) {
        boolean same = expected.toStringList().equals(actual.toStringList());
        values += expected.elementCount();
        if (!same) {
          maxError = Double.POSITIVE_INFINITY;
          sumError = Double.POSITIVE_INFINITY;
        }
        continue;
      }
      double[] want = expected.toDoubleArray();
      double[] got = actual.toDoubleArray();
      for (int j = 0; j < want.length; j++) {
        double error = difference(want[j], got[j]);
        maxError = Math.max(maxError, error);
        sumError += error;
        if (!Double.isNaN(want[j])) {
          maxReference = Math.max(maxReference, Math.abs(want[j]));
        }
      }
      values += want.length;
    }
    sets++;
  }

  private static double difference(double want, double got) {
    if (Double.isNaN(want) || Double.isNaN(got)) {
      return Double.isNaN(want) && Double.isNaN(got) ? 0 : Double.POSITIVE_INFINITY;
    }
    if (want == got) {
      return 0; // equal infinities included
    }
    return Math.abs(want - got);
  }

  /** Returns the comparison so far. */
  public Accuracy result() {
    return new Accuracy(maxError, values == 0 ? 0 : sumError / values, maxReference, values, sets);
  }
}
