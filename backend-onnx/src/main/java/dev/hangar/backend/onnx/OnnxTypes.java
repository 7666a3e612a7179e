package dev.hangar.backend.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import dev.hangar.spi.DataType;
import java.util.Optional;

/** Maps between v2 datatypes, ONNX element types and ONNX Runtime's Java types. */
final class OnnxTypes {
  private OnnxTypes() {}

  /** Returns the v2 datatype of an ONNX Runtime tensor type, if the protocol has one. */
  static Optional<DataType> fromRuntime(OnnxTensorType type) {
    return Optional.ofNullable(
        switch (type) {
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
          default -> null;
        });
  }

  /**
   * Returns the ONNX Runtime Java type used to create an input tensor of the given datatype. ONNX
   * Runtime's Java API has no unsigned 16/32/64-bit types: such inputs are rewritten at load time
   * into signed inputs of the same width (see {@link UnsignedInputRewriter}) and fed the same bits.
   */
  static OnnxJavaType javaTypeForInput(DataType type) {
    return switch (type) {
      case BOOL -> OnnxJavaType.BOOL;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT8 -> OnnxJavaType.INT8;
      case INT16, UINT16 -> OnnxJavaType.INT16;
      case INT32, UINT32 -> OnnxJavaType.INT32;
      case INT64, UINT64 -> OnnxJavaType.INT64;
      case FP16 -> OnnxJavaType.FLOAT16;
      case BF16 -> OnnxJavaType.BFLOAT16;
      case FP32 -> OnnxJavaType.FLOAT;
      case FP64 -> OnnxJavaType.DOUBLE;
      case BYTES -> OnnxJavaType.STRING;
    };
  }

  /** Returns the signed type of the same width for UINT16/32/64; other types unchanged. */
  static DataType signedCarrier(DataType type) {
    return switch (type) {
      case UINT16 -> DataType.INT16;
      case UINT32 -> DataType.INT32;
      case UINT64 -> DataType.INT64;
      default -> type;
    };
  }

  /** Returns whether ONNX Runtime's Java API cannot create input tensors of this type. */
  static boolean needsSignedCarrier(DataType type) {
    return signedCarrier(type) != type;
  }
}
