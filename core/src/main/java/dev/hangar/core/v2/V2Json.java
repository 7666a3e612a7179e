package dev.hangar.core.v2;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

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
 *   <li>BYTES elements travel as strings: read strings are encoded UTF-8, and one UTF-8 cannot
 *       encode (a lone surrogate) is refused; written elements that are not valid UTF-8 are refused
 *       on JSON output (ask for binary output instead).
 * </ul>
 *
 * <p>Data may be nested like the shape or flat, in row-major order; data nested any other way is
 * refused, naming where it differs.
 */
public final class V2Json {
  // reads only: a JSON value for an error message, a parser over a tree
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final BigInteger UINT64_MAX =
      BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  // reading data that answers to no memory limit but the heap's
  private static final LongConsumer ANY_MEMORY = bytes -> {};

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
    return readTensor(node, ANY_MEMORY);
  }

  /**
   * Reads one tensor, {@code data} included, telling {@code reserve} the bytes of its values before
   * they are allocated (see {@link #readData(String, DataType, long[], JsonParser, LongConsumer)}).
   *
   * @throws InvalidInputException naming the tensor and what is wrong
   */
  public static Tensor readTensor(JsonNode node, LongConsumer reserve) {
    String name = requiredText(node, "name", "a tensor");
    DataType type = readDataType(node, name);
    long[] shape = readShape(node, name);
    JsonNode data = node.get("data");
    if (data == null || data.isNull()) {
      throw new InvalidInputException("tensor '" + name + "' has no \"data\"");
    }
    return readData(name, type, shape, data, reserve);
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
    return readData(name, type, shape, data, ANY_MEMORY);
  }

  private static Tensor readData(
      String name, DataType type, long[] shape, JsonNode data, LongConsumer reserve) {
    try (JsonParser parser = data.traverse(MAPPER)) {
      parser.nextToken();
      return readData(name, type, shape, parser, reserve);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads JSON data straight from a parser into a tensor of the given type and shape: no tree of
   * JSON nodes is built, so a value costs its own bytes (a tree node costs about 30).
   *
   * @param data a parser whose current token is the first of the data (a list, or one value)
   * @param reserve told the bytes the tensor's values are about to take, before they are allocated,
   *     as they come; it throws to refuse them, and reading ends with its exception
   * @throws InvalidInputException naming the tensor and what is wrong: nesting unlike the shape,
   *     too few or too many values, or a value that is not of the type
   */
  public static Tensor readData(
      String name, DataType type, long[] shape, JsonParser data, LongConsumer reserve)
      throws IOException {
    long expected = elementCount("tensor '" + name + "'", shape);
    if (type != DataType.BYTES && expected > (Integer.MAX_VALUE - 8) / type.byteSize()) {
      throw tooManyElements("tensor '" + name + "'", shape);
    }
    Values values = new Values(name, type, expected, reserve);
    if (data.currentToken() != JsonToken.START_ARRAY) {
      values.add(data); // one value alone
    } else if (data.nextToken() == JsonToken.START_ARRAY) {
      readNested(name, shape, data, new int[shape.length], 0, values);
    } else {
      readFlat(name, data, values);
    }
    if (values.count != expected) {
      throw new InvalidInputException(
          "tensor '"
              + name
              + "' has "
              + values.count
              + " values but shape "
              + Arrays.toString(shape)
              + " needs "
              + expected);
    }
    return values.tensor(shape);
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

  /** Reads flat data; the parser is on the list's first entry (or its end). */
  private static void readFlat(String name, JsonParser data, Values into) throws IOException {
    for (JsonToken token = data.currentToken();
        token != JsonToken.END_ARRAY;
        token = data.nextToken()) {
      if (token == JsonToken.START_ARRAY) {
        throw new InvalidInputException(
            "tensor '"
                + name
                + "' data mixes values and lists: data[0] is a value, data["
                + into.count
                + "] a list; nest the data like the shape or send it flat");
      }
      into.add(data);
    }
  }

  /**
   * Reads nested data, which must nest exactly like the shape: data nested otherwise (two rows of
   * five for a shape [1, 10]) is a mistake in the request more often than not. The parser is on the
   * first entry of the list at {@code depth}.
   */
  private static void readNested(
      String name, long[] shape, JsonParser data, int[] at, int depth, Values into)
      throws IOException {
    if (depth == shape.length) {
      throw nestedUnlikeShape(name, shape, at, depth, "is a list, deeper than the shape goes");
    }
    int entries = 0;
    for (JsonToken token = data.currentToken();
        token != JsonToken.END_ARRAY;
        token = data.nextToken()) {
      at[depth] = entries;
      boolean list = token == JsonToken.START_ARRAY;
      if (depth + 1 < shape.length && !list) {
        throw nestedUnlikeShape(
            name,
            shape,
            at,
            depth + 1,
            "is a value where the shape has a dimension of " + shape[depth + 1]);
      }
      if (list) {
        data.nextToken();
        readNested(name, shape, data, at, depth + 1, into);
      } else {
        into.add(data);
      }
      entries++;
    }
    if (entries != shape[depth]) {
      throw nestedUnlikeShape(
          name,
          shape,
          at,
          depth,
          "has " + entries + " entries where the shape has " + shape[depth]);
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

  /**
   * The values of one tensor as they are read: little-endian bytes of the type (or BYTES elements),
   * in a buffer that grows with them, so that a shape cannot make it allocate ahead of the values
   * that came. Values past the shape's count are counted, not kept.
   */
  private static final class Values {
    private final String name;
    private final DataType type;
    private final long expected;
    private final LongConsumer reserve;
    private ByteBuffer buffer;
    private final List<byte[]> elements = new ArrayList<>();
    long count;

    Values(String name, DataType type, long expected, LongConsumer reserve) {
      this.name = name;
      this.type = type;
      this.expected = expected;
      this.reserve = reserve;
      int first = type == DataType.BYTES ? 0 : (int) Math.min(expected, 1024) * type.byteSize();
      reserve.accept(first);
      this.buffer = ByteBuffer.allocate(first).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Adds the value at the parser's current token. */
    void add(JsonParser value) throws IOException {
      int index = (int) Math.min(count, Integer.MAX_VALUE);
      count++;
      if (count > expected) {
        value.skipChildren(); // counted for the error, not kept
        return;
      }
      if (type == DataType.BYTES) {
        if (value.currentToken() != JsonToken.VALUE_STRING) {
          throw badValue(name, type, index, value);
        }
        byte[] element = utf8(name, index, text(name, index, value));
        reserve.accept(element.length);
        elements.add(element);
        return;
      }
      if (buffer.remaining() < type.byteSize()) {
        long grown = Math.min((long) buffer.capacity() * 2, expected * type.byteSize());
        reserve.accept(grown - buffer.capacity());
        buffer = ByteBuffer.allocate((int) grown).order(ByteOrder.LITTLE_ENDIAN).put(buffer.flip());
      }
      switch (type) {
        case BOOL -> buffer.put(readBool(name, index, value) ? (byte) 1 : (byte) 0);
        case FP32 -> buffer.putFloat((float) readFloating(name, type, index, value));
        case FP64 -> buffer.putDouble(readFloating(name, type, index, value));
        case FP16 ->
            buffer.putShort(HalfFloats.toFp16((float) readFloating(name, type, index, value)));
        case BF16 ->
            buffer.putShort(HalfFloats.toBf16((float) readFloating(name, type, index, value)));
        case INT8 -> buffer.put((byte) readInteger(name, type, index, value, -128, 127));
        case UINT8 -> buffer.put((byte) readInteger(name, type, index, value, 0, 255));
        case INT16 -> buffer.putShort((short) readInteger(name, type, index, value, -32768, 32767));
        case UINT16 -> buffer.putShort((short) readInteger(name, type, index, value, 0, 65535));
        case INT32 ->
            buffer.putInt(
                (int) readInteger(name, type, index, value, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case UINT32 -> buffer.putInt((int) readInteger(name, type, index, value, 0, 0xFFFF_FFFFL));
        case INT64 ->
            buffer.putLong(readInteger(name, type, index, value, Long.MIN_VALUE, Long.MAX_VALUE));
        case UINT64 -> buffer.putLong(readUnsigned64(name, index, value));
        default -> throw new IllegalStateException(type.name());
      }
    }

    Tensor tensor(long[] shape) {
      if (type == DataType.BYTES) {
        return Tensor.ofByteElements(name, shape, elements);
      }
      return Tensor.of(name, type, shape, buffer.flip());
    }
  }

  /**
   * The text of a BYTES element. The parser measures a string only when it reads it, so a string
   * longer than its limit is found here, not where the request was parsed to find its data.
   */
  private static String text(String name, int index, JsonParser value) throws IOException {
    try {
      return value.getText();
    } catch (StreamConstraintsException e) {
      throw new InvalidInputException(
          "tensor '"
              + name
              + "' element "
              + index
              + " is a string of more than the "
              + value.streamReadConstraints().getMaxStringLength()
              + " characters this server reads in a JSON string; send long BYTES elements as binary"
              + " data"
              + " (the binary_tensor_data extension: \"parameters\": {\"binary_data_size\": N})");
    }
  }

  /**
   * The UTF-8 bytes of a BYTES element's text, refusing a lone UTF-16 surrogate (a JSON escape of
   * D800 to DFFF without its pair): UTF-8 cannot encode one, and {@link String#getBytes} would make
   * it a '?'.
   */
  private static byte[] utf8(String name, int index, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++; // a pair: one character beyond the first 65536
      } else if (Character.isSurrogate(c)) {
        throw new InvalidInputException(
            String.format(
                "tensor '%s' element %d is not valid text: character %d is a lone UTF-16"
                    + " surrogate (\\u%04x), which UTF-8 cannot encode; send the element's bytes"
                    + " as binary data",
                name, index, i, (int) c));
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean readBool(String name, int index, JsonParser value) throws IOException {
    JsonToken token = value.currentToken();
    if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
      return token == JsonToken.VALUE_TRUE;
    }
    if (token == JsonToken.VALUE_NUMBER_INT
        && value.getNumberType() != JsonParser.NumberType.BIG_INTEGER
        && (value.getLongValue() == 0 || value.getLongValue() == 1)) {
      return value.getLongValue() == 1;
    }
    throw badValue(name, DataType.BOOL, index, value);
  }

  private static double readFloating(String name, DataType type, int index, JsonParser value)
      throws IOException {
    JsonToken token = value.currentToken();
    if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
      return value.getDoubleValue();
    }
    if (token == JsonToken.VALUE_STRING) {
      switch (value.getText()) {
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
      String name, DataType type, int index, JsonParser value, long min, long max)
      throws IOException {
    if (value.currentToken() != JsonToken.VALUE_NUMBER_INT
        || value.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw badValue(name, type, index, value);
    }
    long parsed = value.getLongValue();
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

  private static long readUnsigned64(String name, int index, JsonParser value) throws IOException {
    if (value.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      throw badValue(name, DataType.UINT64, index, value);
    }
    BigInteger parsed = value.getBigIntegerValue();
    if (parsed.signum() < 0 || parsed.compareTo(UINT64_MAX) > 0) {
      throw new InvalidInputException(
          "tensor '" + name + "' element " + index + " is " + parsed + ", outside UINT64");
    }
    return parsed.longValue();
  }

  /** The error for a value of the wrong kind, showing it as JSON. */
  private static InvalidInputException badValue(
      String name, DataType type, int index, JsonParser value) throws IOException {
    return new InvalidInputException(
        "tensor '"
            + name
            + "' element "
            + index
            + " ("
            + MAPPER.readTree(value)
            + ") is not a "
            + type
            + " value");
  }

  private static String requiredText(JsonNode node, String field, String owner) {
    JsonNode value = node == null ? null : node.get(field);
    if (value == null || !value.isTextual()) {
      throw new InvalidInputException(owner + " needs \"" + field + "\" as a string");
    }
    return value.textValue();
  }
}
