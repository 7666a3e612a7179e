package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * An immutable named tensor: a {@link DataType}, a shape and little-endian data.
 *
 * <p>Fixed-width elements are packed row-major, little-endian, with no padding. {@link
 * DataType#BYTES} elements are each a 4-byte little-endian length followed by the bytes, one after
 * the other in row-major order, so that concatenating two tensors' data along dimension 0 is a
 * plain byte concatenation for every type.
 *
 * <p>A tensor never exposes a writable view of its data: {@link #data()} returns a read-only
 * buffer. The factory {@link #of} takes ownership of the buffer it is given; the caller must not
 * change that buffer afterwards. {@link #copyOf} copies instead.
 *
 * <p>Equality compares name, type, shape and every byte of data.
 */
public final class Tensor {
  private static final int MAX_BYTES_ELEMENT = Integer.MAX_VALUE - 8;

  private final String name;
  private final DataType dataType;
  private final long[] shape;
  private final long elementCount;
  private final ByteBuffer data;

  private Tensor(String name, DataType dataType, long[] shape, ByteBuffer data) {
    this.name = requireNonNull(name, "name is null");
    this.dataType = requireNonNull(dataType, "dataType is null");
    this.shape = requireNonNull(shape, "shape is null").clone();
    this.elementCount = elementCount(this.shape);
    this.data = requireNonNull(data, "data is null").slice().asReadOnlyBuffer();
    this.data.order(ByteOrder.LITTLE_ENDIAN);
    checkDataSize();
  }

  /**
   * Creates a tensor over the remaining bytes of {@code data}, which it takes ownership of without
   * copying.
   *
   * @throws IllegalArgumentException when the shape has a negative dimension or the data size does
   *     not match the shape and type
   */
  public static Tensor of(String name, DataType dataType, long[] shape, ByteBuffer data) {
    return new Tensor(name, dataType, shape, data);
  }

  /** Creates a tensor over a copy of the remaining bytes of {@code data}. */
  public static Tensor copyOf(String name, DataType dataType, long[] shape, ByteBuffer data) {
    ByteBuffer copy = ByteBuffer.allocate(data.remaining());
    copy.put(data.duplicate()).flip();
    return new Tensor(name, dataType, shape, copy);
  }

  /** Creates an FP32 tensor. */
  public static Tensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer buffer = allocate(values.length, 4);
    buffer.asFloatBuffer().put(values);
    return new Tensor(name, DataType.FP32, shape, buffer);
  }

  /** Creates an FP64 tensor. */
  public static Tensor ofDoubles(String name, long[] shape, double... values) {
    ByteBuffer buffer = allocate(values.length, 8);
    buffer.asDoubleBuffer().put(values);
    return new Tensor(name, DataType.FP64, shape, buffer);
  }

  /** Creates an INT32 tensor. */
  public static Tensor ofInts(String name, long[] shape, int... values) {
    ByteBuffer buffer = allocate(values.length, 4);
    buffer.asIntBuffer().put(values);
    return new Tensor(name, DataType.INT32, shape, buffer);
  }

  /** Creates an INT64 tensor. */
  public static Tensor ofLongs(String name, long[] shape, long... values) {
    ByteBuffer buffer = allocate(values.length, 8);
    buffer.asLongBuffer().put(values);
    return new Tensor(name, DataType.INT64, shape, buffer);
  }

  /** Creates a BOOL tensor (one byte per element, 0 or 1). */
  public static Tensor ofBooleans(String name, long[] shape, boolean... values) {
    ByteBuffer buffer = allocate(values.length, 1);
    for (boolean value : values) {
      buffer.put((byte) (value ? 1 : 0));
    }
    buffer.flip();
    return new Tensor(name, DataType.BOOL, shape, buffer);
  }

  /** Creates a BYTES tensor from UTF-8 encoded strings. */
  public static Tensor ofStrings(String name, long[] shape, String... values) {
    List<byte[]> elements = new ArrayList<>(values.length);
    for (String value : values) {
      elements.add(value.getBytes(StandardCharsets.UTF_8));
    }
    return ofByteElements(name, shape, elements);
  }

  /** Creates a BYTES tensor from raw byte strings, copying them. */
  public static Tensor ofByteElements(String name, long[] shape, List<byte[]> elements) {
    long total = 0;
    for (byte[] element : elements) {
      total += 4L + element.length;
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + name + "' is larger than 2 GiB");
    }
    ByteBuffer buffer = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] element : elements) {
      buffer.putInt(element.length).put(element);
    }
    buffer.flip();
    return new Tensor(name, DataType.BYTES, shape, buffer);
  }

  /** Returns the tensor's name. */
  public String name() {
    return name;
  }

  /** Returns the element type. */
  public DataType dataType() {
    return dataType;
  }

  /** Returns a copy of the shape; an empty array for a 0-d (scalar) tensor. */
  public long[] shape() {
    return shape.clone();
  }

  /** Returns the number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Returns the size of dimension {@code index}. */
  public long dimension(int index) {
    return shape[index];
  }

  /** Returns the number of elements: the product of the shape (1 for a scalar). */
  public long elementCount() {
    return elementCount;
  }

  /** Returns the size of the data in bytes. */
  public int byteSize() {
    return data.capacity();
  }

  /** Returns a read-only little-endian view of the data, positioned at 0. */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Stacks tensors along dimension 0: the result has the parts' rows one after the other. Every
   * part must have the same type and the same dimensions after the first.
   *
   * @throws IllegalArgumentException when the parts are empty or do not match
   */
  public static Tensor concatenateRows(String name, List<Tensor> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("nothing to concatenate into '" + name + "'");
    }
    Tensor first = parts.get(0);
    if (first.rank() == 0) {
      throw new IllegalArgumentException("a 0-d tensor has no rows to concatenate");
    }
    if (parts.size() == 1) {
      return first.withName(name);
    }
    long rows = 0;
    long bytes = 0;
    for (Tensor part : parts) {
      if (part.dataType != first.dataType
          || part.rank() != first.rank()
          || !Arrays.equals(part.shape, 1, part.shape.length, first.shape, 1, first.shape.length)) {
        throw new IllegalArgumentException(
            "cannot stack " + part + " under " + first + ": type or trailing dimensions differ");
      }
      rows += part.shape[0];
      bytes += part.data.capacity();
    }
    ByteBuffer joined = ByteBuffer.allocate(Math.toIntExact(bytes));
    for (Tensor part : parts) {
      joined.put(part.data.duplicate());
    }
    joined.flip();
    long[] shape = first.shape.clone();
    shape[0] = rows;
    return new Tensor(name, first.dataType, shape, joined);
  }

  /**
   * Returns rows {@code [from, to)} along dimension 0, sharing this tensor's data.
   *
   * @throws IndexOutOfBoundsException when the range is outside the tensor
   */
  public Tensor rows(long from, long to) {
    if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
      throw new IndexOutOfBoundsException(
          "rows [" + from + ", " + to + ") of " + this + " do not exist");
    }
    if (from == 0 && to == shape[0]) {
      return this;
    }
    long rowElements = shape[0] == 0 ? 0 : elementCount / shape[0];
    int start;
    int end;
    if (dataType.isFixedWidth()) {
      start = Math.toIntExact(from * rowElements * dataType.byteSize());
      end = Math.toIntExact(to * rowElements * dataType.byteSize());
    } else {
      start = bytesOffset(from * rowElements);
      end = bytesOffset(to * rowElements);
    }
    long[] sliced = shape.clone();
    sliced[0] = to - from;
    return new Tensor(name, dataType, sliced, data.duplicate().position(start).limit(end));
  }

  private int bytesOffset(long element) {
    ByteBuffer view = data();
    for (long i = 0; i < element; i++) {
      int length = view.getInt();
      view.position(view.position() + length);
    }
    return view.position();
  }

  /** Returns this tensor under another name, sharing the data. */
  public Tensor withName(String newName) {
    return newName.equals(name) ? this : new Tensor(newName, dataType, shape, data);
  }

  /**
   * Returns the values of an FP32, FP16 or BF16 tensor as floats.
   *
   * @throws IllegalStateException for any other type
   */
  public float[] toFloatArray() {
    float[] values = new float[Math.toIntExact(elementCount)];
    ByteBuffer view = data();
    switch (dataType) {
      case FP32 -> view.asFloatBuffer().get(values);
      case FP16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = HalfPrecision.fp16ToFloat(view.getShort());
        }
      }
      case BF16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = Float.intBitsToFloat((view.getShort() & 0xFFFF) << 16);
        }
      }
      default -> throw wrongType("toFloatArray", "FP32, FP16 or BF16");
    }
    return values;
  }

  /**
   * Returns the values of any numeric or BOOL tensor as doubles. UINT64 values above {@code
   * Long.MAX_VALUE} are converted as unsigned.
   *
   * @throws IllegalStateException for BYTES
   */
  public double[] toDoubleArray() {
    double[] values = new double[Math.toIntExact(elementCount)];
    ByteBuffer view = data();
    switch (dataType) {
      case FP64 -> view.asDoubleBuffer().get(values);
      case FP32, FP16, BF16 -> {
        float[] floats = toFloatArray();
        for (int i = 0; i < values.length; i++) {
          values[i] = floats[i];
        }
      }
      case UINT64 -> {
        for (int i = 0; i < values.length; i++) {
          long bits = view.getLong();
          values[i] = bits >= 0 ? bits : (double) (bits >>> 1) * 2.0 + (bits & 1);
        }
      }
      case BYTES -> throw wrongType("toDoubleArray", "a numeric or BOOL type");
      default -> {
        long[] longs = toLongArray();
        for (int i = 0; i < values.length; i++) {
          values[i] = longs[i];
        }
      }
    }
    return values;
  }

  /**
   * Returns the values of an integer or BOOL tensor as longs; unsigned types are zero-extended
   * (UINT64 keeps its bit pattern).
   *
   * @throws IllegalStateException for floating-point and BYTES tensors
   */
  public long[] toLongArray() {
    long[] values = new long[Math.toIntExact(elementCount)];
    ByteBuffer view = data();
    for (int i = 0; i < values.length; i++) {
      values[i] =
          switch (dataType) {
            case BOOL, UINT8 -> view.get() & 0xFFL;
            case INT8 -> view.get();
            case UINT16 -> view.getShort() & 0xFFFFL;
            case INT16 -> view.getShort();
            case UINT32 -> view.getInt() & 0xFFFF_FFFFL;
            case INT32 -> view.getInt();
            case UINT64, INT64 -> view.getLong();
            default -> throw wrongType("toLongArray", "an integer or BOOL type");
          };
    }
    return values;
  }

  /**
   * Returns the values of a BOOL tensor.
   *
   * @throws IllegalStateException for any other type
   */
  public boolean[] toBooleanArray() {
    if (dataType != DataType.BOOL) {
      throw wrongType("toBooleanArray", "BOOL");
    }
    boolean[] values = new boolean[Math.toIntExact(elementCount)];
    ByteBuffer view = data();
    for (int i = 0; i < values.length; i++) {
      values[i] = view.get() != 0;
    }
    return values;
  }

  /**
   * Returns copies of the elements of a BYTES tensor.
   *
   * @throws IllegalStateException for any other type
   */
  public List<byte[]> toByteElements() {
    if (dataType != DataType.BYTES) {
      throw wrongType("toByteElements", "BYTES");
    }
    List<byte[]> elements = new ArrayList<>(Math.toIntExact(elementCount));
    ByteBuffer view = data();
    while (view.hasRemaining()) {
      byte[] element = new byte[view.getInt()];
      view.get(element);
      elements.add(element);
    }
    return Collections.unmodifiableList(elements);
  }

  /**
   * Returns the elements of a BYTES tensor decoded as UTF-8 (malformed input is replaced).
   *
   * @throws IllegalStateException for any other type
   */
  public List<String> toStringList() {
    List<byte[]> elements = toByteElements();
    List<String> strings = new ArrayList<>(elements.size());
    for (byte[] element : elements) {
      strings.add(new String(element, StandardCharsets.UTF_8));
    }
    return Collections.unmodifiableList(strings);
  }

  @Override
  public boolean equals(Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof Tensor that)) {
      return false;
    }
    return name.equals(that.name)
        && dataType == that.dataType
        && Arrays.equals(shape, that.shape)
        && data.equals(that.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * name.hashCode() + dataType.hashCode()) + Arrays.hashCode(shape))
        + data.hashCode();
  }

  @Override
  public String toString() {
    return name + ":" + dataType + Arrays.toString(shape) + "(" + data.capacity() + " bytes)";
  }

  private IllegalStateException wrongType(String method, String expected) {
    return new IllegalStateException(
        method + " needs " + expected + " but tensor '" + name + "' is " + dataType);
  }

  private static ByteBuffer allocate(int count, int width) {
    return ByteBuffer.allocate(Math.multiplyExact(count, width)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static long elementCount(long[] shape) {
    long count = 1;
    for (long dimension : shape) {
      if (dimension < 0) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " has a negative dimension");
      }
      count = Math.multiplyExact(count, dimension);
    }
    return count;
  }

  private void checkDataSize() {
    if (dataType.isFixedWidth()) {
      long expected = elementCount * dataType.byteSize();
      if (expected != data.capacity()) {
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "' of "
                + dataType
                + Arrays.toString(shape)
                + " needs "
                + expected
                + " bytes of data but has "
                + data.capacity());
      }
      return;
    }
    ByteBuffer view = data();
    long elements = 0;
    while (view.remaining() >= 4) {
      int length = view.getInt();
      if (length < 0 || length > MAX_BYTES_ELEMENT || length > view.remaining()) {
        throw new IllegalArgumentException(
            "BYTES tensor '" + name + "' element " + elements + " has a bad length " + length);
      }
      view.position(view.position() + length);
      elements++;
    }
    if (view.hasRemaining() || elements != elementCount) {
      throw new IllegalArgumentException(
          "BYTES tensor '"
              + name
              + "' of shape "
              + Arrays.toString(shape)
              + " needs "
              + elementCount
              + " length-prefixed elements but its data holds "
              + elements
              + (view.hasRemaining() ? " and " + view.remaining() + " stray bytes" : ""));
    }
  }

  /** IEEE 754 half-precision conversion, which the JDK gained only in Java 20. */
  static final class HalfPrecision {
    private HalfPrecision() {}

    static float fp16ToFloat(short half) {
      int bits = half & 0xFFFF;
      int sign = (bits & 0x8000) << 16;
      int exponent = (bits >>> 10) & 0x1F;
      int mantissa = bits & 0x3FF;
      if (exponent == 0x1F) {
        return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
      }
      if (exponent == 0) {
        if (mantissa == 0) {
          return Float.intBitsToFloat(sign);
        }
        float value = mantissa * 0x1p-24f;
        return sign == 0 ? value : -value;
      }
      return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
  }
}
