package dev.hangar.backend.onnx.graph;

import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.DataType;
import java.util.Optional;

/** Maps between v2 datatypes and ONNX element types. */
public final class OnnxElementTypes {
  private OnnxElementTypes() {}

  /** Returns the ONNX element type of a v2 datatype. */
  public static TensorProto.DataType of(DataType type) {
    return switch (type) {
      case BOOL -> TensorProto.DataType.BOOL;
      case UINT8 -> TensorProto.DataType.UINT8;
      case UINT16 -> TensorProto.DataType.UINT16;
      case UINT32 -> TensorProto.DataType.UINT32;
      case UINT64 -> TensorProto.DataType.UINT64;
      case INT8 -> TensorProto.DataType.INT8;
      case INT16 -> TensorProto.DataType.INT16;
      case INT32 -> TensorProto.DataType.INT32;
      case INT64 -> TensorProto.DataType.INT64;
      case FP16 -> TensorProto.DataType.FLOAT16;
      case BF16 -> TensorProto.DataType.BFLOAT16;
      case FP32 -> TensorProto.DataType.FLOAT;
      case FP64 -> TensorProto.DataType.DOUBLE;
      case BYTES -> TensorProto.DataType.STRING;
    };
  }

  /** Returns the v2 datatype of an ONNX element type number, if the protocol has one. */
  public static Optional<DataType> toDataType(int elementType) {
    TensorProto.DataType type = TensorProto.DataType.forNumber(elementType);
    if (type == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(
        switch (type) {
          case BOOL -> DataType.BOOL;
          case UINT8 -> DataType.UINT8;
          case UINT16 -> DataType.UINT16;
          case UINT32 -> DataType.UINT32;
          case UINT64 -> DataType.UINT64;
          case INT8 -> DataType.INT8;
          case INT16 -> DataType.INT16;
          case INT32 -> DataType.INT32;
          case INT64 -> DataType.INT64;
          case FLOAT16 -> DataType.FP16;
          case BFLOAT16 -> DataType.BF16;
          case FLOAT -> DataType.FP32;
          case DOUBLE -> DataType.FP64;
          case STRING -> DataType.BYTES;
          default -> null;
        });
  }
}
