package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Inputs built from a signature alone, to compare an optimized model with its original and to time
 * them: "warmup-like" sets (normal floats, small non-negative integers, as the model manager's
 * warmup uses) at batch sizes 1, 8 and 64, and "random" sets (uniform floats in [-3, 3], so that
 * the tails int8 clips are exercised) at batch 64: 521 rows in all for a batched model. Free
 * dimensions other than the batch take size 8. Deterministic: the same signature gives the same
 * inputs.
 */
public final class ProbeInputs {
  /** The size given to free dimensions other than the batch dimension. */
  public static final int FREE_DIMENSION_SIZE = 8;

  /**
   * What the accuracy sets are, for cache keys: an int8 decision made on other sets is made again.
   */
  public static final String ACCURACY_SETS = "1+8+4x64 normal, 4x64 uniform[-3,3]";

  private static final long SEED = 0x5EED_0F_1A2BL;
  // a maximum over 49 rows missed errors several times the tolerance that 400 rows showed
  private static final int LARGE_BATCH = 64;

  private ProbeInputs() {}

  /** Returns the input sets that accuracy is measured on. */
  public static List<List<Tensor>> accuracySets(ModelSignature signature) {
    List<List<Tensor>> sets = new ArrayList<>();
    Random random = new Random(SEED);
    sets.add(of(signature, 1, random, false));
    sets.add(of(signature, 8, random, false));
    for (int i = 0; i < 4; i++) {
      sets.add(of(signature, LARGE_BATCH, random, false));
    }
    for (int i = 0; i < 4; i++) {
      sets.add(of(signature, LARGE_BATCH, random, true));
    }
    return sets;
  }

  /** Returns one warmup-like input set with the given batch size, for timing. */
  public static List<Tensor> timing(ModelSignature signature, int batchSize) {
    return of(signature, batchSize, new Random(SEED + batchSize), false);
  }

  private static List<Tensor> of(
      ModelSignature signature, int batchSize, Random random, boolean wide) {
    List<Tensor> tensors = new ArrayList<>(signature.inputs().size());
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = i == 0 && signature.batched() ? batchSize : FREE_DIMENSION_SIZE;
        }
      }
      tensors.add(tensor(spec.name(), spec.dataType(), shape, random, wide));
    }
    return tensors;
  }

  private static Tensor tensor(
      String name, DataType type, long[] shape, Random random, boolean wide) {
    long count = 1;
    for (long dimension : shape) {
      count = Math.multiplyExact(count, dimension);
    }
    int elements = Math.toIntExact(count);
    if (type == DataType.BYTES) {
      String[] values = new String[elements];
      for (int i = 0; i < elements; i++) {
        values[i] = "probe-" + random.nextInt(1000);
      }
      return Tensor.ofStrings(name, shape, values);
    }
    ByteBuffer data =
        ByteBuffer.allocate(elements * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      double real = wide ? random.nextDouble() * 6 - 3 : random.nextGaussian();
      switch (type) {
        case BOOL -> data.put((byte) (random.nextBoolean() ? 1 : 0));
        case UINT8, INT8 -> data.put((byte) random.nextInt(4));
        case UINT16, INT16 -> data.putShort((short) random.nextInt(4));
        case UINT32, INT32 -> data.putInt(random.nextInt(4));
        case UINT64, INT64 -> data.putLong(random.nextInt(4));
        case FP16 -> data.putShort(toHalf((float) real));
        case BF16 -> data.putShort((short) (Float.floatToIntBits((float) real) >>> 16));
        case FP32 -> data.putFloat((float) real);
        case FP64 -> data.putDouble(real);
        default -> throw new IllegalStateException(type.name());
      }
    }
    data.flip();
    return Tensor.of(name, type, shape, data);
  }

  /** IEEE half precision of a float of moderate magnitude (no overflow, subnormals flushed). */
  private static short toHalf(float value) {
    int bits = Float.floatToIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
    if (exponent <= 0) {
      return (short) sign;
    }
    int mantissa = (bits >>> 13) & 0x3FF;
    return (short) (sign | (Math.min(exponent, 30) << 10) | mantissa);
  }
}
