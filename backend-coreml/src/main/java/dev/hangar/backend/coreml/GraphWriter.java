package dev.hangar.backend.coreml;

import com.google.protobuf.ByteString;
import dev.hangar.backend.onnx.graph.OnnxElementTypes;
import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * The compiler's view of an {@link OnnxGraphBuilder}: every operation returns the name of its fresh
 * output value, and constants are initializers with fresh names. Not thread-safe.
 */
final class GraphWriter {
  /** The ONNX-ML operator set domain. */
  static final String ML_DOMAIN = "ai.onnx.ml";

  /** The ONNX-ML opset written: 3 has every classic-ML operator the compiler uses. */
  static final long ML_OPSET = 3;

  private final OnnxGraphBuilder builder;

  GraphWriter(String graphName) {
    this.builder = new OnnxGraphBuilder(graphName).opset(ML_DOMAIN, ML_OPSET);
  }

  OnnxGraphBuilder builder() {
    return builder;
  }

  ModelProto build() {
    return builder.build();
  }

  String fresh(String prefix) {
    return builder.fresh(prefix);
  }

  /** Adds a default-domain node with one output and returns the output's name. */
  String op(String opType, List<String> inputs, AttributeProto... attributes) {
    String output = fresh("hangar." + opType);
    builder.node(opType, inputs, List.of(output), attributes);
    return output;
  }

  /** Adds a default-domain node writing a given output name. */
  void opInto(String opType, List<String> inputs, String output, AttributeProto... attributes) {
    builder.node(opType, inputs, List.of(output), attributes);
  }

  /** Adds an ONNX-ML node with one output and returns the output's name. */
  String mlOp(String opType, List<String> inputs, AttributeProto... attributes) {
    String output = fresh("hangar." + opType);
    builder.node(ML_DOMAIN, opType, inputs, List.of(output), attributes);
    return output;
  }

  /** Adds an ONNX-ML node with several outputs and returns their names. */
  List<String> mlOp(
      String opType, List<String> inputs, int outputCount, AttributeProto... attributes) {
    List<String> outputs = new ArrayList<>();
    for (int i = 0; i < outputCount; i++) {
      outputs.add(fresh("hangar." + opType));
    }
    builder.node(ML_DOMAIN, opType, inputs, outputs, attributes);
    return outputs;
  }

  /** Returns an FP32 constant of the given shape. */
  String floats(long[] dims, float... values) {
    String name = fresh("hangar.const");
    builder.initializer(name, dims, values);
    return name;
  }

  /** Returns a 0-d FP32 constant. */
  String scalar(float value) {
    return floats(new long[0], value);
  }

  /** Returns a 1-d INT64 constant. */
  String longs(long... values) {
    String name = fresh("hangar.const");
    builder.initializer(name, new long[] {values.length}, values);
    return name;
  }

  /** Returns a 1-d STRING constant. */
  String strings(List<String> values) {
    String name = fresh("hangar.const");
    TensorProto.Builder tensor =
        TensorProto.newBuilder()
            .setName(name)
            .setDataType(TensorProto.DataType.STRING.getNumber())
            .addDims(values.size());
    for (String value : values) {
      tensor.addStringData(ByteString.copyFromUtf8(value));
    }
    builder.initializer(tensor.build());
    return name;
  }

  /** Casts {@code value} of type {@code from} to {@code to}; returns it unchanged when equal. */
  String cast(String value, DataType from, DataType to) {
    if (from == to) {
      return value;
    }
    return op("Cast", List.of(value), attribute("to", OnnxElementTypes.of(to).getNumber()));
  }

  /** Reshapes {@code value} to {@code shape} (ONNX rules: 0 copies a dimension, -1 infers one). */
  String reshape(String value, long... shape) {
    return op("Reshape", List.of(value, longs(shape)));
  }

  String unsqueeze(String value, long... axes) {
    return op("Unsqueeze", List.of(value, longs(axes)));
  }

  String squeeze(String value, long... axes) {
    return op("Squeeze", List.of(value, longs(axes)));
  }

  String transpose(String value, long... permutation) {
    return op("Transpose", List.of(value), attribute("perm", permutation));
  }

  static AttributeProto attribute(String name, long value) {
    return OnnxGraphBuilder.attribute(name, value);
  }

  static AttributeProto attribute(String name, float value) {
    return OnnxGraphBuilder.attribute(name, value);
  }

  static AttributeProto attribute(String name, String value) {
    return OnnxGraphBuilder.attribute(name, value);
  }

  static AttributeProto attribute(String name, long[] values) {
    return OnnxGraphBuilder.attribute(name, values);
  }

  static AttributeProto attribute(String name, float[] values) {
    return OnnxGraphBuilder.attribute(name, values);
  }

  static AttributeProto attribute(String name, List<String> values) {
    return OnnxGraphBuilder.attribute(name, values);
  }
}
