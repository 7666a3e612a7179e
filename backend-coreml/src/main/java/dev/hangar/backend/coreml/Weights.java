package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.WeightParams;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Reads the values of CoreML {@link WeightParams}: FP32 values or FP16 bits, never quantized. */
final class Weights {
  private Weights() {}

  /**
   * Returns the weights as floats, checking their count.
   *
   * @param expected the number of values the layer needs, or -1 to accept any count
   * @throws UnsupportedModelException for quantized or raw weights, or a wrong count
   */
  static float[] floats(WeightParams weights, long expected, String what) {
    if (!weights.getQuantization().isEmpty() || !weights.getRawValue().isEmpty()) {
      throw new UnsupportedModelException(
          what
              + " holds quantized or raw weights (rawValue/quantization), which Hangar does not"
              + " decode; store the weights as FP32 (floatValue) or FP16 (float16Value)");
    }
    float[] values;
    if (!weights.getFloat16Value().isEmpty()) {
      ByteBuffer bits = weights.getFloat16Value().asReadOnlyByteBuffer();
      bits.order(ByteOrder.LITTLE_ENDIAN);
      if (bits.remaining() % 2 != 0) {
        throw new UnsupportedModelException(what + " has an odd number of FP16 bytes");
      }
      values = new float[bits.remaining() / 2];
      for (int i = 0; i < values.length; i++) {
        values[i] = halfToFloat(bits.getShort());
      }
    } else {
      values = new float[weights.getFloatValueCount()];
      for (int i = 0; i < values.length; i++) {
        values[i] = weights.getFloatValue(i);
      }
    }
    if (expected >= 0 && values.length != expected) {
      throw new UnsupportedModelException(
          what + " has " + values.length + " values but the layer needs " + expected);
    }
    return values;
  }

  /** Converts IEEE 754 half-precision bits to a float (the JDK has this only from Java 20). */
  static float halfToFloat(short half) {
    int bits = half & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    if (exponent == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float value = mantissa * 0x1p-24f;
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
