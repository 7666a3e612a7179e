package dev.hangar.core.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tensors in the JSON form of the Open Inference Protocol v2: {@code {"name": ..., "datatype": ...,
 * "shape": [...], "data": [...]}}.
 *
 * <p>What JSON does with values it cannot write as plain numbers, on both reading and writing:
 *
 * <ul>
 *   <li>FP16 and BF16 travel as decimal numbers: read values are rounded to the nearest
 *       representable value (ties to even); written values are the exact decimal of the stored
 *       value. Use the binary extension to carry their bits.
 *   <li>NaN and infinities of every float type travel as the strings {@code "NaN"}, {@code
 *       "Infinity"} and {@code "-Infinity"}; NaN payloads are not kept.
 *   <li>UINT64 values above 2^63-1 travel as plain (big) integers.
 *   <li>BOOL travels as {@code true}/{@code false} (0 and 1 are accepted on input).
 *   <li>BYTES elements travel as strings: read strings are encoded UTF-8; written elements that are
 *       not valid UTF-8 are refused on JSON output (ask for binary output instead).
 * </ul>
 *
 * <p>Data may be nested like the shape or flat, in row-major order; data nested any other way is
 * refused, naming where it differs.
 */
public final class V2Json {
  private static final BigInteger UINT64_MAX =
      BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private V2Json() {}

