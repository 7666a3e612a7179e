package dev.hangar.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The v2 inference request and response bodies, in JSON and with Triton's binary tensor data
 * extension.
 *
 * <p>A body may be JSON alone, the raw data of a one-input model ({@code
 * Inference-Header-Content-Length: 0}, see {@link #decodeRaw}), or (with a positive {@code
 * Inference-Header-Content-Length}) a JSON header followed by the binary data of the inputs that
 * say {@code "binary_data_size"} (or {@code "binary_data": true}), in input order. Binary data is
 * little-endian, row-major; BYTES elements are a 4-byte little-endian length and the bytes, exactly
 * the layout of {@link Tensor}, so binary tensors are taken over without a copy and every value
 * keeps its bits.
 *
 * <p>Request parameters: {@code binary_data_output} (all outputs binary unless an output says
 * otherwise), {@code priority} (1 is the highest; 0 means the model's default) and {@code timeout}
 * (microseconds, as Triton; 0 means the model's default). Unknown parameters are ignored, but a
 * field the protocol does not define, in the request, an input or an output, is refused: a
 * misspelled {@code "outputs"} would otherwise answer with every output.
 */
final class InferenceCodec {
  private static final JsonFactory FACTORY = V2Views.JSON.getFactory();
  // the fields the v2 protocol defines; parameters carry anything else
  private static final Set<String> REQUEST_FIELDS = Set.of("id", "parameters", "inputs", "outputs");
  private static final Set<String> INPUT_FIELDS =
      Set.of("name", "shape", "datatype", "parameters", "data");
  private static final Set<String> OUTPUT_FIELDS = Set.of("name", "parameters");

  private InferenceCodec() {}

  /**
   * A decoded request and how its outputs are to be written.
   *
   * @param request the request for core
   * @param binaryByDefault whether outputs are binary unless they say otherwise
   * @param binaryOutputs outputs that say whether they are binary
   */
  record Decoded(
      InferenceRequest request, boolean binaryByDefault, Map<String, Boolean> binaryOutputs) {
    boolean isBinary(String output) {
      return binaryOutputs.getOrDefault(output, binaryByDefault);
    }
  }

  /**
   * An encoded response body.
   *
   * @param body the bytes
   * @param headerLength the length of the JSON header when binary data follows it, else -1
   */
  record Encoded(byte[] body, int headerLength) {}

  /**
   * Decodes a request body.
   *
   * @param headerLength the {@code Inference-Header-Content-Length}, or -1 when absent
   * @param reserve told the bytes that the tensors of JSON data are about to take, before they are
   *     allocated (binary data stays in the body); it throws to refuse them, and so ends decoding
   * @throws InvalidInputException naming what is wrong
   */
  static Decoded decode(
      String model, OptionalLong version, byte[] body, int headerLength, LongConsumer reserve) {
    if (headerLength > body.length) {
      throw new InvalidInputException(
          "Inference-Header-Content-Length is "
              + headerLength
              + " but the body has only "
              + body.length
              + " bytes");
    }
    if (headerLength == 0) {
      throw new IllegalArgumentException("a raw binary request is decoded by decodeRaw");
    }
    int jsonLength = headerLength < 0 ? body.length : headerLength;
    JsonNode root = parse(body, jsonLength);
    if (!root.isObject()) {
      throw new InvalidInputException("the request body must be a JSON object");
    }
    RequestBodies.onlyFields(root, "the request", REQUEST_FIELDS);
    String id = "";
    JsonNode idNode = root.get("id");
    if (idNode != null && !idNode.isNull()) {
      if (!idNode.isTextual()) {
        throw new InvalidInputException("\"id\" must be a string");
      }
      id = idNode.textValue();
    }
    JsonNode parameters =
        objectOrEmpty(root.get("parameters"), () -> "the request's \"parameters\"");
    boolean binaryByDefault = bool(parameters, "binary_data_output", () -> "the request");
    OptionalInt priority = OptionalInt.empty();
    long priorityValue = nonNegativeInteger(parameters, "priority");
    if (priorityValue > Integer.MAX_VALUE) {
      throw new InvalidInputException("parameter \"priority\" is too large: " + priorityValue);
    }
    if (priorityValue > 0) {
      priority = OptionalInt.of((int) priorityValue);
    }
    long timeoutMicros = nonNegativeInteger(parameters, "timeout");
    if (timeoutMicros > Long.MAX_VALUE / 1000) {
      throw new InvalidInputException("parameter \"timeout\" is too large: " + timeoutMicros);
    }
    Optional<Duration> timeout =
        timeoutMicros > 0 ? Optional.of(Duration.ofNanos(timeoutMicros * 1000)) : Optional.empty();

    List<Tensor> inputs = readInputs(root.get("inputs"), body, jsonLength, reserve);
    List<String> outputs = new ArrayList<>();
    Map<String, Boolean> binaryOutputs = new HashMap<>();
    JsonNode outputNodes = root.get("outputs");
    if (outputNodes != null && !outputNodes.isNull()) {
      if (!outputNodes.isArray()) {
        throw new InvalidInputException("\"outputs\" must be a list of {\"name\": ...} objects");
      }
      for (JsonNode output : outputNodes) {
        JsonNode nameNode = output.get("name");
        if (nameNode == null || !nameNode.isTextual()) {
          throw new InvalidInputException("every requested output needs \"name\" as a string");
        }
        String name = nameNode.textValue();
        // what names the output in an error, built only for one
        Supplier<String> what = () -> "output '" + name + "'";
        RequestBodies.onlyFields(output, what, OUTPUT_FIELDS);
        if (binaryOutputs.containsKey(name) || outputs.contains(name)) {
          throw new InvalidInputException("output '" + name + "' is requested more than once");
        }
        outputs.add(name);
        JsonNode outputParameters =
            objectOrEmpty(output.get("parameters"), () -> what.get() + " parameters");
        JsonNode classification = outputParameters.get("classification");
        if (classification != null
            && !classification.isNull()
            && !(classification.isIntegralNumber() && classification.asLong() == 0)) {
          // Triton's classification extension, which this server does not offer (GET /v2); 0
          // asks for no classification there
          throw new InvalidInputException(
              "output '"
                  + name
                  + "': parameter \"classification\" is not supported; the server returns the"
                  + " output tensor itself");
        }
        JsonNode binary = outputParameters.get("binary_data");
        if (binary != null && !binary.isNull()) {
          binaryOutputs.put(name, bool(outputParameters, "binary_data", what));
        }
      }
    }
    InferenceRequest request =
        new InferenceRequest(model, version, inputs, outputs, priority, timeout, id);
    return new Decoded(request, binaryByDefault, Map.copyOf(binaryOutputs));
  }

  /**
   * Decodes a raw binary request (Triton's, {@code Inference-Header-Content-Length: 0}): the body
   * is the data of the model's only input, one row of it when the model is batched. Its type and
   * shape come from the signature; at most one free dimension, which the body's size settles. A
   * BYTES input takes the whole body as its one element. Every output is asked for, in binary.
   *
   * @throws InvalidInputException when the model has more than one input, or the body does not fit
   *     the input's shape
   */
  static Decoded decodeRaw(
      String model, OptionalLong version, byte[] body, ModelSignature signature) {
    String raw = "a raw binary request (Inference-Header-Content-Length: 0)";
    if (signature.inputs().size() != 1) {
      throw new InvalidInputException(
          raw
              + " needs a model with exactly one input, but '"
              + model
              + "' has "
              + signature.inputs().stream().map(TensorSpec::name).toList()
              + "; send a JSON header");
    }
    TensorSpec input = signature.inputs().get(0);
    long[] shape = input.shape();
    int first = 0;
    if (signature.batched()) {
      shape[0] = 1; // the request is one row, as Triton treats it
      first = 1;
    }
    int free = -1;
    long known = 1;
    for (int i = first; i < shape.length; i++) {
      if (shape[i] >= 0) {
        known *= shape[i];
      } else if (free >= 0) {
        throw new InvalidInputException(
            raw
                + " needs an input with at most one free dimension, but '"
                + input.name()
                + "' of model '"
                + model
                + "' has shape "
                + input.shapeString()
                + "; send a JSON header with the shape");
      } else {
        free = i;
      }
    }
    ByteBuffer data;
    if (input.dataType() == DataType.BYTES) {
      if (known != 1) {
        throw new InvalidInputException(
            raw
                + " with a BYTES input needs one element, but '"
                + input.name()
                + "' has shape "
                + input.shapeString());
      }
      if (free >= 0) {
        shape[free] = 1;
      }
      data = ByteBuffer.allocate(4 + body.length).order(ByteOrder.LITTLE_ENDIAN);
      data.putInt(body.length).put(body).flip();
    } else {
      long rowBytes = known * input.dataType().byteSize();
      if (free >= 0 && rowBytes > 0 && body.length % rowBytes == 0 && body.length > 0) {
        shape[free] = body.length / rowBytes;
      } else if (free >= 0 || body.length != rowBytes) {
        throw new InvalidInputException(
            raw
                + ": the body has "
                + body.length
                + " bytes, but input '"
                + input.name()
                + "' ("
                + input.dataType()
                + ", shape "
                + input.shapeString()
                + ") takes "
                + (free >= 0 ? "a positive multiple of " + rowBytes : Long.toString(rowBytes))
                + " bytes");
      }
      data = ByteBuffer.wrap(body);
    }
    List<Tensor> inputs = List.of(Tensor.of(input.name(), input.dataType(), shape, data));
    InferenceRequest request =
        new InferenceRequest(
            model, version, inputs, List.of(), OptionalInt.empty(), Optional.empty(), "");
    return new Decoded(request, true, Map.of());
  }

  private static List<Tensor> readInputs(
      JsonNode nodes, byte[] body, int jsonLength, LongConsumer reserve) {
    if (nodes == null || !nodes.isArray()) {
      throw new InvalidInputException("the request needs \"inputs\": a list of tensors");
    }
    List<Tensor> inputs = new ArrayList<>(nodes.size());
    Set<String> names = new HashSet<>();
    int offset = jsonLength;
    for (JsonNode node : nodes) {
      if (!node.isObject()) {
        throw new InvalidInputException("every input must be a JSON object");
      }
      JsonNode nameNode = node.get("name");
      if (nameNode == null || !nameNode.isTextual()) {
        throw new InvalidInputException("every input needs \"name\" as a string");
      }
      String name = nameNode.textValue();
      // what names the input in an error, built only for one
      Supplier<String> what = () -> "input '" + name + "'";
      RequestBodies.onlyFields(node, what, INPUT_FIELDS);
      if (!names.add(name)) {
        throw new InvalidInputException("input '" + name + "' is given more than once");
      }
      JsonNode parameters = objectOrEmpty(node.get("parameters"), () -> what.get() + " parameters");
      JsonNode sizeNode = parameters.get("binary_data_size");
      boolean binary =
          (sizeNode != null && !sizeNode.isNull()) || bool(parameters, "binary_data", what);
      if (!binary) {
        if (!node.hasNonNull("data") && offset < body.length) {
          throw new InvalidInputException(
              "input '"
                  + name
                  + "' has no \"data\", and binary data follows the JSON header: to take its"
                  + " data from there, give it \"parameters\": {\"binary_data_size\": N}, the"
                  + " size of its data in bytes");
        }
        inputs.add(readJsonInput(node, name, body, reserve));
        continue;
      }
      if (node.hasNonNull("data")) {
        throw new InvalidInputException(
            "input '" + name + "' has both \"data\" and binary data; send one of them");
      }
      DataType type = V2Json.readDataType(node, name);
      long[] shape = V2Json.readShape(node, name);
      long count = V2Json.elementCount("input '" + name + "'", shape);
      long size =
          sizeNode != null && !sizeNode.isNull()
              ? binarySize(name, sizeNode)
              : impliedSize(name, type, shape, count, body, offset);
      if (size > body.length - offset) {
        throw new InvalidInputException(
            "input '"
                + name
                + "' has binary_data_size "
                + size
                + " but only "
                + (body.length - offset)
                + " bytes of binary data remain after the JSON header"
                + (jsonLength == body.length
                    ? " (is Inference-Header-Content-Length missing?)"
                    : ""));
      }
      ByteBuffer data = ByteBuffer.wrap(body, offset, (int) size);
      try {
        inputs.add(Tensor.of(name, type, shape, data));
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("input '" + name + "': " + e.getMessage());
      }
      offset += (int) size;
    }
    if (offset != body.length) {
      throw new InvalidInputException(
          (body.length - offset)
              + " bytes of binary data follow the JSON header but no input claims them"
              + " (each binary input needs \"binary_data_size\")");
    }
    return inputs;
  }

  private static long binarySize(String name, JsonNode node) {
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < 0) {
      throw new InvalidInputException(
          "input '" + name + "' binary_data_size must be a non-negative integer, got " + node);
    }
    return node.longValue();
  }

  /**
   * The size of a binary input that gives no binary_data_size: from its shape's {@code count} of
   * elements, or for BYTES from the elements themselves.
   */
  private static long impliedSize(
      String name, DataType type, long[] shape, long count, byte[] body, int offset) {
    if (type.isFixedWidth()) {
      try {
        return Math.multiplyExact(count, type.byteSize());
      } catch (ArithmeticException e) {
        throw V2Json.tooManyElements("input '" + name + "'", shape);
      }
    }
    ByteBuffer view = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
    long position = offset;
    for (long i = 0; i < count; i++) {
      if (body.length - position < 4) {
        throw new InvalidInputException(
            "input '" + name + "' binary BYTES data ends before element " + i);
      }
      long length = view.getInt((int) position) & 0xFFFF_FFFFL;
      position += 4 + length;
    }
    return position - offset;
  }

  /** Encodes a response; outputs are binary where the request asked for it. */
  static Encoded encode(InferenceResponse response, Decoded request) {
    // grown in segments, never copied while it grows: a large JSON answer takes twice its size at
    // most (the segments and the answer), where a doubling stream took up to three times
    ByteArrayBuilder header = new ByteArrayBuilder(256);
    List<Tensor> binary = new ArrayList<>();
    try (JsonGenerator json = FACTORY.createGenerator(header, JsonEncoding.UTF8)) {
      json.writeStartObject();
      json.writeStringField("model_name", response.model());
      json.writeStringField("model_version", Long.toString(response.version()));
      if (!response.id().isEmpty()) {
        json.writeStringField("id", response.id());
      }
      json.writeArrayFieldStart("outputs");
      for (Tensor output : response.outputs()) {
        if (request.isBinary(output.name())) {
          V2Json.writeBinaryTensor(json, output);
          binary.add(output);
        } else {
          V2Json.writeTensor(json, output);
        }
      }
      json.writeEndArray();
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (binary.isEmpty()) {
      return new Encoded(header.toByteArray(), -1);
    }
    // the answer in one array of its exact size: growing a stream to hold large outputs would copy
    // them several times and hold up to three times their size at once
    int headerLength = header.size();
    long size = headerLength;
    for (Tensor tensor : binary) {
      size += tensor.data().remaining();
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new InvalidInputException(
          "the binary answer would take "
              + size
              + " bytes, more than one HTTP answer can hold; ask for fewer rows or outputs");
    }
    ByteBuffer answer = ByteBuffer.allocate((int) size).put(header.toByteArray());
    for (Tensor tensor : binary) {
      answer.put(tensor.data());
    }
    return new Encoded(answer.array(), headerLength);
  }

  /**
   * Parses the JSON of a request, leaving the {@code "data"} lists of its inputs where they are in
   * the body (a {@link DataRange} in the tree): they are read straight into their tensors later,
   * never into a tree of nodes, which would cost about 30 bytes a value.
   */
  private static JsonNode parse(byte[] body, int length) {
    if (length == 0) {
      throw new InvalidInputException("the request body is empty; send a v2 inference request");
    }
    try (JsonParser parser = V2Views.REQUEST_READER.createParser(body, 0, length)) {
      JsonNode root = readRequest(parser);
      if (parser.nextToken() != null) {
        JsonLocation at = parser.currentTokenLocation();
        throw new InvalidInputException(
            "the request is not valid JSON: more follows the request at line "
                + at.getLineNr()
                + ", column "
                + at.getColumnNr());
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("the request is not valid JSON: " + V2Json.syntaxError(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode readRequest(JsonParser parser) throws IOException {
    if (parser.nextToken() == null) {
      return NullNode.getInstance(); // refused by the caller: not an object
    }
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      return readValue(parser); // refused by the caller: not an object
    }
    ObjectNode root = V2Views.JSON.createObjectNode();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      boolean list = parser.nextToken() == JsonToken.START_ARRAY;
      root.set(field, field.equals("inputs") && list ? readInputList(parser) : readValue(parser));
    }
    return root;
  }

  /** Reads the list of inputs, each input's {@code "data"} list as a {@link DataRange}. */
  private static ArrayNode readInputList(JsonParser parser) throws IOException {
    ArrayNode inputs = V2Views.JSON.createArrayNode();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        inputs.add(readValue(parser)); // refused by readInputs: not an object
        continue;
      }
      ObjectNode input = V2Views.JSON.createObjectNode();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        boolean list = parser.nextToken() == JsonToken.START_ARRAY;
        long start = parser.currentTokenLocation().getByteOffset();
        // no byte offsets: JSON not in UTF-8 (RFC 8259 asks for UTF-8), read as a tree then
        if (list && field.equals("data") && start >= 0) {
          parser.skipChildren();
          int end = (int) parser.currentLocation().getByteOffset();
          input.set(field, new POJONode(new DataRange((int) start, end)));
        } else {
          input.set(field, readValue(parser));
        }
      }
      inputs.add(input);
    }
    return inputs;
  }

  /**
   * Reads the value at the parser's current token as a tree: the small fields of a request (names,
   * shapes, parameters). Built here rather than by the mapper, whose every call sets up a
   * deserialization context, a cost each request would pay several times.
   */
  private static JsonNode readValue(JsonParser parser) throws IOException {
    JsonNodeFactory nodes = V2Views.JSON.getNodeFactory();
    return switch (parser.currentToken()) {
      case START_OBJECT -> {
        ObjectNode object = nodes.objectNode();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String field = parser.currentName();
          parser.nextToken();
          object.set(field, readValue(parser));
        }
        yield object;
      }
      case START_ARRAY -> {
        ArrayNode array = nodes.arrayNode();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          array.add(readValue(parser));
        }
        yield array;
      }
      case VALUE_STRING -> nodes.textNode(parser.getText());
      case VALUE_NUMBER_INT ->
          switch (parser.getNumberType()) {
            case INT -> nodes.numberNode(parser.getIntValue());
            case LONG -> nodes.numberNode(parser.getLongValue());
            default -> nodes.numberNode(parser.getBigIntegerValue());
          };
      case VALUE_NUMBER_FLOAT -> nodes.numberNode(parser.getDoubleValue());
      case VALUE_TRUE -> nodes.booleanNode(true);
      case VALUE_FALSE -> nodes.booleanNode(false);
      default -> nodes.nullNode();
    };
  }

  /** Where an input's {@code "data"} list lies in the request body. */
  private record DataRange(int start, int end) {}

  /** Reads a JSON input, its data from the body when the parse left it there. */
  private static Tensor readJsonInput(
      JsonNode node, String name, byte[] body, LongConsumer reserve) {
    if (node.get("data") instanceof POJONode placeholder
        && placeholder.getPojo() instanceof DataRange range) {
      DataType type = V2Json.readDataType(node, name);
      long[] shape = V2Json.readShape(node, name);
      try (JsonParser data =
          V2Views.REQUEST_READER.createParser(body, range.start(), range.end() - range.start())) {
        data.nextToken();
        return V2Json.readData(name, type, shape, data, reserve);
      } catch (JsonProcessingException e) {
        // the first pass skipped the data without reading its values, so their limits (a string's
        // or a number's length) are met only now
        throw new InvalidInputException(
            "input '" + name + "' data is not valid JSON: " + e.getOriginalMessage());
      } catch (IOException e) {
        throw new UncheckedIOException(e); // read from an array: nothing else can fail
      }
    }
    return V2Json.readTensor(node, reserve);
  }

  private static JsonNode objectOrEmpty(JsonNode node, Supplier<String> what) {
    if (node == null || node.isNull()) {
      return V2Views.JSON.createObjectNode();
    }
    if (!node.isObject()) {
      throw new InvalidInputException(what.get() + " must be a JSON object");
    }
    return node;
  }

  private static boolean bool(JsonNode parameters, String name, Supplier<String> owner) {
    JsonNode value = parameters.get(name);
    if (value == null || value.isNull()) {
      return false;
    }
    if (!value.isBoolean()) {
      throw new InvalidInputException(
          owner.get() + " parameter \"" + name + "\" must be true or false, got " + value);
    }
    return value.booleanValue();
  }

  private static long nonNegativeInteger(JsonNode parameters, String name) {
    JsonNode value = parameters.get(name);
    if (value == null || value.isNull()) {
      return 0;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
      throw new InvalidInputException(
          "parameter \"" + name + "\" must be a non-negative integer, got " + value);
    }
    return value.longValue();
  }
}
