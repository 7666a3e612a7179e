package dev.hangar.core.inference;

import dev.hangar.core.model.LoadedVersion;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.util.ArrayList;
import java.util.List;

/** Checks a request against the version that will run it, before it is queued. */
final class RequestValidator {
  private RequestValidator() {}

  /**
   * Returns the request's batch size: its rows along dimension 0, or 1 for an unbatched model.
   *
   * @throws InvalidInputException naming what does not fit
   */
  static int validate(InferenceRequest request, LoadedVersion version) {
    ModelSignature signature = version.signature();
    String model = "model '" + request.model() + "'";
    try {
      signature.validateInputs(request.inputs());
    } catch (InvalidInputException e) {
      throw new InvalidInputException(model + ": " + e.getMessage());
    }
    for (int i = 0; i < request.outputs().size(); i++) {
      String output = request.outputs().get(i);
      if (request.outputs().subList(0, i).contains(output)) {
        throw new InvalidInputException(
            model + ": output '" + output + "' is requested more than once");
      }
      if (signature.output(output).isEmpty()) {
        throw new InvalidInputException(
            model
                + ": unknown output '"
                + output
                + "'; the model's outputs are "
                + signature.outputs().stream().map(TensorSpec::name).toList());
      }
    }
    int levels = version.config().batching().priorityLevels();
    if (request.priority().isPresent()
        && (request.priority().getAsInt() < 1 || request.priority().getAsInt() > levels)) {
      throw new InvalidInputException(
          model
              + ": priority must be from 1 (highest) to "
              + levels
              + ", got "
              + request.priority().getAsInt());
    }
    if (request.timeout().isPresent()
        && (request.timeout().get().isNegative() || request.timeout().get().isZero())) {
      throw new InvalidInputException(model + ": timeout must be positive");
    }
    if (!signature.batched()) {
      return 1;
    }
    List<Tensor> inputs = request.inputs();
    long rows = inputs.isEmpty() ? 0 : inputs.get(0).dimension(0);
    if (rows < 1) {
      throw new InvalidInputException(
          model + ": the batch dimension (dimension 0) must be at least 1");
    }
    if (rows > version.maxBatchSize()) {
      throw new InvalidInputException(
          model
              + ": batch size "
              + rows
              + " exceeds the model's max_batch_size "
              + version.maxBatchSize());
    }
    return (int) rows;
  }

  /** Returns the outputs a request asked for, in its order, or all of them. */
  static List<Tensor> select(InferenceRequest request, List<Tensor> outputs) {
    if (request.outputs().isEmpty()) {
      return outputs;
    }
    // loops, not streams: this runs on every inference that names its outputs
    List<Tensor> selected = new ArrayList<>(request.outputs().size());
    for (String name : request.outputs()) {
      for (Tensor output : outputs) {
        if (output.name().equals(name)) {
          selected.add(output);
          break;
        }
      }
    }
    if (selected.size() != request.outputs().size()) {
      throw new IllegalStateException(
          "the model returned outputs "
              + outputs.stream().map(Tensor::name).toList()
              + " for the requested "
              + request.outputs());
    }
    return List.copyOf(selected);
  }
}
