package dev.hangar.core.inference;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One inference request.
 *
 * @param model the model name
 * @param version the version, or empty for the model's default version
 * @param inputs one tensor per model input
 * @param outputs the outputs wanted, in order; empty for all of them in the model's order
 * @param priority the priority level (1 is the highest), or empty for the model's default
 * @param timeout how long the request may wait before running; it may only shorten the model's
 *     default timeout
 * @param id the caller's request id, echoed in the response; empty when none
 */
public record InferenceRequest(
    String model,
    OptionalLong version,
    List<Tensor> inputs,
    List<String> outputs,
    OptionalInt priority,
    Optional<Duration> timeout,
    String id) {
  /** Validates and copies. */
  public InferenceRequest {
    requireNonNull(model, "model is null");
    requireNonNull(version, "version is null");
    inputs = List.copyOf(requireNonNull(inputs, "inputs is null"));
    outputs = List.copyOf(requireNonNull(outputs, "outputs is null"));
    requireNonNull(priority, "priority is null");
    requireNonNull(timeout, "timeout is null");
    requireNonNull(id, "id is null");
  }

  /** A request for the default version, every output, default priority and timeout. */
  public static InferenceRequest of(String model, List<Tensor> inputs) {
    return new InferenceRequest(
        model, OptionalLong.empty(), inputs, List.of(), OptionalInt.empty(), Optional.empty(), "");
  }

  /** Returns this request for a specific version. */
  public InferenceRequest withVersion(long number) {
    return new InferenceRequest(
        model, OptionalLong.of(number), inputs, outputs, priority, timeout, id);
  }

  /** Returns this request with a priority level. */
  public InferenceRequest withPriority(int level) {
    return new InferenceRequest(
        model, version, inputs, outputs, OptionalInt.of(level), timeout, id);
  }

  /** Returns this request with a timeout. */
  public InferenceRequest withTimeout(Duration value) {
    return new InferenceRequest(model, version, inputs, outputs, priority, Optional.of(value), id);
  }

  /** Returns this request asking for some outputs only. */
  public InferenceRequest withOutputs(List<String> names) {
    return new InferenceRequest(model, version, inputs, names, priority, timeout, id);
  }

  /** Returns this request with an id. */
  public InferenceRequest withId(String value) {
    return new InferenceRequest(model, version, inputs, outputs, priority, timeout, value);
  }
}
