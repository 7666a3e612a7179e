package dev.hangar.cli;

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
import java.util.Iterator;
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
  private static final ObjectMapper JSON = new ObjectMapper();

  private RequestInputs() {}

  /**
   * Returns the JSON text of {@code --input}: the argument itself, or the file after an {@code @}.
   */
  static String text(String argument) {
    if (!argument.startsWith("@")) {
      return argument;
    }
    Path file = Path.of(argument.substring(1));
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UsageException("cannot read input file " + file + ": " + e.getMessage());
    }
  }

  /** Parses the inputs against the model's signature. */
  static List<Tensor> parse(String json, ModelSignature signature) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("--input is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException(
          "--input must be a JSON object: {\"inputs\": [...]} or {\"<input name>\": [...]}");
    }
    List<Tensor> tensors = new ArrayList<>();
    if (root.has("inputs") && root.get("inputs").isArray()) {
      for (JsonNode input : root.get("inputs")) {
        tensors.add(V2Json.readTensor(input));
      }
      return tensors;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String name = field.getKey();
      TensorSpec spec =
          signature
              .input(name)
              .orElseThrow(
                  () ->
                      new InvalidInputException(
                          "unknown input '"
                              + name
                              + "'; the model's inputs are "
                              + signature.inputs().stream().map(TensorSpec::name).toList()));
      JsonNode value = field.getValue();
      if (value.isObject()) {
        tensors.add(
            V2Json.readData(
                name,
                V2Json.readDataType(value, name),
                V2Json.readShape(value, name),
                value.get("data")));
        continue;
      }
      long[] shape = shapeOf(value, name);
      if (signature.batched() && shape.length == spec.rank() - 1) {
        long[] batched = new long[shape.length + 1];
        batched[0] = 1;
        System.arraycopy(shape, 0, batched, 1, shape.length);
        shape = batched;
      }
      tensors.add(V2Json.readData(name, spec.dataType(), shape, value));
    }
    return tensors;
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
