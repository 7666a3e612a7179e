package dev.hangar.testkit;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import java.util.List;

/**
 * A model a backend author supplies to {@link BackendContract}, with what it must report and
 * compute.
 *
 * @param source the model to load
 * @param expectedSignature the signature the loaded model must report
 * @param cases batch-1 inputs with their expected outputs; on a batched model the contract also
 *     stacks them into one batch and expects the outputs stacked the same way
 * @param tolerance the largest absolute difference allowed between a floating-point output and its
 *     expected value
 */
public record ReferenceModel(
    ModelSource source,
    ModelSignature expectedSignature,
    List<ReferenceCase> cases,
    double tolerance) {
  /** Validates and copies. */
  public ReferenceModel {
    requireNonNull(source, "source is null");
    requireNonNull(expectedSignature, "expectedSignature is null");
    cases = List.copyOf(requireNonNull(cases, "cases is null"));
    if (cases.isEmpty()) {
      throw new IllegalArgumentException("a reference model needs at least one case");
    }
  }
}
