package dev.hangar.core.v2;

/** Conversions between float and the 16-bit float formats, which the JDK gained only in Java 20. */
public final class HalfFloats {
  private HalfFloats() {}

  /** Returns the float value of IEEE 754 half-precision bits. */
  public static float fp16ToFloat(short half) {
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

  /** Returns the nearest IEEE 754 half-precision value (ties to even), as bits. */
  public static short toFp16(float value) {
    int bits = Float.floatToIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    if (Float.isNaN(value)) {
      return (short) (sign | 0x7E00);
    }
    float magnitude = Math.abs(value);
    if (magnitude >= 65520f) {
      return (short) (sign | 0x7C00); // rounds to infinity
    }
    if (magnitude < 0x1p-14f) {
      // subnormal: a multiple of 2^-24, rounded half to even by Math.rint
      return (short) (sign | (int) Math.rint(magnitude * 0x1p24f));
    }
    int exponent = ((bits >>> 23) & 0xFF) - 127 + 15;
    int mantissa = bits & 0x7FFFFF;
    int half = (exponent << 10) | (mantissa >>> 13);
    int remainder = mantissa & 0x1FFF;
    if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1)) {
      half++; // may carry into the exponent, which is correct rounding
    }
    return (short) (sign | half);
  }

  /** Returns the float value of bfloat16 bits. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** Returns the nearest bfloat16 value (ties to even), as bits. */
  public static short toBf16(float value) {
    int bits = Float.floatToIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }
}
