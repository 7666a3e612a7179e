package dev.hangar.core.model;

import dev.hangar.core.v2.HalfFloats;
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
 * Builds inputs from a signature alone, for warmup and benchmarks: normal floats, integers from 1
 * to 3 (safe as indices into any dimension of 4 or more, and as divisors: an integer division by
 * zero kills the process in some engines' kernels), random booleans, short strings. The batch
 * dimension takes the given batch size and other free dimensions {@code freeDimensionSize}.
 */
public final class SyntheticInputs {
  private SyntheticInputs() {}

  /** Returns one tensor per input of {@code signature}. */
  public static List<Tensor> of(
      ModelSignature signature, int batchSize, int freeDimensionSize, Random random) {
    List<Tensor> tensors = new ArrayList<>(signature.inputs().size());
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = i == 0 && signature.batched() ? batchSize : freeDimensionSize;
        }
      }
      tensors.add(tensor(spec.name(), spec.dataType(), shape, random));
    }
    return tensors;
  }

  /** Returns a tensor of the given type and shape with values as described in the class comment. */
  public static Tensor tensor(String name, DataType type, long[] shape, Random random) {
    long count = 1;
    for (long dimension : shape) {
      count = Math.multiplyExact(count, dimension);
    }
    int elements = Math.toIntExact(count);
    if (type == DataType.BYTES) {
      String[] values = new String[elements];
      for (int i = 0; i < elements; i++) {
        values[i] = "warmup-" + random.nextInt(1000);
      }
      return Tensor.ofStrings(name, shape, values);
    }
    ByteBuffer data =
        ByteBuffer.allocate(elements * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      switch (type) {
        case BOOL -> data.put((byte) (random.nextBoolean() ? 1 : 0));
        case UINT8, INT8 -> data.put((byte) (1 + random.nextInt(3)));
        case UINT16, INT16 -> data.putShort((short) (1 + random.nextInt(3)));
        case UINT32, INT32 -> data.putInt(1 + random.nextInt(3));
        case UINT64, INT64 -> data.putLong(1 + random.nextInt(3));
        case FP16 -> data.putShort(HalfFloats.toFp16((float) random.nextGaussian()));
        case BF16 -> data.putShort(HalfFloats.toBf16((float) random.nextGaussian()));
        case FP32 -> data.putFloat((float) random.nextGaussian());
        case FP64 -> data.putDouble(random.nextGaussian());
        default -> throw new IllegalStateException(type.name());
      }
    }
    data.flip();
    return Tensor.of(name, type, shape, data);
  }
}
