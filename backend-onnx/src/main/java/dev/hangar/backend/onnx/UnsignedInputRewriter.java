package dev.hangar.backend.onnx;

import dev.hangar.backend.onnx.graph.OnnxElementTypes;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.GraphProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ValueInfoProto;
import dev.hangar.spi.DataType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rewrites a model so that ONNX Runtime's Java API can feed its UINT16, UINT32 and UINT64 inputs,
 * which it has no tensor type for.
 *
 * <p>Each such input {@code x} becomes a signed input {@code x__hangar_signed} of the same width,
 * followed by a {@code Cast} back to the unsigned type whose output is named {@code x}, so the rest
 * of the graph is untouched. A cast between integers of the same width keeps every bit, so feeding
 * the unsigned value's bits as the signed type gives the model exactly the unsigned value.
 */
final class UnsignedInputRewriter {
  static final String SIGNED_SUFFIX = "__hangar_signed";

  private UnsignedInputRewriter() {}

  /** The rewritten model and, for each rewritten input, the name ONNX Runtime now knows it by. */
  record Rewrite(ModelProto model, Map<String, String> sessionInputNames) {}

  /** Returns whether the model has an input that needs rewriting. */
  static boolean needsRewrite(ModelProto model) {
    for (ValueInfoProto input : model.getGraph().getInputList()) {
      if (unsignedType(input) != null) {
        return true;
      }
    }
    return false;
  }

  static Rewrite rewrite(ModelProto model) {
    GraphProto graph = model.getGraph();
    GraphProto.Builder rewritten = graph.toBuilder().clearInput().clearNode();
    Map<String, String> sessionNames = new LinkedHashMap<>();
    int castIndex = 0;
    for (ValueInfoProto input : graph.getInputList()) {
      DataType unsigned = unsignedType(input);
      if (unsigned == null) {
        rewritten.addInput(input);
        continue;
      }
      String signedName = input.getName() + SIGNED_SUFFIX;
      ValueInfoProto.Builder signedInput = input.toBuilder().setName(signedName);
      signedInput
          .getTypeBuilder()
          .getTensorTypeBuilder()
          .setElemType(OnnxElementTypes.of(OnnxTypes.signedCarrier(unsigned)).getNumber());
      rewritten.addInput(signedInput);
      rewritten.addNode(
          NodeProto.newBuilder()
              .setName("hangar_unsigned_cast_" + castIndex++)
              .setOpType("Cast")
              .addInput(signedName)
              .addOutput(input.getName())
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("to")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(OnnxElementTypes.of(unsigned).getNumber())));
      sessionNames.put(input.getName(), signedName);
    }
    rewritten.addAllNode(graph.getNodeList());
    return new Rewrite(model.toBuilder().setGraph(rewritten).build(), sessionNames);
  }

  private static DataType unsignedType(ValueInfoProto input) {
    if (!input.getType().hasTensorType()) {
      return null;
    }
    return OnnxElementTypes.toDataType(input.getType().getTensorType().getElemType())
        .filter(OnnxTypes::needsSignedCarrier)
        .orElse(null);
  }
}
