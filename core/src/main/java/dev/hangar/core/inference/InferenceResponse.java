package dev.hangar.core.inference;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * The answer to an {@link InferenceRequest}. Its tensors are immutable: a cached response is shared
 * by every caller that receives it.
 *
 * @param model the model name
 * @param version the version that answered
 * @param id the request's id
 * @param outputs the outputs asked for, in the order asked (or the model's)
 * @param cached whether the response came from the response cache
 */
public record InferenceResponse(
    String model, long version, String id, List<Tensor> outputs, boolean cached) {
  /** Validates and copies. */
  public InferenceResponse {
    requireNonNull(model, "model is null");
    requireNonNull(id, "id is null");
    outputs = List.copyOf(requireNonNull(outputs, "outputs is null"));
  }

  /** Returns the output of the given name. */
  public Optional<Tensor> output(String name) {
    return outputs.stream().filter(tensor -> tensor.name().equals(name)).findFirst();
  }
}
