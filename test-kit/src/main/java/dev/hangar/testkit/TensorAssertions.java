package dev.hangar.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.util.List;

/** Assertions on tensors, for backend and core tests. */
public final class TensorAssertions {
  private TensorAssertions() {}

  /**
   * Asserts that {@code actual} has the expected name, type and shape, and values within {@code
   * tolerance} for floating-point types (NaN equals NaN) or exactly equal for every other type.
   */
  public static void assertTensorClose(Tensor actual, Tensor expected, double tolerance) {
    String label = "tensor '" + expected.name() + "'";
    assertThat(actual.name()).as(label + " name").isEqualTo(expected.name());
    assertThat(actual.dataType()).as(label + " datatype").isEqualTo(expected.dataType());
    assertThat(actual.shape()).as(label + " shape").containsExactly(expected.shape());
    if (!expected.dataType().isFloatingPoint()) {
      assertThat(actual.data()).as(label + " data").isEqualTo(expected.data());
      return;
    }
    double[] actualValues = actual.toDoubleArray();
    double[] expectedValues = expected.toDoubleArray();
    for (int i = 0; i < expectedValues.length; i++) {
      double want = expectedValues[i];
      double got = actualValues[i];
      if (Double.isNaN(want)) {
        assertThat(got).as(label + " element " + i).isNaN();
      } else if (Double.isInfinite(want)) {
        assertThat(got).as(label + " element " + i).isEqualTo(want);
      } else {
        assertThat(Math.abs(got - want))
            .as(label + " element " + i + ": got " + got + ", expected " + want)
            .isLessThanOrEqualTo(tolerance);
      }
    }
  }

  /** Asserts two lists of tensors pairwise with {@link #assertTensorClose}. */
  public static void assertTensorsClose(
      List<Tensor> actual, List<Tensor> expected, double tolerance) {
    assertThat(actual).as("number of tensors").hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      assertTensorClose(actual.get(i), expected.get(i), tolerance);
    }
  }

  /** Asserts that two tensors are bit-for-bit identical, name, type and shape included. */
  public static void assertTensorIdentical(Tensor actual, Tensor expected) {
    assertThat(actual.name()).isEqualTo(expected.name());
    assertThat(actual.dataType())
        .as("datatype of '" + expected.name() + "'")
        .isEqualTo(expected.dataType());
    assertThat(actual.shape())
        .as("shape of '" + expected.name() + "'")
        .containsExactly(expected.shape());
    assertThat(actual.data()).as("bytes of '" + expected.name() + "'").isEqualTo(expected.data());
  }

  /** Returns whether the type is compared with a tolerance by {@link #assertTensorClose}. */
  public static boolean isApproximate(DataType type) {
    return type.isFloatingPoint();
  }
}
