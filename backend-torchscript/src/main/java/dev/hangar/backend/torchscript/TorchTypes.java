package dev.hangar.backend.torchscript;

import dev.hangar.spi.DataType;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * How Hangar's datatypes travel into and out of libtorch through DJL.
 *
 * <p>DJL 0.36 can create tensors of eight element types only. BF16 and INT16 inputs therefore cross
 * as INT32 tensors and are converted inside libtorch by the {@link DtypeBridge}; outputs of every
 * type are copied out as raw bytes, and a type DJL cannot name is asked of the bridge.
 */
final class TorchTypes {
  /** The datatypes this backend serves. */
  static final Set<DataType> SUPPORTED =
      EnumSet.of(
          DataType.FP32,
          DataType.FP64,
          DataType.FP16,
          DataType.BF16,
          DataType.INT8,
          DataType.INT16,
          DataType.INT32,
          DataType.INT64,
          DataType.UINT8,
          DataType.BOOL);

  private TorchTypes() {}

  /**
   * Returns the DJL type a tensor of this datatype is created as in libtorch: itself for the eight
   * types DJL handles, INT32 for BF16 and INT16 (converted by the bridge afterwards).
   */
  static ai.djl.ndarray.types.DataType carrierOf(DataType type) {
    return switch (type) {
      case FP32 -> ai.djl.ndarray.types.DataType.FLOAT32;
      case FP64 -> ai.djl.ndarray.types.DataType.FLOAT64;
      case FP16 -> ai.djl.ndarray.types.DataType.FLOAT16;
      case UINT8 -> ai.djl.ndarray.types.DataType.UINT8;
      case INT8 -> ai.djl.ndarray.types.DataType.INT8;
      case INT32, BF16, INT16 -> ai.djl.ndarray.types.DataType.INT32;
      case INT64 -> ai.djl.ndarray.types.DataType.INT64;
      case BOOL -> ai.djl.ndarray.types.DataType.BOOLEAN;
      default -> throw new IllegalArgumentException(type + " is not supported by libtorch here");
    };
  }

  /** Returns whether inputs of this type need a conversion by the bridge after creation. */
  static boolean needsBridge(DataType type) {
    return type == DataType.BF16 || type == DataType.INT16;
  }

  /**
   * Returns the Hangar datatype of a DJL type, or empty when DJL could not name libtorch's type (it
   * reports UNKNOWN for BF16, INT16, the unsigned types and others; ask the bridge then) or when
   * there is no Hangar datatype for it.
   */
  static Optional<DataType> fromDjl(ai.djl.ndarray.types.DataType type) {
    return Optional.ofNullable(
        switch (type) {
          case FLOAT32 -> DataType.FP32;
          case FLOAT64 -> DataType.FP64;
          case FLOAT16 -> DataType.FP16;
          case UINT8 -> DataType.UINT8;
          case INT8 -> DataType.INT8;
          case INT32 -> DataType.INT32;
          case INT64 -> DataType.INT64;
          case BOOLEAN -> DataType.BOOL;
          default -> null;
        });
  }

  /**
   * Returns the Hangar datatype of a libtorch {@code c10::ScalarType} code, as {@code tensor.dtype}
   * reads in TorchScript, or empty when Hangar has none.
   */
  static Optional<DataType> fromScalarType(long code) {
    return Optional.ofNullable(
        switch ((int) code) {
          case 0 -> DataType.UINT8;
          case 1 -> DataType.INT8;
          case 2 -> DataType.INT16;
          case 3 -> DataType.INT32;
          case 4 -> DataType.INT64;
          case 5 -> DataType.FP16;
          case 6 -> DataType.FP32;
          case 7 -> DataType.FP64;
          case 11 -> DataType.BOOL;
          case 15 -> DataType.BF16;
          case 27 -> DataType.UINT16;
          case 28 -> DataType.UINT32;
          case 29 -> DataType.UINT64;
          default -> null;
        });
  }

  /** Returns libtorch's name of a {@code c10::ScalarType} code, for messages. */
  static String scalarTypeName(long code) {
    return switch ((int) code) {
      case 8 -> "torch.complex32";
      case 9 -> "torch.complex64";
      case 10 -> "torch.complex128";
      case 12 -> "torch.qint8";
      case 13 -> "torch.quint8";
      case 14 -> "torch.qint32";
      case 16 -> "torch.quint4x2";
      case 17 -> "torch.quint2x4";
      case 23 -> "torch.float8_e5m2";
      case 24 -> "torch.float8_e4m3fn";
      case 25 -> "torch.float8_e5m2fnuz";
      case 26 -> "torch.float8_e4m3fnuz";
      default -> fromScalarType(code).map(DataType::name).orElse("libtorch scalar type " + code);
    };
  }

  /** Returns the supported datatypes as a readable list. */
  static String supportedList() {
    return "FP32, FP64, FP16, BF16, INT8, INT16, INT32, INT64, UINT8, BOOL";
  }
}
