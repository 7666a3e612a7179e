package dev.hangar.backend.onnx.optimizer;

import static java.util.Objects.requireNonNull;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.graph.OnnxTensorProtos;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.GraphProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ValueInfoProto;
import dev.hangar.spi.OptimizationOptions.Granularity;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites an ONNX graph so that its {@code MatMul} and {@code Gemm} nodes with constant FP32
 * weights run on int8 weights, with the activations quantized dynamically (per call, from their own
 * range) to uint8.
 *
 * <p>Weights are quantized symmetrically (zero point 0): per tensor, one scale {@code max|W| /
 * 127}; per channel, one scale per output column. Gemm's {@code alpha} is folded into the weights
 * before quantizing, {@code transB} into their layout, a constant {@code C} times {@code beta} into
 * a bias, and {@code transA} becomes a {@code Transpose}. A node is left as it is, with the reason
 * recorded, when its weight is not a constant 2-D FP32 initializer, or is also a graph input (whose
 * value a caller may override).
 *
 * <p>Two forms: {@link Form#FUSED} writes ONNX Runtime's {@code com.microsoft}
 * DynamicQuantizeMatMul (one node: quantize, integer GEMM on pre-packed weights, scale, bias);
 * {@link Form#STANDARD} writes only standard ONNX operators (DynamicQuantizeLinear, MatMulInteger,
 * Cast, Mul, Add), which any ONNX runtime can run.
 *
 * <p>Only the top-level graph is rewritten; subgraphs of control-flow nodes are left alone.
 */
public final class Int8Quantizer {
  /** ONNX Runtime's contrib operator domain. */
  public static final String MICROSOFT_DOMAIN = "com.microsoft";

  /** Which operators the rewritten graph uses. */
  public enum Form {
    /** ONNX Runtime's fused {@code com.microsoft.DynamicQuantizeMatMul}. */
    FUSED,
    /** Standard ONNX operators only. */
    STANDARD
  }

  /**
   * How to quantize.
   *
   * @param granularity one scale per tensor or per output channel
   * @param reduceRange whether weights use 7 bits ([-63, 63]) instead of 8; needed on x86 CPUs
   *     without VNNI, whose u8×s8 multiply-add saturates 16-bit intermediate sums
   * @param form which operators to write
   */
  public record Settings(Granularity granularity, boolean reduceRange, Form form) {
    /** Validates. */
    public Settings {
      requireNonNull(granularity, "granularity is null");
      requireNonNull(form, "form is null");
    }
  }

  /**
   * The rewritten model.
   *
   * @param model the model, unchanged when nothing was quantized
   * @param quantized one line per node quantized
   * @param skipped one line per MatMul or Gemm node left in FP32, with the reason
   * @param weightBytesBefore the FP32 bytes of the weights that were quantized
   * @param weightBytesAfter their int8 bytes plus scales and zero points
   */
  public record Result(
      ModelProto model,
      List<String> quantized,
      List<String> skipped,
      long weightBytesBefore,
      long weightBytesAfter) {
    /** Copies. */
    public Result {
      quantized = List.copyOf(quantized);
      skipped = List.copyOf(skipped);
    }

    /** Returns whether any node was quantized. */
    public boolean changed() {
      return !quantized.isEmpty();
    }

    /** Returns a one-line summary, such as "2 MatMul and 1 Gemm quantized". */
    public String summary() {
      Map<String, Integer> byType = new LinkedHashMap<>();
      for (String line : quantized) {
        byType.merge(line.substring(0, line.indexOf(' ')), 1, Integer::sum);
      }
      List<String> parts = new ArrayList<>();
      byType.forEach((type, count) -> parts.add(count + " " + type));
      return String.join(" and ", parts)
          + " quantized to int8"
          + (skipped.isEmpty() ? "" : ", " + skipped.size() + " left in FP32");
    }
  }

  private final GraphProto graph;
  private final Settings settings;
  private final Map<String, TensorProto> initializers = new HashMap<>();
  private final Set<String> graphInputs = new HashSet<>();
  private final Set<String> names = new HashSet<>();
  private final Map<String, Integer> uses = new HashMap<>();
  private final Map<String, QuantizedWeight> quantizedWeights = new HashMap<>();
  private final Set<String> folded = new HashSet<>();
  private final List<NodeProto> nodes = new ArrayList<>();
  private final List<TensorProto> addedInitializers = new ArrayList<>();
  private final List<String> quantizedLines = new ArrayList<>();
  private final List<String> skippedLines = new ArrayList<>();
  private long bytesBefore;
  private long bytesAfter;
  private int counter;

  private Int8Quantizer(GraphProto graph, Settings settings) {
    this.graph = graph;
    this.settings = settings;
  }

  /** Returns the model with its eligible MatMul and Gemm nodes quantized. */
  public static Result quantize(ModelProto model, Settings settings) {
    return new Int8Quantizer(model.getGraph(), settings).run(model);
  }

  private Result run(ModelProto model) {
    if (settings.form() == Form.STANDARD && defaultOpset(model) < 11) {
      return new Result(
          model,
          List.of(),
          List.of(
              "every node: the standard int8 form needs opset 11 or later (DynamicQuantizeLinear)"),
          0,
          0);
    }
    index();
    for (NodeProto node : graph.getNodeList()) {
      boolean standardDomain = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
      boolean product =
          standardDomain && (node.getOpType().equals("MatMul") || node.getOpType().equals("Gemm"));
      if (!product) {
        nodes.add(node);
        continue;
      }
      // unnamed nodes get a name for the names of what replaces them and for the report
      NodeProto named =
          node.getName().isEmpty()
              ? node.toBuilder().setName(fresh(node.getOpType().toLowerCase(Locale.ROOT))).build()
              : node;
      Optional<String> refusal = node.getOpType().equals("MatMul") ? matMul(named) : gemm(named);
      refusal.ifPresent(
          reason -> {
            nodes.add(node);
            skippedLines.add(node.getOpType() + " '" + named.getName() + "': " + reason);
          });
    }
    if (quantizedLines.isEmpty()) {
      return new Result(model, List.of(), skippedLines, 0, 0);
    }
    GraphProto.Builder rewritten = graph.toBuilder().clearNode().addAllNode(nodes);
    rewritten.clearInitializer();
    for (TensorProto initializer : graph.getInitializerList()) {
      // a weight or bias every user of which now reads its int8 or folded form is dropped
      if (!folded.contains(initializer.getName())
          || uses.getOrDefault(initializer.getName(), 0) > 0) {
        rewritten.addInitializer(initializer);
      }
    }
    rewritten.addAllInitializer(addedInitializers);
    ModelProto.Builder result = model.toBuilder().setGraph(rewritten);
    if (settings.form() == Form.FUSED
        && model.getOpsetImportList().stream()
            .noneMatch(opset -> opset.getDomain().equals(MICROSOFT_DOMAIN))) {
      result.addOpsetImport(
          OperatorSetIdProto.newBuilder().setDomain(MICROSOFT_DOMAIN).setVersion(1));
    }
    return new Result(result.build(), quantizedLines, skippedLines, bytesBefore, bytesAfter);
  }

  private static long defaultOpset(ModelProto model) {
    return model.getOpsetImportList().stream()
        .filter(opset -> opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx"))
        .mapToLong(OperatorSetIdProto::getVersion)
        .max()
        .orElse(1);
  }

  private void index() {
    for (TensorProto initializer : graph.getInitializerList()) {
      initializers.put(initializer.getName(), initializer);
      names.add(initializer.getName());
    }
    for (ValueInfoProto input : graph.getInputList()) {
      graphInputs.add(input.getName());
      names.add(input.getName());
    }
    for (ValueInfoProto output : graph.getOutputList()) {
      names.add(output.getName());
      uses.merge(output.getName(), 1, Integer::sum);
    }
    countUses(graph);
  }

  private void countUses(GraphProto scope) {
    for (NodeProto node : scope.getNodeList()) {
      names.addAll(node.getOutputList());
      for (String input : node.getInputList()) {
        if (!input.isEmpty()) {
          uses.merge(input, 1, Integer::sum);
        }
      }
      for (AttributeProto attribute : node.getAttributeList()) {
        if (attribute.hasG()) {
          countUses(attribute.getG());
        }
        for (GraphProto subgraph : attribute.getGraphsList()) {
          countUses(subgraph);
        }
      }
    }
  }

  private Optional<String> matMul(NodeProto node) {
    if (node.getInputCount() != 2) {
      return Optional.of("unexpected input count " + node.getInputCount());
    }
    String weightName = node.getInput(1);
    Optional<String> problem = weightProblem(weightName);
    if (problem.isPresent()) {
      return problem;
    }
    QuantizedWeight weight = weight(weightName, false, 1f);
    release(weightName);
    emitProduct(node, node.getInput(0), weight, null, node.getOutput(0));
    quantizedLines.add(describe(node, weight));
    return Optional.empty();
  }

  private Optional<String> gemm(NodeProto node) {
    if (node.getInputCount() < 2) {
      return Optional.of("unexpected input count " + node.getInputCount());
    }
    float alpha = floatAttribute(node, "alpha", 1f);
    float beta = floatAttribute(node, "beta", 1f);
    boolean transA = intAttribute(node, "transA", 0) != 0;
    boolean transB = intAttribute(node, "transB", 0) != 0;
    String weightName = node.getInput(1);
    Optional<String> problem = weightProblem(weightName);
    if (problem.isPresent()) {
      return problem;
    }
    QuantizedWeight weight = weight(weightName, transB, alpha);
    String c = node.getInputCount() > 2 ? node.getInput(2) : "";
    String bias = null;
    String addend = null;
    boolean scaleAddend = false;
    if (!c.isEmpty() && beta != 0f) {
      TensorProto constant = initializers.get(c);
      if (constant != null
          && !graphInputs.contains(c)
          && constant.getDataType() == TensorProto.DataType.FLOAT.getNumber()) {
        float[] values = OnnxTensorProtos.toTensor(constant).toFloatArray();
        long[] dims = constant.getDimsList().stream().mapToLong(Long::longValue).toArray();
        if (isRowVector(dims, weight.columns())) {
          float[] scaled = new float[weight.columns()];
          for (int j = 0; j < scaled.length; j++) {
            scaled[j] = beta * (values.length == 1 ? values[0] : values[j]);
          }
          bias = fresh(node.getName() + "_bias");
          addedInitializers.add(floats(bias, new long[] {scaled.length}, scaled));
        } else {
          float[] scaled = new float[values.length];
          for (int i = 0; i < values.length; i++) {
            scaled[i] = beta * values[i];
          }
          addend = fresh(node.getName() + "_c");
          addedInitializers.add(floats(addend, dims, scaled));
        }
        release(c);
      } else {
        addend = c;
        scaleAddend = beta != 1f;
      }
    }
    release(weightName);
    String input = node.getInput(0);
    if (transA) {
      String transposed = fresh(node.getName() + "_a_transposed");
      nodes.add(
          NodeProto.newBuilder()
              .setName(fresh(node.getName() + "_transpose_a"))
              .setOpType("Transpose")
              .addInput(input)
              .addOutput(transposed)
              .addAttribute(OnnxGraphBuilder.attribute("perm", new long[] {1, 0}))
              .build());
      input = transposed;
    }
    String output = node.getOutput(0);
    if (addend == null) {
      emitProduct(node, input, weight, bias, output);
    } else {
      String product = fresh(node.getName() + "_product");
      emitProduct(node, input, weight, bias, product);
      if (scaleAddend) {
        String betaName = fresh(node.getName() + "_beta");
        addedInitializers.add(floats(betaName, new long[0], new float[] {beta}));
        String scaled = fresh(node.getName() + "_c_scaled");
        nodes.add(simple("Mul", List.of(addend, betaName), scaled, node));
        addend = scaled;
      }
      nodes.add(simple("Add", List.of(product, addend), output, node));
    }
    quantizedLines.add(describe(node, weight));
    return Optional.empty();
  }

  /** One use of {@code name} now reads a folded copy instead. */
  private void release(String name) {
    uses.merge(name, -1, Integer::sum);
    folded.add(name);
  }

  private static boolean isRowVector(long[] dims, int columns) {
    long count = 1;
    for (long dim : dims) {
      count *= dim;
    }
    if (count == 1) {
      return true;
    }
    return count == columns && dims[dims.length - 1] == columns;
  }

  private Optional<String> weightProblem(String name) {
    TensorProto weight = initializers.get(name);
    if (weight == null) {
      return Optional.of("weight '" + name + "' is not a constant initializer");
    }
    if (graphInputs.contains(name)) {
      return Optional.of("weight '" + name + "' is also a graph input, so a caller may replace it");
    }
    if (weight.getDataType() != TensorProto.DataType.FLOAT.getNumber()) {
      return Optional.of(
          "weight '"
              + name
              + "' has element type "
              + TensorProto.DataType.forNumber(weight.getDataType())
              + ", not FLOAT");
    }
    if (weight.getDimsCount() != 2) {
      return Optional.of(
          "weight '" + name + "' has " + weight.getDimsCount() + " dimensions, not 2");
    }
    if (weight.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      return Optional.of("weight '" + name + "' keeps its data in an external file");
    }
    return Optional.empty();
  }

  /** An int8 weight in [K, N] layout with its scales and zero points. */
  private record QuantizedWeight(
      String values, String scale, String zeroPoint, int rows, int columns, boolean perChannel) {}

  private QuantizedWeight weight(String name, boolean transposed, float alpha) {
    String key = name + "\u0000" + transposed + "\u0000" + alpha;
    QuantizedWeight existing = quantizedWeights.get(key);
    if (existing != null) {
      return existing;
    }
    TensorProto proto = initializers.get(name);
    float[] raw = OnnxTensorProtos.toTensor(proto).toFloatArray();
    int stored0 = Math.toIntExact(proto.getDims(0));
    int stored1 = Math.toIntExact(proto.getDims(1));
    int rows = transposed ? stored1 : stored0;
    int columns = transposed ? stored0 : stored1;
    float[] w = new float[raw.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < columns; j++) {
        w[i * columns + j] = alpha * (transposed ? raw[j * stored1 + i] : raw[i * stored1 + j]);
      }
    }
    boolean perChannel = settings.granularity() == Granularity.PER_CHANNEL;
    int limit = settings.reduceRange() ? 63 : 127;
    float[] scales = new float[perChannel ? columns : 1];
    for (int j = 0; j < columns; j++) {
      float largest = 0;
      for (int i = 0; i < rows; i++) {
        largest = Math.max(largest, Math.abs(w[i * columns + j]));
      }
      int slot = perChannel ? j : 0;
      scales[slot] = Math.max(scales[slot], largest);
    }
    for (int s = 0; s < scales.length; s++) {
      scales[s] = scales[s] == 0f ? 1f : scales[s] / limit;
    }
    byte[] quantized = new byte[w.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < columns; j++) {
        float scale = scales[perChannel ? j : 0];
        long value = Math.round((double) w[i * columns + j] / scale);
        quantized[i * columns + j] = (byte) Math.max(-limit, Math.min(limit, value));
      }
    }
    String base = name + (transposed ? "_transposed" : "") + (alpha != 1f ? "_scaled" : "");
    String valuesName = fresh(base + "_int8");
    String scaleName = fresh(base + "_scale");
    String zeroName = fresh(base + "_zero_point");
    long[] scaleDims = perChannel ? new long[] {columns} : new long[0];
    addedInitializers.add(
        OnnxGraphBuilder.tensor(
            valuesName,
            TensorProto.DataType.INT8,
            new long[] {rows, columns},
            ByteBuffer.wrap(quantized)));
    addedInitializers.add(floats(scaleName, scaleDims, scales));
    addedInitializers.add(
        OnnxGraphBuilder.tensor(
            zeroName,
            TensorProto.DataType.INT8,
            scaleDims,
            ByteBuffer.wrap(new byte[scales.length])));
    bytesBefore += 4L * raw.length;
    bytesAfter += quantized.length + 5L * scales.length;
    QuantizedWeight weight =
        new QuantizedWeight(valuesName, scaleName, zeroName, rows, columns, perChannel);
    quantizedWeights.put(key, weight);
    return weight;
  }

  private void emitProduct(
      NodeProto original, String input, QuantizedWeight weight, String bias, String output) {
    if (settings.form() == Form.FUSED) {
      NodeProto.Builder node =
          NodeProto.newBuilder()
              .setName(fresh(original.getName() + "_int8"))
              .setDomain(MICROSOFT_DOMAIN)
              .setOpType("DynamicQuantizeMatMul")
              .addInput(input)
              .addInput(weight.values())
              .addInput(weight.scale())
              .addInput(weight.zeroPoint())
              .addOutput(output);
      if (bias != null) {
        node.addInput(bias);
      }
      nodes.add(node.build());
      return;
    }
    String prefix = original.getName() + "_int8";
    String quantizedInput = fresh(prefix + "_input");
    String inputScale = fresh(prefix + "_input_scale");
    String inputZeroPoint = fresh(prefix + "_input_zero_point");
    nodes.add(
        NodeProto.newBuilder()
            .setName(fresh(prefix + "_quantize"))
            .setOpType("DynamicQuantizeLinear")
            .addInput(input)
            .addOutput(quantizedInput)
            .addOutput(inputScale)
            .addOutput(inputZeroPoint)
            .build());
    String integerProduct = fresh(prefix + "_int32");
    // symmetric weights: zero point 0 for every column, so a scalar zero point serves both forms
    String weightZero = fresh(prefix + "_weight_zero_point");
    addedInitializers.add(
        OnnxGraphBuilder.tensor(
            weightZero, TensorProto.DataType.INT8, new long[0], ByteBuffer.wrap(new byte[1])));
    nodes.add(
        NodeProto.newBuilder()
            .setName(fresh(prefix + "_matmul"))
            .setOpType("MatMulInteger")
            .addInput(quantizedInput)
            .addInput(weight.values())
            .addInput(inputZeroPoint)
            .addInput(weightZero)
            .addOutput(integerProduct)
            .build());
    String asFloat = fresh(prefix + "_float");
    nodes.add(
        NodeProto.newBuilder()
            .setName(fresh(prefix + "_cast"))
            .setOpType("Cast")
            .addInput(integerProduct)
            .addOutput(asFloat)
            .addAttribute(
                OnnxGraphBuilder.attribute("to", (long) TensorProto.DataType.FLOAT.getNumber()))
            .build());
    String combinedScale = fresh(prefix + "_scale");
    nodes.add(simple("Mul", List.of(inputScale, weight.scale()), combinedScale, original));
    String scaled = bias == null ? output : fresh(prefix + "_scaled");
    nodes.add(simple("Mul", List.of(asFloat, combinedScale), scaled, original));
    if (bias != null) {
      nodes.add(simple("Add", List.of(scaled, bias), output, original));
    }
  }

  private NodeProto simple(String opType, List<String> inputs, String output, NodeProto original) {
    return NodeProto.newBuilder()
        .setName(fresh(original.getName() + "_" + opType.toLowerCase(Locale.ROOT)))
        .setOpType(opType)
        .addAllInput(inputs)
        .addOutput(output)
        .build();
  }

  private String describe(NodeProto node, QuantizedWeight weight) {
    return node.getOpType()
        + " '"
        + node.getName()
        + "' ["
        + weight.rows()
        + "x"
        + weight.columns()
        + "] "
        + (weight.perChannel() ? "per-channel" : "per-tensor");
  }

  private String fresh(String prefix) {
    String base = prefix.isEmpty() ? "hangar_int8" : prefix;
    String name = base;
    while (names.contains(name)) {
      name = base + "_" + counter++;
    }
    names.add(name);
    return name;
  }

  private static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return OnnxGraphBuilder.tensor(name, TensorProto.DataType.FLOAT, dims, raw);
  }

  private static float floatAttribute(NodeProto node, String name, float fallback) {
    for (AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getF();
      }
    }
    return fallback;
  }

  private static long intAttribute(NodeProto node, String name, long fallback) {
    for (AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getI();
      }
    }
    return fallback;
  }
}
