package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Compares a response's outputs with expected values: floating-point values within an absolute
 * tolerance (NaN matches NaN), integers, booleans and byte strings exactly. An expected tensor of
 * one row (dimension 0 of size 1) matches every row of a larger batch, so one expected row checks a
 * request of {@code --batch N} copies of one input row.
 */
public final class OutputCheck {
  private final List<Tensor> expected;
  private final double tolerance;

  /** Checks against {@code expected} (by output name) within {@code tolerance}. */
  public OutputCheck(List<Tensor> expected, double tolerance) {
    this.expected = List.copyOf(requireNonNull(expected, "expected is null"));
    if (!(tolerance >= 0)) {
      throw new IllegalArgumentException("the tolerance must be zero or more, got " + tolerance);
    }
    this.tolerance = tolerance;
  }

  /** Returns the names of the outputs checked. */
  public List<String> outputs() {
    return expected.stream().map(Tensor::name).toList();
  }

  /** Returns how the outputs differ from the expected ones, or empty when they match. */
  public Optional<String> mismatch(List<Tensor> outputs) {
    for (Tensor want : expected) {
      Optional<Tensor> got =
          outputs.stream().filter(tensor -> tensor.name().equals(want.name())).findFirst();
      if (got.isEmpty()) {
        return Optional.of("output '" + want.name() + "' is missing from the response");
      }
      Optional<String> difference = compare(want, got.get());
      if (difference.isPresent()) {
        return difference;
      }
    }
    return Optional.empty();
  }

  private Optional<String> compare(Tensor want, Tensor got) {
    String name = want.name();
    boolean numeric = want.dataType() != DataType.BYTES && got.dataType() != DataType.BYTES;
    if (!numeric && want.dataType() != got.dataType()) {
      return Optional.of(
          "output '" + name + "' is " + got.dataType() + ", expected " + want.dataType());
    }
    long[] wantShape = want.shape();
    long[] gotShape = got.shape();
    boolean sameShape = Arrays.equals(wantShape, gotShape);
    boolean repeatedRow =
        wantShape.length == gotShape.length
            && wantShape.length > 0
            && wantShape[0] == 1
            && Arrays.equals(
                Arrays.copyOfRange(wantShape, 1, wantShape.length),
                Arrays.copyOfRange(gotShape, 1, gotShape.length));
    if (!sameShape && !repeatedRow) {
      return Optional.of(
          "output '"
              + name
              + "' has shape "
              + Arrays.toString(gotShape)
              + ", expected "
              + Arrays.toString(wantShape));
    }
    if (!numeric) {
      List<byte[]> wanted = want.toByteElements();
      List<byte[]> gotten = got.toByteElements();
      for (int i = 0; i < gotten.size(); i++) {
        if (!Arrays.equals(wanted.get(i % wanted.size()), gotten.get(i))) {
          return Optional.of("output '" + name + "' element " + i + " differs");
        }
      }
      return Optional.empty();
    }
    boolean exact = !want.dataType().isFloatingPoint() && !got.dataType().isFloatingPoint();
    double[] wanted = want.toDoubleArray();
    double[] gotten = got.toDoubleArray();
    for (int i = 0; i < gotten.length; i++) {
      double expectedValue = wanted[i % wanted.length];
      double value = gotten[i];
      boolean matches =
          (Double.isNaN(expectedValue) && Double.isNaN(value))
              || (exact ? value == expectedValue : Math.abs(value - expectedValue) <= tolerance)
              || value == expectedValue;
      if (!matches) {
        return Optional.of(
            String.format(
                Locale.ROOT,
                "output '%s' element %d is %s, expected %s%s",
                name,
                i,
                format(value),
                format(expectedValue),
                exact ? "" : " (tolerance " + tolerance + ")"));
      }
    }
    return Optional.empty();
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
