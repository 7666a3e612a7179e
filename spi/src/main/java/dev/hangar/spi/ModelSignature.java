package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The inputs and outputs of a model, and whether dimension 0 of every one of them is a batch
 * dimension.
 *
 * <p>When {@code batched} is true, every input and output has rank at least 1 and a free dimension
 * 0, and rows along dimension 0 are independent: running two requests stacked along dimension 0
 * gives the two results stacked the same way.
 *
 * @param inputs the inputs, in the model's order
 * @param outputs the outputs, in the model's order
 * @param batched whether dimension 0 of every input and output is a batch dimension
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs, boolean batched) {
  /** Validates and copies. */
  public ModelSignature {
    inputs = List.copyOf(requireNonNull(inputs, "inputs is null"));
    outputs = List.copyOf(requireNonNull(outputs, "outputs is null"));
    checkUniqueNames(inputs, "input");
    checkUniqueNames(outputs, "output");
    if (batched) {
      for (TensorSpec spec : concat(inputs, outputs)) {
        if (spec.rank() == 0 || spec.dimension(0) != -1) {
          throw new IllegalArgumentException(
              "a batched signature needs a free dimension 0 on every tensor, but '"
                  + spec.name()
                  + "' has shape "
                  + spec.shapeString());
        }
      }
    }
  }

  /**
   * Returns the signature batched when every input and output has a free dimension 0, unbatched
   * otherwise.
   */
  public static ModelSignature inferBatching(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    boolean batchable = !inputs.isEmpty();
    for (TensorSpec spec : concat(inputs, outputs)) {
      batchable &= spec.rank() > 0 && spec.dimension(0) == -1;
    }
    return new ModelSignature(inputs, outputs, batchable);
  }

  /** Returns the input with the given name. */
  public Optional<TensorSpec> input(String name) {
    return named(inputs, name);
  }

  /** Returns the output with the given name. */
  public Optional<TensorSpec> output(String name) {
    return named(outputs, name);
  }

  // a loop, not a stream: requests naming their outputs look them up on every inference
  private static Optional<TensorSpec> named(List<TensorSpec> specs, String name) {
    for (TensorSpec spec : specs) {
      if (spec.name().equals(name)) {
        return Optional.of(spec);
      }
    }
    return Optional.empty();
  }

  /** Returns this signature with batching switched off (the shapes stay as they are). */
  public ModelSignature unbatched() {
    return batched ? new ModelSignature(inputs, outputs, false) : this;
  }

  /**
   * Checks a set of input tensors against this signature: every input present once, no unknown
   * input, the declared type, rank and fixed dimensions, and on a batched signature the same batch
   * size on every input.
   *
   * @throws InvalidInputException naming the offending input and what was expected
   */
  public void validateInputs(List<Tensor> tensors) {
    // a linear scan: models have few inputs, and this runs on every request
    boolean[] seen = new boolean[inputs.size()];
    long batchSize = -1;
    String batchSource = null;
    for (Tensor tensor : tensors) {
      int index = indexOfInput(tensor.name());
      if (index < 0) {
        throw new InvalidInputException(
            "unknown input '" + tensor.name() + "'; the model's inputs are " + names(inputs));
      }
      if (seen[index]) {
        throw new InvalidInputException("input '" + tensor.name() + "' is given more than once");
      }
      seen[index] = true;
      TensorSpec spec = inputs.get(index);
      if (tensor.dataType() != spec.dataType()) {
        throw new InvalidInputException(
            "input '"
                + tensor.name()
                + "' has datatype "
                + tensor.dataType()
                + " but the model expects "
                + spec.dataType());
      }
      long[] shape = tensor.shape();
      if (!spec.accepts(shape)) {
        throw new InvalidInputException(
            "input '"
                + tensor.name()
                + "' has shape "
                + Arrays.toString(shape)
                + " but the model expects "
                + spec.shapeString()
                + " (-1 = any size)");
      }
      if (batched) {
        if (batchSource == null) {
          batchSize = shape[0];
          batchSource = tensor.name();
        } else if (shape[0] != batchSize) {
          throw new InvalidInputException(
              "input '"
                  + tensor.name()
                  + "' has batch size "
                  + shape[0]
                  + " but input '"
                  + batchSource
                  + "' has batch size "
                  + batchSize);
        }
      }
    }
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < seen.length; i++) {
      if (!seen[i]) {
        TensorSpec spec = inputs.get(i);
        missing.add(spec.name() + " " + spec.dataType() + spec.shapeString());
      }
    }
    if (!missing.isEmpty()) {
      throw new InvalidInputException("missing input(s): " + String.join(", ", missing));
    }
  }

  private int indexOfInput(String name) {
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static List<String> names(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::name).toList();
  }

  private static List<TensorSpec> concat(List<TensorSpec> first, List<TensorSpec> second) {
    List<TensorSpec> all = new ArrayList<>(first);
    all.addAll(second);
    return all;
  }

  private static void checkUniqueNames(List<TensorSpec> specs, String kind) {
    Set<String> names = new HashSet<>();
    for (TensorSpec spec : specs) {
      if (!names.add(spec.name())) {
        throw new IllegalArgumentException("duplicate " + kind + " name '" + spec.name() + "'");
      }
    }
  }
}
