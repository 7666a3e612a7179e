package dev.hangar.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the inputs of {@code hangar infer} from JSON, in either of two forms:
 *
 * <ul>
 *   <li>a v2 request: {@code {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 10],
 *       "data": [...]}]}};
 *   <li>a mapping of input names to nested lists: {@code {"features": [[0.1, 0.2, ...]]}}, whose
 *       datatype comes from the model's signature and shape from the nesting; a model with a batch
 *       dimension also takes one row without it.
 * </ul>
 */
final class RequestInputs {
  // a key given twice would otherwise keep its last value silently
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private RequestInputs() {}

  /**
   * Returns the JSON text of {@code --input}: the argument itself, or the file after an {@code @}.
   */
  static String text(String argument) {
    if (!argument.startsWith("@")) {
      return argument;
    }
    return read(Path.of(argument.substring(1)), "--input");
  }

  /** Returns the text of the file an option names. */
  static String read(Path file, String option) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UsageException(
          "cannot read the " + option + " file " + file + ": " + IoProblems.describe(e));
    }
  }

  /**
   * Collects the inputs of {@code --input} (JSON, may be null) and {@code --input-npy} (name to
   * file), each input given once.
   */
  static List<Tensor> collect(String json, Map<String, Path> npyFiles, ModelSignature signature) {
    List<Tensor> tensors = new ArrayList<>();
    if (json != null) {
      tensors.addAll(parse(text(json), signature));
    }
    for (Map.Entry<String, Path> entry : npyFiles.entrySet()) {
      String name = entry.getKey();
      if (tensors.stream().anyMatch(tensor -> tensor.name().equals(name))) {
        throw new UsageException("input '" + name + "' is given twice: by --input and --input-npy");
      }
      TensorSpec spec =
          signature
              .input(name)
              .orElseThrow(
                  () ->
                      new UsageException(
                          "--input-npy names input '"
                              + name
                              + "'; the model's inputs are "
                              + signature.inputs().stream().map(TensorSpec::name).toList()));
      Tensor tensor = NpyFile.read(name, entry.getValue());
      long[] shape = withBatchDimension(tensor.shape(), spec, signature.batched());
      tensors.add(Tensor.of(name, tensor.dataType(), shape, tensor.data()));
    }
    return tensors;
  }

  /** Parses the inputs against the model's signature. */
  static List<Tensor> parse(String json, ModelSignature signature) {
    return parse(json, signature.inputs(), signature.batched(), "inputs", "--input");
  }

  /**
   * Parses expected outputs against the model's signature: a v2 response {@code {"outputs": [...]}}
   * (what {@code hangar infer} prints) or {@code {"<output>": <nested list>}}.
   */
  static List<Tensor> parseOutputs(String json, ModelSignature signature) {
    return parse(json, signature.outputs(), signature.batched(), "outputs", "--expect");
  }

  private static List<Tensor> parse(
      String json, List<TensorSpec> specs, boolean batched, String listField, String option) {
    String kind = listField.substring(0, listField.length() - 1);
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException(option + " is not valid JSON: " + V2Json.syntaxError(e));
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException(
          option
              + " must be a JSON object: {\""
              + listField
              + "\": [...]} or {\"<"
              + kind
              + " name>\": [...]}");
    }
    List<Tensor> tensors = new ArrayList<>();
    if (root.has(listField) && root.get(listField).isArray()) {
      if (listField.equals("inputs")) {
        refuseRequestFieldsOtherThanInputs(root, option);
      }
      for (JsonNode tensor : root.get(listField)) {
        tensors.add(V2Json.readTensor(tensor));
      }
      return tensors;
    }
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String name = field.getKey();
      TensorSpec spec =
          specs.stream()
              .filter(candidate -> candidate.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () ->
                      new InvalidInputException(
                          "unknown "
                              + kind
                              + " '"
                              + name
                              + "'; the model's "
                              + listField
                              + " are "
                              + specs.stream().map(TensorSpec::name).toList()));
      JsonNode value = field.getValue();
      if (value.isObject()) {
        if (value.get("data") == null) {
          throw new InvalidInputException(
              kind + " '" + name + "' gives no \"data\"; write {\"data\": [...]} beside its shape");
        }
        tensors.add(
            V2Json.readData(
                name,
                V2Json.readDataType(value, name),
                V2Json.readShape(value, name),
                value.get("data")));
        continue;
      }
      long[] shape = withBatchDimension(shapeOf(value, name), spec, batched);
      tensors.add(V2Json.readData(name, spec.dataType(), shape, value));
    }
    return tensors;
  }

  /**
   * Refuses the fields of a v2 request that hangar infer would otherwise drop without a word: its
   * {@code outputs} (--output names them) and {@code parameters}, and anything a v2 request does
   * not have. Its {@code id} only labels it, and is let through.
   */
  private static void refuseRequestFieldsOtherThanInputs(JsonNode request, String option) {
    for (Map.Entry<String, JsonNode> field : request.properties()) {
      String name = field.getKey();
      switch (name) {
        case "inputs", "id" -> {}
        case "outputs" ->
            throw new InvalidInputException(
                option
                    + " holds \"outputs\", which hangar infer does not take from it; name the"
                    + " outputs to print with --output");
        case "parameters" ->
            throw new InvalidInputException(
                option
                    + " holds \"parameters\", which hangar infer does not take from it: it runs the"
                    + " request as it is, with no priority, timeout or binary output");
        default ->
            throw new InvalidInputException(
                option
                    + " holds \""
                    + name
                    + "\", which is not a field of a v2 request; it has \"inputs\", and may have"
                    + " \"id\"");
      }
    }
  }

  /**
   * Adds a batch dimension of 1 when the model is batched and {@code shape} has one dimension fewer
   * than the spec: one row given without its batch.
   */
  static long[] withBatchDimension(long[] shape, TensorSpec spec, boolean batched) {
    if (!batched || shape.length != spec.rank() - 1) {
      return shape;
    }
    long[] withBatch = new long[shape.length + 1];
    withBatch[0] = 1;
    System.arraycopy(shape, 0, withBatch, 1, shape.length);
    return withBatch;
  }

  private static long[] shapeOf(JsonNode value, String name) {
    List<Long> dims = new ArrayList<>();
    JsonNode level = value;
    while (level.isArray()) {
      dims.add((long) level.size());
      if (level.isEmpty()) {
        break;
      }
      level = level.get(0);
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    checkRectangular(value, shape, 0, name);
    return shape;
  }

  private static void checkRectangular(JsonNode value, long[] shape, int depth, String name) {
    if (depth == shape.length) {
      if (value.isArray()) {
        throw new InvalidInputException(
            "input '" + name + "' is not rectangular: nesting differs between rows");
      }
      return;
    }
    if (!value.isArray() || value.size() != shape[depth]) {
      throw new InvalidInputException(
          "input '" + name + "' is not rectangular: rows at depth " + depth + " differ in length");
    }
    for (JsonNode child : value) {
      checkRectangular(child, shape, depth + 1, name);
    }
  }
}