  /**
   * Says in one line what is wrong with JSON that does not parse, and where: Jackson's own message
   * names its input source and its settings, which mean nothing to whoever sent the JSON.
   */
  public static String syntaxError(JsonProcessingException e) {
    String message =
        e.getOriginalMessage()
            .replaceAll(
                "\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
    JsonLocation at = e.getLocation();
    return at == null
        ? message
        : message + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  /**
   * Reads one tensor, {@code data} included.
   *
   * @throws InvalidInputException naming the tensor and what is wrong
   */
  public static Tensor readTensor(JsonNode node) {
    String name = requiredText(node, "name", "a tensor");
    DataType type = readDataType(node, name);
    long[] shape = readShape(node, name);
    JsonNode data = node.get("data");
    if (data == null || data.isNull()) {
      throw new InvalidInputException("tensor '" + name + "' has no \"data\"");
    }
    return readData(name, type, shape, data);
  }

  /** Reads a tensor's datatype field. */
  public static DataType readDataType(JsonNode node, String name) {
    String text = requiredText(node, "datatype", "tensor '" + name + "'");
    try {
      return DataType.fromProtocolName(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("tensor '" + name + "': " + e.getMessage());
    }
  }

  /** Reads a tensor's shape field. */
  public static long[] readShape(JsonNode node, String name) {
    JsonNode shape = node.get("shape");
    if (shape == null || !shape.isArray()) {
      throw new InvalidInputException("tensor '" + name + "' needs \"shape\": a list of sizes");
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      JsonNode dim = shape.get(i);
      if (!dim.canConvertToLong() || !dim.isIntegralNumber() || dim.asLong() < 0) {
        throw new InvalidInputException(
            "tensor '" + name + "' shape " + shape + " must hold non-negative integers");
      }
      dims[i] = dim.asLong();
    }
    return dims;
  }

  /**
   * Returns how many elements a request's {@code shape} holds.
   *
   * @param what the tensor, for the error, such as {@code "input 'x'"}
   * @throws InvalidInputException when the count does not fit a long
   */
  public static long elementCount(String what, long[] shape) {
    long count = 1;
    try {
      for (long dimension : shape) {
        count = Math.multiplyExact(count, dimension);
      }
    } catch (ArithmeticException e) {
      throw tooManyElements(what, shape);
    }
    return count;
  }

  /** The error for a shape whose elements, or their bytes, do not fit a long. */
  public static InvalidInputException tooManyElements(String what, long[] shape) {
    return new InvalidInputException(
        what + " shape " + Arrays.toString(shape) + " has too many elements");
  }

  /** Reads JSON data (nested or flat) into a tensor of the given type and shape. */
  public static Tensor readData(String name, DataType type, long[] shape, JsonNode data) {
    List<JsonNode> values = new ArrayList<>();
    if (data.isArray() && !data.isEmpty() && data.get(0).isArray()) {
      collectNested(name, shape, data, new int[shape.length], 0, values);
    } else {
      collectFlat(name, data, values);
    }
    long expected = elementCount("tensor '" + name + "'", shape);
    if (values.size() != expected) {
      throw new InvalidInputException(
          "tensor '"
              + name
              + "' has "
              + values.size()
              + " values but shape "
              + Arrays.toString(shape)
              + " needs "
              + expected);
    }
    if (type == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>(values.size());
      for (int i = 0; i < values.size(); i++) {
        JsonNode value = values.get(i);
        if (!value.isTextual()) {
          throw badValue(name, type, i, value);
        }
        elements.add(value.textValue().getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.ofByteElements(name, shape, elements);
    }
    ByteBuffer buffer =
        ByteBuffer.allocate(values.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.size(); i++) {
      JsonNode value = values.get(i);
      switch (type) {
        case BOOL -> buffer.put(readBool(name, i, value) ? (byte) 1 : (byte) 0);
        case FP32 -> buffer.putFloat((float) readFloating(name, type, i, value));
        case FP64 -> buffer.putDouble(readFloating(name, type, i, value));
        case FP16 -> buffer.putShort(HalfFloats.toFp16((float) readFloating(name, type, i, value)));
        case BF16 -> buffer.putShort(HalfFloats.toBf16((float) readFloating(name, type, i, value)));
        case INT8 -> buffer.put((byte) readInteger(name, type, i, value, -128, 127));
        case UINT8 -> buffer.put((byte) readInteger(name, type, i, value, 0, 255));
        case INT16 -> buffer.putShort((short) readInteger(name, type, i, value, -32768, 32767));
        case UINT16 -> buffer.putShort((short) readInteger(name, type, i, value, 0, 65535));
        case INT32 ->
            buffer.putInt(
                (int) readInteger(name, type, i, value, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case UINT32 -> buffer.putInt((int) readInteger(name, type, i, value, 0, 0xFFFF_FFFFL));
        case INT64 ->
            buffer.putLong(readInteger(name, type, i, value, Long.MIN_VALUE, Long.MAX_VALUE));
        case UINT64 -> buffer.putLong(readUnsigned64(name, i, value));
        default -> throw new IllegalStateException(type.name());
      }
    }
    buffer.flip();
    return Tensor.of(name, type, shape, buffer);
  }

  /** Writes a whole tensor: {@code {"name", "datatype", "shape", "data"}}. */
  public static void writeTensor(JsonGenerator json, Tensor tensor) throws IOException {
    json.writeStartObject();
    writeNameTypeAndShape(json, tensor);
    json.writeFieldName("data");
    writeData(json, tensor);
    json.writeEndObject();
  }

  /**
   * Writes a tensor whose data travels after the JSON (the binary tensor extension): name,
   * datatype, shape and {@code "parameters": {"binary_data_size": n}}, without data.
   */
  public static void writeBinaryTensor(JsonGenerator json, Tensor tensor) throws IOException {
    json.writeStartObject();
    writeNameTypeAndShape(json, tensor);
    json.writeObjectFieldStart("parameters");
    json.writeNumberField("binary_data_size", tensor.byteSize());
    json.writeEndObject();
    json.writeEndObject();
  }

  private static void writeNameTypeAndShape(JsonGenerator json, Tensor tensor) throws IOException {
    json.writeStringField("name", tensor.name());
    json.writeStringField("datatype", tensor.dataType().name());
    json.writeArrayFieldStart("shape");
    for (long dimension : tensor.shape()) {
      json.writeNumber(dimension);
    }
    json.writeEndArray();
  }

  /**
   * Writes a tensor's data as a flat JSON array.
   *
   * @throws InvalidInputException for BYTES elements that are not UTF-8
   */
  public static void writeData(JsonGenerator json, Tensor tensor) throws IOException {
    ByteBuffer data = tensor.data();
    long count = tensor.elementCount();
    json.writeStartArray();
    if (tensor.dataType() == DataType.BYTES) {
      var decoder =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      for (long i = 0; i < count; i++) {
        int length = data.getInt();
        ByteBuffer element = data.slice().limit(length);
        data.position(data.position() + length);
        try {
          json.writeString(decoder.decode(element).toString());
        } catch (CharacterCodingException e) {
          throw new InvalidInputException(
              "output '"
                  + tensor.name()
                  + "' element "
                  + i
                  + " is not UTF-8 text, which JSON cannot carry; request it as binary data");
        }
      }
      json.writeEndArray();
      return;
    }
    for (long i = 0; i < count; i++) {
      switch (tensor.dataType()) {
        case BOOL -> json.writeBoolean(data.get() != 0);
        case INT8 -> json.writeNumber(data.get());
        case UINT8 -> json.writeNumber(data.get() & 0xFF);
        case INT16 -> json.writeNumber(data.getShort());
        case UINT16 -> json.writeNumber(data.getShort() & 0xFFFF);
        case INT32 -> json.writeNumber(data.getInt());
        case UINT32 -> json.writeNumber(data.getInt() & 0xFFFF_FFFFL);
        case INT64 -> json.writeNumber(data.getLong());
        case UINT64 -> {
          long bits = data.getLong();
          if (bits >= 0) {
            json.writeNumber(bits);
          } else {
            json.writeNumber(new BigInteger(Long.toUnsignedString(bits)));
          }
        }
        case FP32 -> writeFloat(json, data.getFloat());
        case FP64 -> writeDouble(json, data.getDouble());
        case FP16 -> writeFloat(json, HalfFloats.fp16ToFloat(data.getShort()));
        case BF16 -> writeFloat(json, HalfFloats.bf16ToFloat(data.getShort()));
        default -> throw new IllegalStateException(tensor.dataType().name());
      }
    }
    json.writeEndArray();
  }

  private static void writeFloat(JsonGenerator json, float value) throws IOException {
    if (Float.isFinite(value)) {
      json.writeNumber(value);
    } else {
      json.writeString(nonFinite(value));
    }
  }

  private static void writeDouble(JsonGenerator json, double value) throws IOException {
    if (Double.isFinite(value)) {
      json.writeNumber(value);
    } else {
      json.writeString(nonFinite(value));
    }
  }

  private static String nonFinite(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    return value > 0 ? "Infinity" : "-Infinity";
  }

  /** Collects flat data: a list of values, or one value alone. */
  private static void collectFlat(String name, JsonNode data, List<JsonNode> into) {
    if (!data.isArray()) {
      into.add(data);
      return;
    }
    for (int i = 0; i < data.size(); i++) {
      JsonNode value = data.get(i);
      if (value.isArray()) {
        throw new InvalidInputException(
            "tensor '"
                + name
                + "' data mixes values and lists: data[0] is a value, data["
                + i
                + "] a list; nest the data like the shape or send it flat");
      }
      into.add(value);
    }
  }

  /**
   * Collects nested data, which must nest exactly like the shape: data nested otherwise (two rows
   * of five for a shape [1, 10]) is a mistake in the request more often than not.
   */
  private static void collectNested(
      String name, long[] shape, JsonNode node, int[] at, int depth, List<JsonNode> into) {
    if (depth == shape.length) {
      if (node.isArray()) {
        throw nestedUnlikeShape(name, shape, at, depth, "is a list, deeper than the shape goes");
      }
      into.add(node);
      return;
    }
    if (!node.isArray()) {
      throw nestedUnlikeShape(
          name, shape, at, depth, "is a value where the shape has a dimension of " + shape[depth]);
    }
    if (node.size() != shape[depth]) {
      throw nestedUnlikeShape(
          name,
          shape,
          at,
          depth,
          "has " + node.size() + " entries where the shape has " + shape[depth]);
    }
    for (int i = 0; i < node.size(); i++) {
      at[depth] = i;
      collectNested(name, shape, node.get(i), at, depth + 1, into);
    }
  }

  private static InvalidInputException nestedUnlikeShape(
      String name, long[] shape, int[] at, int depth, String problem) {
    StringBuilder path = new StringBuilder("data");
    for (int i = 0; i < depth; i++) {
      path.append('[').append(at[i]).append(']');
    }
    return new InvalidInputException(
        "tensor '"
            + name
            + "' shape "
            + Arrays.toString(shape)
            + ": "
            + path
            + " "
            + problem
            + "; nest the data like the shape or send it flat");
  }

  private static boolean readBool(String name, int index, JsonNode value) {
    if (value.isBoolean()) {
      return value.booleanValue();
    }
    if (value.isIntegralNumber() && (value.asInt() == 0 || value.asInt() == 1)) {
      return value.asInt() == 1;
    }
    throw badValue(name, DataType.BOOL, index, value);
  }

  private static double readFloating(String name, DataType type, int index, JsonNode value) {
    if (value.isNumber()) {
      return value.doubleValue();
    }
    if (value.isTextual()) {
      switch (value.textValue()) {
        case "NaN", "nan":
          return Double.NaN;
        case "Infinity", "inf", "+Infinity":
          return Double.POSITIVE_INFINITY;
        case "-Infinity", "-inf":
          return Double.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw badValue(name, type, index, value);
  }

  private static long readInteger(
      String name, DataType type, int index, JsonNode value, long min, long max) {
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw badValue(name, type, index, value);
    }
    long parsed = value.longValue();
    if (parsed < min || parsed > max) {
      throw new InvalidInputException(
          "tensor '"
              + name
              + "' element "
              + index
              + " is "
              + parsed
              + ", outside "
              + type
              + " ["
              + min
              + ", "
              + max
              + "]");
    }
    return parsed;
  }

  private static long readUnsigned64(String name, int index, JsonNode value) {
    if (!value.isIntegralNumber()) {
      throw badValue(name, DataType.UINT64, index, value);
    }
    BigInteger parsed = value.bigIntegerValue();
    if (parsed.signum() < 0 || parsed.compareTo(UINT64_MAX) > 0) {
      throw new InvalidInputException(
          "tensor '" + name + "' element " + index + " is " + parsed + ", outside UINT64");
    }
    return parsed.longValue();
  }

  private static InvalidInputException badValue(
      String name, DataType type, int index, JsonNode value) {
    return new InvalidInputException(
        "tensor '" + name + "' element " + index + " (" + value + ") is not a " + type + " value");
  }

  private static String requiredText(JsonNode node, String field, String owner) {
    JsonNode value = node == null ? null : node.get(field);
    if (value == null || !value.isTextual()) {
      throw new InvalidInputException(owner + " needs \"" + field + "\" as a string");
    }
    return value.textValue();
  }
}
