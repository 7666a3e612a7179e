package dev.hangar.backend.onnx.graph;

import com.google.protobuf.ByteString;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Converts between ONNX {@link TensorProto}s and Hangar {@link Tensor}s, in every encoding. */
public final class OnnxTensorProtos {
  private OnnxTensorProtos() {}

  /**
   * Returns the tensor a proto holds, whichever field carries its data ({@code raw_data} or the
   * typed repeated fields).
   *
   * @throws IllegalArgumentException for element types without a v2 datatype, or external data
   */
  public static Tensor toTensor(TensorProto proto) {
    DataType type =
        OnnxElementTypes.toDataType(proto.getDataType())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "tensor '"
                            + proto.getName()
                            + "' has element type "
                            + proto.getDataType()
                            + " with no v2 datatype"));
    if (proto.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new IllegalArgumentException(
          "tensor '" + proto.getName() + "' keeps its data in an external file");
    }
    long[] shape = proto.getDimsList().stream().mapToLong(Long::longValue).toArray();
    String name = proto.getName();
    if (type == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>(proto.getStringDataCount());
      for (ByteString element : proto.getStringDataList()) {
        elements.add(element.toByteArray());
      }
      return Tensor.ofByteElements(name, shape, elements);
    }
    if (proto.hasRawData()) {
      return Tensor.of(name, type, shape, proto.getRawData().asReadOnlyByteBuffer());
    }
    int count = Math.toIntExact(elementCount(shape));
    ByteBuffer data = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      switch (type) {
        case FP32 -> data.putFloat(proto.getFloatData(i));
        case FP64 -> data.putDouble(proto.getDoubleData(i));
        case INT64 -> data.putLong(proto.getInt64Data(i));
        case UINT32 -> data.putInt((int) proto.getUint64Data(i));
        case UINT64 -> data.putLong(proto.getUint64Data(i));
        case INT32 -> data.putInt(proto.getInt32Data(i));
        // 8- and 16-bit types, FP16 and BF16 bits included, are carried in int32_data
        case BOOL, UINT8, INT8 -> data.put((byte) proto.getInt32Data(i));
        case UINT16, INT16, FP16, BF16 -> data.putShort((short) proto.getInt32Data(i));
        default -> throw new IllegalStateException(type.toString());
      }
    }
    data.flip();
    return Tensor.of(name, type, shape, data);
  }

  /** Returns a proto holding the tensor, numeric data as {@code raw_data}. */
  public static TensorProto toProto(Tensor tensor) {
    TensorProto.Builder proto =
        TensorProto.newBuilder()
            .setName(tensor.name())
            .setDataType(OnnxElementTypes.of(tensor.dataType()).getNumber());
    for (long dim : tensor.shape()) {
      proto.addDims(dim);
    }
    if (tensor.dataType() == DataType.BYTES) {
      for (byte[] element : tensor.toByteElements()) {
        proto.addStringData(ByteString.copyFrom(element));
      }
    } else {
      proto.setRawData(ByteString.copyFrom(tensor.data()));
    }
    return proto.build();
  }

  private static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      count *= dim;
    }
    return count;
  }
}
