package dev.hangar.spi;

import java.util.Locale;

/**
 * The element types of the Open Inference Protocol v2, named as the protocol names them.
 *
 * <p>Fixed-width types are stored little-endian in a {@link Tensor}. {@link #FP16} and {@link
 * #BF16} are carried as their raw 16-bit patterns. {@link #BYTES} elements have no fixed width:
 * each is stored as a 4-byte little-endian length followed by that many bytes (the layout of the v2
 * binary tensor extension).
 */
public enum DataType {
  /** Boolean, one byte: 0 or 1. */
  BOOL(1),
  /** Unsigned 8-bit integer. */
  UINT8(1),
  /** Unsigned 16-bit integer. */
  UINT16(2),
  /** Unsigned 32-bit integer. */
  UINT32(4),
  /** Unsigned 64-bit integer. */
  UINT64(8),
  /** Signed 8-bit integer. */
  INT8(1),
  /** Signed 16-bit integer. */
  INT16(2),
  /** Signed 32-bit integer. */
  INT32(4),
  /** Signed 64-bit integer. */
  INT64(8),
  /** IEEE 754 half precision, carried as its 16 bits. */
  FP16(2),
  /** bfloat16, carried as its 16 bits. */
  BF16(2),
  /** IEEE 754 single precision. */
  FP32(4),
  /** IEEE 754 double precision. */
  FP64(8),
  /** Byte strings of any length (a 4-byte little-endian length, then the bytes). */
  BYTES(-1);

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /**
   * Returns the size of one element in bytes.
   *
   * @throws UnsupportedOperationException for {@link #BYTES}, whose elements have no fixed size
   */
  public int byteSize() {
    if (byteSize < 0) {
      throw new UnsupportedOperationException("BYTES elements have no fixed size");
    }
    return byteSize;
  }

  /** Returns whether elements have a fixed size; false only for {@link #BYTES}. */
  public boolean isFixedWidth() {
    return byteSize > 0;
  }

  /** Returns whether this is a floating-point type (FP16, BF16, FP32, FP64). */
  public boolean isFloatingPoint() {
    return this == FP16 || this == BF16 || this == FP32 || this == FP64;
  }

  /** Returns whether this is an unsigned integer type (UINT8 to UINT64). */
  public boolean isUnsignedInteger() {
    return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
  }

  /** Returns whether this is a signed integer type (INT8 to INT64). */
  public boolean isSignedInteger() {
    return this == INT8 || this == INT16 || this == INT32 || this == INT64;
  }

  /**
   * Returns the data type with the given v2 protocol name, ignoring case.
   *
   * @throws IllegalArgumentException naming the accepted names when there is none
   */
  public static DataType fromProtocolName(String name) {
    if (name != null) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException ignored) {
        // fall through to the message that lists every accepted name
      }
    }
    throw new IllegalArgumentException(
        "unknown datatype '"
            + name
            + "'; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64,"
            + " FP16, BF16, FP32, FP64, BYTES");
  }
}
