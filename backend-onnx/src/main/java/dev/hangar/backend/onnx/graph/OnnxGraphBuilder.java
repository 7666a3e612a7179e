package dev.hangar.backend.onnx.graph;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.GraphProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorShapeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TypeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ValueInfoProto;
import dev.hangar.spi.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes ONNX graphs: inputs, outputs, initializers and nodes, then a {@link ModelProto} that ONNX
 * Runtime loads. Used by the CoreML compiler, the optimizer and tests. Not thread-safe.
 *
 * <p>Value names are the caller's; {@link #fresh(String)} hands out unique ones for intermediate
 * values.
 */
public final class OnnxGraphBuilder {
  /** The ONNX IR version written: 8 goes with opsets up to 18. */
  public static final long IR_VERSION = 8;

  /** The default-domain opset written unless another is chosen. */
  public static final int DEFAULT_OPSET = 17;

  private final GraphProto.Builder graph;
  private final Map<String, Long> opsets = new LinkedHashMap<>();
  private int counter;

  /** Starts a graph of the given name with the default opset. */
  public OnnxGraphBuilder(String name) {
    this.graph = GraphProto.newBuilder().setName(requireNonNull(name, "name is null"));
    opsets.put("", (long) DEFAULT_OPSET);
  }

  /**
   * Sets the version of an operator set domain ({@code ""} for the default, {@code ai.onnx.ml}).
   */
  public OnnxGraphBuilder opset(String domain, long version) {
    opsets.put(domain, version);
    return this;
  }

  /** Returns a value name not handed out before, starting with {@code prefix}. */
  public String fresh(String prefix) {
    return prefix + "__" + counter++;
  }

  /** Declares a graph input; a dimension of -1 is free (written as a named symbolic dimension). */
  public OnnxGraphBuilder input(String name, DataType type, long[] shape) {
    graph.addInput(valueInfo(name, type, shape));
    return this;
  }

  /** Declares a graph output; a dimension of -1 is free. */
  public OnnxGraphBuilder output(String name, DataType type, long[] shape) {
    graph.addOutput(valueInfo(name, type, shape));
    return this;
  }

  /** Adds a constant FP32 initializer. */
  public OnnxGraphBuilder initializer(String name, long[] dims, float... values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return initializer(tensor(name, TensorProto.DataType.FLOAT, dims, raw));
  }

  /** Adds a constant INT64 initializer. */
  public OnnxGraphBuilder initializer(String name, long[] dims, long... values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    raw.asLongBuffer().put(values);
    return initializer(tensor(name, TensorProto.DataType.INT64, dims, raw));
  }

  /** Adds a prepared initializer. */
  public OnnxGraphBuilder initializer(TensorProto tensor) {
    graph.addInitializer(tensor);
    return this;
  }

  /** Adds a node of the default domain. */
  public OnnxGraphBuilder node(
      String opType, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
    return node("", opType, inputs, outputs, attributes);
  }

  /** Adds a node of the given domain. */
  public OnnxGraphBuilder node(
      String domain,
      String opType,
      List<String> inputs,
      List<String> outputs,
      AttributeProto... attributes) {
    NodeProto.Builder node =
        NodeProto.newBuilder()
            .setName(fresh(opType))
            .setOpType(opType)
            .addAllInput(inputs)
            .addAllOutput(outputs)
            .addAllAttribute(List.of(attributes));
    if (!domain.isEmpty()) {
      node.setDomain(domain);
    }
    graph.addNode(node);
    return this;
  }

  /** Returns the model. */
  public ModelProto build() {
    ModelProto.Builder model =
        ModelProto.newBuilder()
            .setIrVersion(IR_VERSION)
            .setProducerName("hangar")
            .setProducerVersion("1")
            .setGraph(graph);
    opsets.forEach(
        (domain, version) ->
            model.addOpsetImport(
                OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version)));
    return model.build();
  }

  /** Returns a tensor proto holding {@code raw} little-endian bytes. */
  public static TensorProto tensor(
      String name, TensorProto.DataType type, long[] dims, ByteBuffer raw) {
    TensorProto.Builder tensor =
        TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long dim : dims) {
      tensor.addDims(dim);
    }
    return tensor.setRawData(ByteString.copyFrom(raw.duplicate())).build();
  }

  /** Returns a value info of a tensor type; -1 dimensions become symbolic. */
  public static ValueInfoProto valueInfo(String name, DataType type, long[] shape) {
    TensorShapeProto.Builder shapeProto = TensorShapeProto.newBuilder();
    for (int i = 0; i < shape.length; i++) {
      TensorShapeProto.Dimension.Builder dimension = TensorShapeProto.Dimension.newBuilder();
      if (shape[i] < 0) {
        dimension.setDimParam(i == 0 ? "batch" : name + "_dim" + i);
      } else {
        dimension.setDimValue(shape[i]);
      }
      shapeProto.addDim(dimension);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxElementTypes.of(type).getNumber())
                        .setShape(shapeProto)))
        .build();
  }

  /** An INT attribute. */
  public static AttributeProto attribute(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  /** A FLOAT attribute. */
  public static AttributeProto attribute(String name, float value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.FLOAT)
        .setF(value)
        .build();
  }

  /** A STRING attribute. */
  public static AttributeProto attribute(String name, String value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(value))
        .build();
  }

  /** An INTS attribute. */
  public static AttributeProto attribute(String name, long[] values) {
    AttributeProto.Builder attribute =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long value : values) {
      attribute.addInts(value);
    }
    return attribute.build();
  }

  /** A FLOATS attribute. */
  public static AttributeProto attribute(String name, float[] values) {
    AttributeProto.Builder attribute =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
    for (float value : values) {
      attribute.addFloats(value);
    }
    return attribute.build();
  }

  /** A STRINGS attribute. */
  public static AttributeProto attribute(String name, List<String> values) {
    AttributeProto.Builder attribute =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
    for (String value : values) {
      attribute.addStrings(ByteString.copyFromUtf8(value));
    }
    return attribute.build();
  }

  /** A TENSOR attribute. */
  public static AttributeProto attribute(String name, TensorProto value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.TENSOR)
        .setT(value)
        .build();
  }
}
