package dev.hangar.testkit;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.Tensor;
import java.util.List;

/**
 * Inputs and the outputs a model must produce for them.
 *
 * @param inputs one tensor per model input
 * @param expectedOutputs one tensor per model output, in the signature's order
 */
public record ReferenceCase(List<Tensor> inputs, List<Tensor> expectedOutputs) {
  /** Validates and copies. */
  public ReferenceCase {
    inputs = List.copyOf(requireNonNull(inputs, "inputs is null"));
    expectedOutputs = List.copyOf(requireNonNull(expectedOutputs, "expectedOutputs is null"));
  }
}
