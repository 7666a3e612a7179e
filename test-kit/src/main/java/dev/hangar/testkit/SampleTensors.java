package dev.hangar.testkit;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic tensors for tests: random values of every type, edge values included. */
public final class SampleTensors {
  private static final String[] STRINGS = {
    "", "a", "hangar", "ünïcödé ✓", "tab\tand\nnewline", "0"
  };

  private SampleTensors() {}

  /**
   * Returns a tensor fitting {@code spec}, with free dimensions set to {@code freeDimension} and
   * values drawn from {@code random}. Floating-point values include NaN, infinities and negative
   * zero; integer values include the type's minimum and maximum; strings include empty and
   * non-ASCII ones.
   */
  public static Tensor random(TensorSpec spec, long freeDimension, Random random) {
    long[] shape = spec.shape();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = freeDimension;
      }
    }
    return random(spec.name(), spec.dataType(), shape, random);
  }

  /** Returns a tensor of the given type and shape with random values, edge values included. */
  public static Tensor random(String name, DataType type, long[] shape, Random random) {
    long count = 1;
    for (long dimension : shape) {
      count *= dimension;
    }
    int elements = Math.toIntExact(count);
    if (type == DataType.BYTES) {
      List<byte[]> values = new ArrayList<>(elements);
      for (int i = 0; i < elements; i++) {
        String value = i < STRINGS.length ? STRINGS[i] : "s" + random.nextInt(1_000_000);
        values.add(value.getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.ofByteElements(name, shape, values);
    }
    ByteBuffer buffer =
        ByteBuffer.allocate(elements * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      switch (type) {
        case BOOL -> buffer.put((byte) (random.nextBoolean() ? 1 : 0));
        case UINT8, INT8 -> buffer.put((byte) edgeOrRandom(i, 8, random));
        case UINT16, INT16 -> buffer.putShort((short) edgeOrRandom(i, 16, random));
        case UINT32, INT32 -> buffer.putInt((int) edgeOrRandom(i, 32, random));
        case UINT64, INT64 -> buffer.putLong(edgeOrRandom(i, 64, random));
        case FP16 -> buffer.putShort(fp16Bits(i, random));
        case BF16 ->
            buffer.putShort((short) (Float.floatToRawIntBits(floatValue(i, random)) >>> 16));
        case FP32 -> buffer.putFloat(floatValue(i, random));
        case FP64 -> buffer.putDouble(doubleValue(i, random));
        default -> throw new IllegalArgumentException(type.toString());
      }
    }
    buffer.flip();
    return Tensor.of(name, type, shape, buffer);
  }

  /** Returns random normal FP32 values without edge values, for numeric models. */
  public static Tensor normalFloats(String name, long[] shape, Random random) {
    long count = 1;
    for (long dimension : shape) {
      count *= dimension;
    }
    float[] values = new float[Math.toIntExact(count)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return Tensor.ofFloats(name, shape, values);
  }

  /** The bits of the edge values first (all zeros, all ones, the sign bit, ...), then random. */
  private static long edgeOrRandom(int index, int width, Random random) {
    long mask = width == 64 ? -1L : (1L << width) - 1;
    long signBit = 1L << (width - 1);
    return switch (index) {
      case 0 -> 0;
      case 1 -> mask; // -1 signed, the maximum unsigned
      case 2 -> signBit; // the minimum signed, above the signed maximum unsigned
      case 3 -> signBit - 1; // the maximum signed
      case 4 -> 1;
      default -> random.nextLong() & mask;
    };
  }

  private static float floatValue(int index, Random random) {
    return switch (index) {
      case 0 -> Float.NaN;
      case 1 -> Float.POSITIVE_INFINITY;
      case 2 -> Float.NEGATIVE_INFINITY;
      case 3 -> -0.0f;
      case 4 -> Float.MIN_VALUE;
      case 5 -> Float.MAX_VALUE;
      default -> (float) (random.nextGaussian() * 100);
    };
  }

  private static double doubleValue(int index, Random random) {
    return switch (index) {
      case 0 -> Double.NaN;
      case 1 -> Double.POSITIVE_INFINITY;
      case 2 -> Double.NEGATIVE_INFINITY;
      case 3 -> -0.0;
      case 4 -> Double.MIN_VALUE;
      case 5 -> Double.MAX_VALUE;
      default -> random.nextGaussian() * 1e6;
    };
  }

  private static short fp16Bits(int index, Random random) {
    return switch (index) {
      case 0 -> (short) 0x7E00; // NaN
      case 1 -> (short) 0x7C00; // +infinity
      case 2 -> (short) 0xFC00; // -infinity
      case 3 -> (short) 0x8000; // -0
      case 4 -> (short) 0x0001; // smallest subnormal
      case 5 -> (short) 0x7BFF; // largest finite
      default -> (short) (random.nextInt(0x7C00) | (random.nextBoolean() ? 0x8000 : 0));
    };
  }
}
