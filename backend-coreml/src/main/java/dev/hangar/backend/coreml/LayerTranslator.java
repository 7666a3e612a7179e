package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.GraphWriter.attribute;

import dev.hangar.backend.coreml.Blob.Batch;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.BatchnormLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.BorderAmounts;
import dev.hangar.backend.coreml.proto.CoreMlProto.ConvolutionLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.EmbeddingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.FlattenLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.LoadConstantLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.PaddingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.PermuteLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.PoolingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ReshapeLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.SamePadding;
import dev.hangar.backend.coreml.proto.CoreMlProto.UnaryFunctionLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.WeightParams;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Translates CoreML neural-network layers into ONNX nodes, one layer at a time, keeping the blobs
 * of the network by name.
 *
 * <p>Two shape conventions exist (see the module README):
 *
 * <ul>
 *   <li><b>rank-5</b> ({@code RANK5_ARRAY_MAPPING}, specification versions 1 to 3 and any network
 *       that keeps the default): CoreML blobs are {@code [Seq, Batch, C, H, W]}. Hangar holds them
 *       as rank-4 ONNX tensors {@code [Batch, C, H, W]} with the sequence length fixed at 1; the
 *       batch is Hangar's batch dimension. Layers that would make the sequence longer than 1 are
 *       refused.
 *   <li><b>exact</b> ({@code EXACT_ARRAY_MAPPING}, specification 4): blobs have their declared
 *       rank; "channel", "height" and "width" are axes -3, -2 and -1, and leading axes are batch
 *       axes, as the specification reads the classic layers in the N-d setting.
 * </ul>
 */
final class LayerTranslator {
  /** The layer types this translator compiles, for messages. */
  static final String SUPPORTED_LAYERS =
      "innerProduct, convolution, pooling, activation, softmax, batchnorm, add, multiply, average,"
          + " max, min, scale, bias, concat, flatten, reshape, permute, padding, unary, embedding,"
          + " loadConstant";

  private final GraphWriter graph;
  private final boolean rank5;
  private final Map<String, Blob> blobs;

  /**
   * @param graph where nodes go
   * @param rank5 whether blobs follow the rank-5 convention (held as rank 4)
   * @param blobs the network's blobs by name, inputs already in; layers add theirs
   */
  LayerTranslator(GraphWriter graph, boolean rank5, Map<String, Blob> blobs) {
    this.graph = graph;
    this.rank5 = rank5;
    this.blobs = blobs;
  }

  void translate(NeuralNetworkLayer layer) {
    switch (layer.getLayerCase()) {
      case CONVOLUTION -> convolution(layer, layer.getConvolution());
      case POOLING -> pooling(layer, layer.getPooling());
      case ACTIVATION -> output(layer, activation(layer, layer.getActivation(), input(layer)));
      case INNERPRODUCT -> innerProduct(layer, layer.getInnerProduct());
      case EMBEDDING -> embedding(layer, layer.getEmbedding());
      case BATCHNORM -> batchnorm(layer, layer.getBatchnorm());
      case SOFTMAX -> softmax(layer);
      case PADDING -> padding(layer, layer.getPadding());
      case UNARY -> unary(layer, layer.getUnary());
      case ADD -> elementwise(layer, "Sum", "add", layer.getAdd().getAlpha());
      case MULTIPLY -> elementwise(layer, "Mul", "multiply", layer.getMultiply().getAlpha());
      case AVERAGE -> elementwise(layer, "Mean", "average", Float.NaN);
      case MAX -> elementwise(layer, "Max", "max", Float.NaN);
      case MIN -> elementwise(layer, "Min", "min", Float.NaN);
      case SCALE -> scale(layer);
      case BIAS -> bias(layer);
      case LOADCONSTANT -> loadConstant(layer, layer.getLoadConstant());
      case RESHAPE -> reshape(layer, layer.getReshape());
      case FLATTEN -> flatten(layer, layer.getFlatten());
      case PERMUTE -> permute(layer, layer.getPermute());
      case CONCAT -> concat(layer);
      case CUSTOM ->
          throw new UnsupportedModelException(
              "layer '"
                  + layer.getName()
                  + "' is a custom layer (class '"
                  + layer.getCustom().getClassName()
                  + "'), whose code lives in the app that shipped the model; Hangar cannot run"
                  + " custom layers. Supported layers: "
                  + SUPPORTED_LAYERS);
      case LAYER_NOT_SET ->
          throw new UnsupportedModelException(
              "layer '"
                  + layer.getName()
                  + "' is a "
                  + SpecificationCheck.layerTypeName(layer)
                  + " layer, which Hangar's CoreML compiler does not support. Supported layers: "
                  + SUPPORTED_LAYERS);
    }
  }

  // ------------------------------------------------------------------------------------------
  // dense, convolution, pooling

  private void innerProduct(NeuralNetworkLayer layer, InnerProductLayerParams params) {
    Blob x = input(layer);
    long inputs = params.getInputChannels();
    long outputs = params.getOutputChannels();
    float[] weights = Weights.floats(params.getWeights(), inputs * outputs, what(layer, "weights"));
    String matrix =
        graph.floats(new long[] {inputs, outputs}, transpose(weights, (int) outputs, (int) inputs));
    long[] shape = x.shape();
    int rank = shape.length;
    String flat;
    long[] flatShape;
    int trailingOnes;
    Batch batch = x.batch();
    switch (rank) {
      case 1 -> {
        flat = x.value();
        flatShape = shape;
        trailingOnes = 0;
        batch = batch.mixed();
      }
      case 2, 3 -> {
        flat = x.value();
        flatShape = shape;
        trailingOnes = 0;
      }
      case 4 -> {
        flat = graph.reshape(x.value(), 0, -1);
        flatShape = new long[] {shape[0], Shapes.product(shape, 1, 4)};
        trailingOnes = 2;
      }
      case 5 -> {
        flat = graph.reshape(x.value(), 0, 0, -1);
        flatShape = new long[] {shape[0], shape[1], Shapes.product(shape, 2, 5)};
        trailingOnes = 2;
      }
      default -> throw rankError(layer, x, "rank 1 to 5");
    }
    long actualInputs = flatShape[flatShape.length - 1];
    if (actualInputs >= 0 && actualInputs != inputs) {
      throw new UnsupportedModelException(
          describe(layer)
              + " expects "
              + inputs
              + " input channels but its input '"
              + layer.getInput(0)
              + "' has "
              + actualInputs
              + " (shape "
              + Arrays.toString(shape)
              + ")");
    }
    String y = graph.op("MatMul", List.of(flat, matrix));
    if (params.getHasBias()) {
      float[] bias = Weights.floats(params.getBias(), outputs, what(layer, "bias"));
      y = graph.op("Add", List.of(y, graph.floats(new long[] {outputs}, bias)));
    }
    long[] outShape = flatShape.clone();
    outShape[outShape.length - 1] = outputs;
    if (trailingOnes == 2) {
      y = graph.unsqueeze(y, outShape.length, outShape.length + 1);
      outShape = Shapes.append(outShape, 1, 1);
    }
    output(layer, new Blob(y, outShape, batch));
  }

  private void convolution(NeuralNetworkLayer layer, ConvolutionLayerParams params) {
    Blob x = input(layer);
    requireRank4(layer, x);
    if (params.getIsDeconvolution()) {
      throw new UnsupportedModelException(
          describe(layer)
              + " is a deconvolution (isDeconvolution), which Hangar does not support yet;"
              + " supported: convolution with valid, same or custom padding, groups and"
              + " dilation");
    }
    long outputs = params.getOutputChannels();
    long kernelChannels = params.getKernelChannels();
    long groups = params.getNGroups() == 0 ? 1 : params.getNGroups();
    long[] kernel = pair(params.getKernelSizeList(), 3, layer, "kernelSize");
    long[] stride = pair(params.getStrideList(), 1, layer, "stride");
    long[] dilation = pair(params.getDilationFactorList(), 1, layer, "dilationFactor");
    long inputChannels = x.dimension(1);
    if (inputChannels >= 0 && inputChannels != kernelChannels * groups) {
      throw new UnsupportedModelException(
          describe(layer)
              + " has kernelChannels "
              + kernelChannels
              + " x nGroups "
              + groups
              + " but its input has "
              + inputChannels
              + " channels");
    }
    if (outputs % groups != 0) {
      throw new UnsupportedModelException(
          describe(layer) + ": outputChannels " + outputs + " is not divisible by " + groups);
    }
    float[] weights =
        Weights.floats(
            params.getWeights(),
            outputs * kernelChannels * kernel[0] * kernel[1],
            what(layer, "weights"));
    List<String> inputs = new ArrayList<>();
    inputs.add(x.value());
    inputs.add(graph.floats(new long[] {outputs, kernelChannels, kernel[0], kernel[1]}, weights));
    if (params.getHasBias()) {
      inputs.add(
          graph.floats(
              new long[] {outputs},
              Weights.floats(params.getBias(), outputs, what(layer, "bias"))));
    }
    List<AttributeProto> attributes = new ArrayList<>();
    attributes.add(attribute("kernel_shape", kernel));
    attributes.add(attribute("strides", stride));
    attributes.add(attribute("dilations", dilation));
    attributes.add(attribute("group", groups));
    long[] effective = {(kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1};
    long[] outShape = {x.dimension(0), outputs, -1, -1};
    if (params.getConvolutionPaddingTypeCase()
        == ConvolutionLayerParams.ConvolutionPaddingTypeCase.SAME) {
      outShape[2] = Shapes.ceilDivide(x.dimension(2), stride[0]);
      outShape[3] = Shapes.ceilDivide(x.dimension(3), stride[1]);
      if (x.dimension(2) >= 0 && x.dimension(3) >= 0) {
        attributes.add(
            attribute(
                "pads",
                samePads(
                    params.getSame(),
                    new long[] {x.dimension(2), x.dimension(3)},
                    effective,
                    stride)));
      } else if (dilation[0] != 1 || dilation[1] != 1) {
        throw new UnsupportedModelException(
            describe(layer)
                + " combines same padding and dilation on an input of flexible size; Hangar"
                + " supports that on inputs of fixed height and width");
      } else {
        attributes.add(samePadding(params.getSame()));
      }
    } else {
      long[] pads = pads(params.getValid().getPaddingAmounts(), layer);
      attributes.add(attribute("pads", pads));
      outShape[2] = Shapes.windowed(x.dimension(2), pads[0] + pads[2], effective[0], stride[0]);
      outShape[3] = Shapes.windowed(x.dimension(3), pads[1] + pads[3], effective[1], stride[1]);
    }
    String y = graph.op("Conv", inputs, attributes.toArray(AttributeProto[]::new));
    output(layer, new Blob(y, outShape, x.batch()));
  }

  private void pooling(NeuralNetworkLayer layer, PoolingLayerParams params) {
    Blob x = input(layer);
    requireRank4(layer, x);
    boolean max =
        switch (params.getType()) {
          case MAX -> true;
          case AVERAGE -> false;
          default ->
              throw new UnsupportedModelException(
                  describe(layer)
                      + " uses "
                      + params.getType()
                      + " pooling, which Hangar does not support; supported: MAX, AVERAGE");
        };
    if (params.getGlobalPooling()) {
      String y = graph.op(max ? "GlobalMaxPool" : "GlobalAveragePool", List.of(x.value()));
      output(layer, new Blob(y, new long[] {x.dimension(0), x.dimension(1), 1, 1}, x.batch()));
      return;
    }
    long[] kernel = pair(params.getKernelSizeList(), 3, layer, "kernelSize");
    long[] stride = pair(params.getStrideList(), 1, layer, "stride");
    List<AttributeProto> attributes = new ArrayList<>();
    attributes.add(attribute("kernel_shape", kernel));
    attributes.add(attribute("strides", stride));
    if (!max) {
      attributes.add(attribute("count_include_pad", params.getAvgPoolExcludePadding() ? 0 : 1));
    }
    long[] outShape = {x.dimension(0), x.dimension(1), -1, -1};
    switch (params.getPoolingPaddingTypeCase()) {
      case SAME -> {
        attributes.add(samePadding(params.getSame()));
        outShape[2] = Shapes.ceilDivide(x.dimension(2), stride[0]);
        outShape[3] = Shapes.ceilDivide(x.dimension(3), stride[1]);
      }
      case INCLUDELASTPIXEL -> {
        lastPixelPooling(layer, params, x, max, kernel, stride, attributes);
        return;
      }
      default -> {
        long[] pads = pads(params.getValid().getPaddingAmounts(), layer);
        attributes.add(attribute("pads", pads));
        outShape[2] = Shapes.windowed(x.dimension(2), pads[0] + pads[2], kernel[0], stride[0]);
        outShape[3] = Shapes.windowed(x.dimension(3), pads[1] + pads[3], kernel[1], stride[1]);
      }
    }
    String y =
        graph.op(
            max ? "MaxPool" : "AveragePool",
            List.of(x.value()),
            attributes.toArray(AttributeProto[]::new));
    output(layer, new Blob(y, outShape, x.batch()));
  }

  /**
   * CoreML's includeLastPixel pooling (Caffe's ceil mode): symmetric padding p, output size
   * ceil((in + 2p - k) / s) + 1, less one when padding is set and the last window would start in
   * the padding. The compiler computes that size for the input's static size and pads the end so
   * that ONNX's floor-mode pooling yields it; an average that counts padding divides by the window
   * clipped to the padded input, as Caffe does, which is ONNX's count times a constant correction.
   */
  private void lastPixelPooling(
      NeuralNetworkLayer layer,
      PoolingLayerParams params,
      Blob x,
      boolean max,
      long[] kernel,
      long[] stride,
      List<AttributeProto> attributes) {
    List<Long> amounts = params.getIncludeLastPixel().getPaddingAmountsList();
    long[] padding = amounts.isEmpty() ? new long[] {0, 0} : pair(amounts, 0, layer, "pad");
    long height = x.dimension(2);
    long width = x.dimension(3);
    if (height < 0 || width < 0) {
      throw new UnsupportedModelException(
          describe(layer)
              + " uses includeLastPixel padding on an input of flexible size; Hangar computes that"
              + " padding for a fixed height and width only");
    }
    long[] size = {height, width};
    long[] out = new long[2];
    long[] endPadding = new long[2];
    for (int axis = 0; axis < 2; axis++) {
      long p = padding[axis];
      out[axis] =
          Math.floorDiv(size[axis] + 2 * p - kernel[axis] + stride[axis] - 1, stride[axis]) + 1;
      if ((padding[0] > 0 || padding[1] > 0) && (out[axis] - 1) * stride[axis] >= size[axis] + p) {
        out[axis]--;
      }
      long lastStart = (out[axis] - 1) * stride[axis] - p;
      if (lastStart >= size[axis]) {
        throw new UnsupportedModelException(
            describe(layer)
                + " uses includeLastPixel padding whose last window starts past the input (no"
                + " padding and a stride larger than the kernel); Hangar does not support that");
      }
      endPadding[axis] = Math.max(0, lastStart + kernel[axis] - size[axis]);
    }
    attributes.add(
        attribute("pads", new long[] {padding[0], padding[1], endPadding[0], endPadding[1]}));
    String y =
        graph.op(
            max ? "MaxPool" : "AveragePool",
            List.of(x.value()),
            attributes.toArray(AttributeProto[]::new));
    if (!max && !params.getAvgPoolExcludePadding()) {
      float[] correction = new float[(int) (out[0] * out[1])];
      boolean needed = false;
      for (int i = 0; i < out[0]; i++) {
        for (int j = 0; j < out[1]; j++) {
          long startH = i * stride[0] - padding[0];
          long startW = j * stride[1] - padding[1];
          long rows = Math.min(startH + kernel[0], height + padding[0]) - startH;
          long columns = Math.min(startW + kernel[1], width + padding[1]) - startW;
          float factor = (float) (kernel[0] * kernel[1]) / (rows * columns);
          correction[(int) (i * out[1] + j)] = factor;
          needed |= factor != 1f;
        }
      }
      if (needed) {
        y = graph.op("Mul", List.of(y, graph.floats(new long[] {out[0], out[1]}, correction)));
      }
    }
    output(
        layer, new Blob(y, new long[] {x.dimension(0), x.dimension(1), out[0], out[1]}, x.batch()));
  }

  /** CoreML's same padding as explicit ONNX pads [top, left, bottom, right] for a static size. */
  private static long[] samePads(SamePadding same, long[] size, long[] window, long[] stride) {
    boolean topLeftHeavy = same.getAsymmetryMode() == SamePadding.SamePaddingMode.TOP_LEFT_HEAVY;
    long[] pads = new long[4];
    for (int axis = 0; axis < 2; axis++) {
      long out = Shapes.ceilDivide(size[axis], stride[axis]);
      long total = Math.max(0, (out - 1) * stride[axis] + window[axis] - size[axis]);
      long start = topLeftHeavy ? total - total / 2 : total / 2;
      pads[axis] = start;
      pads[axis + 2] = total - start;
    }
    return pads;
  }

  private static AttributeProto samePadding(SamePadding same) {
    return attribute(
        "auto_pad",
        same.getAsymmetryMode() == SamePadding.SamePaddingMode.TOP_LEFT_HEAVY
            ? "SAME_LOWER"
            : "SAME_UPPER");
  }

  /** Returns ONNX pads [top, left, bottom, right] of CoreML border amounts [H, W]. */
  private static long[] pads(BorderAmounts amounts, NeuralNetworkLayer layer) {
    List<BorderAmounts.EdgeSizes> edges = amounts.getBorderAmountsList();
    if (edges.isEmpty()) {
      return new long[] {0, 0, 0, 0};
    }
    if (edges.size() != 2) {
      throw new UnsupportedModelException(
          describe(layer) + " gives " + edges.size() + " border amounts; CoreML needs [H, W]");
    }
    return new long[] {
      edges.get(0).getStartEdgeSize(),
      edges.get(1).getStartEdgeSize(),
      edges.get(0).getEndEdgeSize(),
      edges.get(1).getEndEdgeSize()
    };
  }

  // ------------------------------------------------------------------------------------------
  // activations and element-wise functions

  private Blob activation(NeuralNetworkLayer layer, ActivationParams params, Blob x) {
    String v = x.value();
    Batch batch = x.batch();
    String y =
        switch (params.getNonlinearityTypeCase()) {
          case RELU -> graph.op("Relu", List.of(v));
          case LEAKYRELU ->
              graph.op(
                  "LeakyRelu", List.of(v), attribute("alpha", params.getLeakyReLU().getAlpha()));
          case THRESHOLDEDRELU -> {
            // CoreML keeps x when x >= alpha; ONNX ThresholdedRelu keeps it only when x > alpha
            String keep =
                graph.op(
                    "GreaterOrEqual",
                    List.of(v, graph.scalar(params.getThresholdedReLU().getAlpha())));
            yield graph.op("Where", List.of(keep, v, graph.scalar(0f)));
          }
          case PRELU -> {
            float[] alpha = Weights.floats(params.getPReLU().getAlpha(), -1, what(layer, "alpha"));
            batch = channelVectorBatch(x, alpha.length, layer);
            yield graph.op("PRelu", List.of(v, channelVector(alpha, x, layer)));
          }
          case TANH -> graph.op("Tanh", List.of(v));
          case SCALEDTANH -> {
            String inner =
                graph.op("Mul", List.of(v, graph.scalar(params.getScaledTanh().getBeta())));
            yield graph.op(
                "Mul",
                List.of(
                    graph.op("Tanh", List.of(inner)),
                    graph.scalar(params.getScaledTanh().getAlpha())));
          }
          case SIGMOID -> graph.op("Sigmoid", List.of(v));
          case SIGMOIDHARD ->
              graph.op(
                  "HardSigmoid",
                  List.of(v),
                  attribute("alpha", params.getSigmoidHard().getAlpha()),
                  attribute("beta", params.getSigmoidHard().getBeta()));
          case LINEAR ->
              graph.op(
                  "Add",
                  List.of(
                      graph.op("Mul", List.of(v, graph.scalar(params.getLinear().getAlpha()))),
                      graph.scalar(params.getLinear().getBeta())));
          case ELU -> graph.op("Elu", List.of(v), attribute("alpha", params.getELU().getAlpha()));
          case SOFTSIGN -> graph.op("Softsign", List.of(v));
          case SOFTPLUS -> graph.op("Softplus", List.of(v));
          case PARAMETRICSOFTPLUS -> {
            float[] alpha =
                Weights.floats(params.getParametricSoftplus().getAlpha(), -1, what(layer, "alpha"));
            float[] beta =
                Weights.floats(params.getParametricSoftplus().getBeta(), -1, what(layer, "beta"));
            batch =
                channelVectorBatch(x, alpha.length, layer)
                    .and(channelVectorBatch(x, beta.length, layer));
            String scaled = graph.op("Mul", List.of(v, channelVector(beta, x, layer)));
            yield graph.op(
                "Mul",
                List.of(graph.op("Softplus", List.of(scaled)), channelVector(alpha, x, layer)));
          }
          case NONLINEARITYTYPE_NOT_SET ->
              throw new UnsupportedModelException(describe(layer) + " has no activation type");
        };
    return new Blob(y, x.shape(), batch);
  }

  /** A per-channel parameter of length C (or 1) shaped to broadcast over [..., C, H, W]. */
  private String channelVector(float[] values, Blob x, NeuralNetworkLayer layer) {
    if (values.length == 1) {
      return graph.scalar(values[0]);
    }
    requireRankAtLeast(layer, x, 3);
    long channels = x.dimension(x.rank() - 3);
    if (channels >= 0 && channels != values.length) {
      throw new UnsupportedModelException(
          describe(layer)
              + " has "
              + values.length
              + " per-channel values but its input has "
              + channels
              + " channels");
    }
    return graph.floats(new long[] {values.length, 1, 1}, values);
  }

  /** A per-channel vector on a rank-3 blob varies along dimension 0. */
  private static Batch channelVectorBatch(Blob x, int length, NeuralNetworkLayer layer) {
    return length > 1 && x.rank() == 3 ? x.batch().mixed() : x.batch();
  }

  private void unary(NeuralNetworkLayer layer, UnaryFunctionLayerParams params) {
    Blob x = input(layer);
    String v = x.value();
    float scale = params.getScale() == 0f ? 1f : params.getScale();
    if (scale != 1f) {
      v = graph.op("Mul", List.of(v, graph.scalar(scale)));
    }
    if (params.getShift() != 0f) {
      v = graph.op("Add", List.of(v, graph.scalar(params.getShift())));
    }
    float epsilon = params.getEpsilon() == 0f ? 1e-6f : params.getEpsilon();
    String y =
        switch (params.getType()) {
          case SQRT -> graph.op("Sqrt", List.of(v));
          case RSQRT ->
              graph.op(
                  "Reciprocal",
                  List.of(
                      graph.op(
                          "Sqrt", List.of(graph.op("Add", List.of(v, graph.scalar(epsilon)))))));
          case INVERSE ->
              graph.op("Reciprocal", List.of(graph.op("Add", List.of(v, graph.scalar(epsilon)))));
          case POWER -> graph.op("Pow", List.of(v, graph.scalar(params.getAlpha())));
          case EXP -> graph.op("Exp", List.of(v));
          case LOG -> graph.op("Log", List.of(v));
          case ABS -> graph.op("Abs", List.of(v));
          case THRESHOLD -> graph.op("Max", List.of(v, graph.scalar(params.getAlpha())));
          case UNRECOGNIZED ->
              throw new UnsupportedModelException(
                  describe(layer)
                      + " uses unary operation "
                      + params.getTypeValue()
                      + ", which CoreML does not define");
        };
    output(layer, new Blob(y, x.shape(), x.batch()));
  }

  private void elementwise(NeuralNetworkLayer layer, String opType, String kind, float alpha) {
    if (layer.getInputCount() == 0) {
      throw new UnsupportedModelException(describe(layer) + " has no input");
    }
    List<Blob> inputs = inputs(layer);
    if (inputs.size() == 1) {
      Blob x = inputs.get(0);
      String y =
          switch (kind) {
            case "add" -> graph.op("Add", List.of(x.value(), graph.scalar(alpha)));
            case "multiply" -> graph.op("Mul", List.of(x.value(), graph.scalar(alpha)));
            default -> graph.op("Identity", List.of(x.value()));
          };
      output(layer, new Blob(y, x.shape(), x.batch()));
      return;
    }
    long[] shape = inputs.get(0).shape();
    Batch batch = inputs.get(0).batch();
    for (Blob blob : inputs.subList(1, inputs.size())) {
      shape = broadcast(layer, shape, blob.shape());
      batch = batch.and(blob.batch());
    }
    String y;
    if (opType.equals("Mul")) {
      y = inputs.get(0).value();
      for (Blob blob : inputs.subList(1, inputs.size())) {
        y = graph.op("Mul", List.of(y, blob.value()));
      }
    } else {
      y = graph.op(opType, inputs.stream().map(Blob::value).toList());
    }
    output(layer, new Blob(y, shape, batch));
  }

  private long[] broadcast(NeuralNetworkLayer layer, long[] first, long[] second) {
    try {
      return Shapes.broadcast(first, second);
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(describe(layer) + ": " + e.getMessage());
    }
  }

  private void scale(NeuralNetworkLayer layer) {
    var params = layer.getScale();
    Blob x = input(layer);
    Blob scaled =
        broadcastParameter(layer, x, "Mul", params.getShapeScaleList(), params.getScale(), "scale");
    if (params.getHasBias()) {
      scaled =
          broadcastParameter(
              layer, scaled, "Add", params.getShapeBiasList(), params.getBias(), "bias");
    }
    output(layer, scaled);
  }

  private void bias(NeuralNetworkLayer layer) {
    var params = layer.getBias();
    output(
        layer,
        broadcastParameter(
            layer, input(layer), "Add", params.getShapeList(), params.getBias(), "bias"));
  }

  /** Applies a parameter of shape [1], [C], [1, H, W] or [C, H, W] to the trailing axes. */
  private Blob broadcastParameter(
      NeuralNetworkLayer layer,
      Blob x,
      String opType,
      List<Long> declaredShape,
      WeightParams weights,
      String name) {
    long[] shape = declaredShape.stream().mapToLong(Long::longValue).toArray();
    long[] onnxShape;
    if (shape.length == 1) {
      onnxShape = shape[0] == 1 ? new long[0] : new long[] {shape[0], 1, 1};
    } else if (shape.length == 3) {
      onnxShape = shape;
    } else {
      throw new UnsupportedModelException(
          describe(layer)
              + " has a "
              + name
              + " of shape "
              + Arrays.toString(shape)
              + "; CoreML allows [1], [C], [1, H, W] or [C, H, W]");
    }
    float[] values = Weights.floats(weights, Shapes.product(shape), what(layer, name));
    if (onnxShape.length > 0) {
      requireRankAtLeast(layer, x, 3);
    }
    long[] outShape = broadcast(layer, x.shape(), onnxShape);
    Batch batch =
        onnxShape.length == 3 && x.rank() == 3 && onnxShape[0] > 1 ? x.batch().mixed() : x.batch();
    String y = graph.op(opType, List.of(x.value(), graph.floats(onnxShape, values)));
    return new Blob(y, outShape, batch);
  }

  // ------------------------------------------------------------------------------------------
  // normalization

  private void softmax(NeuralNetworkLayer layer) {
    Blob x = input(layer);
    requireRankAtLeast(layer, x, 3);
    int axis = x.rank() - 3;
    String y = graph.op("Softmax", List.of(x.value()), attribute("axis", axis));
    output(layer, new Blob(y, x.shape(), axis == 0 ? x.batch().mixed() : x.batch()));
  }

  private void batchnorm(NeuralNetworkLayer layer, BatchnormLayerParams params) {
    Blob x = input(layer);
    requireRankAtLeast(layer, x, 3);
    long channels = params.getChannels();
    long actual = x.dimension(x.rank() - 3);
    if (actual >= 0 && actual != channels) {
      throw new UnsupportedModelException(
          describe(layer) + " has " + channels + " channels but its input has " + actual);
    }
    float epsilon = params.getEpsilon() == 0f ? 1e-5f : params.getEpsilon();
    float[] gamma = Weights.floats(params.getGamma(), channels, what(layer, "gamma"));
    float[] beta = Weights.floats(params.getBeta(), channels, what(layer, "beta"));
    if (params.getComputeMeanVar()) {
      if (!params.getInstanceNormalization()) {
        throw new UnsupportedModelException(
            describe(layer)
                + " computes mean and variance over the whole batch (computeMeanVar without"
                + " instanceNormalization), which would make a request's result depend on the"
                + " others batched with it; Hangar supports batchnorm with stored statistics, or"
                + " instance normalization");
      }
      requireRank4(layer, x);
      String y =
          graph.op(
              "InstanceNormalization",
              List.of(
                  x.value(),
                  graph.floats(new long[] {channels}, gamma),
                  graph.floats(new long[] {channels}, beta)),
              attribute("epsilon", epsilon));
      output(layer, new Blob(y, x.shape(), x.batch()));
      return;
    }
    float[] mean = Weights.floats(params.getMean(), channels, what(layer, "mean"));
    float[] variance = Weights.floats(params.getVariance(), channels, what(layer, "variance"));
    // y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, folded into y = x * a + b
    float[] multiplier = new float[(int) channels];
    float[] offset = new float[(int) channels];
    for (int c = 0; c < channels; c++) {
      double a = gamma[c] / Math.sqrt((double) variance[c] + epsilon);
      multiplier[c] = (float) a;
      offset[c] = (float) (beta[c] - mean[c] * a);
    }
    long[] parameterShape = {channels, 1, 1};
    String y =
        graph.op(
            "Add",
            List.of(
                graph.op("Mul", List.of(x.value(), graph.floats(parameterShape, multiplier))),
                graph.floats(parameterShape, offset)));
    output(layer, new Blob(y, x.shape(), x.rank() == 3 ? x.batch().mixed() : x.batch()));
  }

  // ------------------------------------------------------------------------------------------
  // data layout

  private void concat(NeuralNetworkLayer layer) {
    List<Blob> inputs = inputs(layer);
    if (inputs.isEmpty()) {
      throw new UnsupportedModelException(describe(layer) + " has no input");
    }
    int rank = inputs.get(0).rank();
    for (Blob blob : inputs) {
      if (blob.rank() != rank) {
        throw new UnsupportedModelException(describe(layer) + " joins blobs of different ranks");
      }
    }
    int axis;
    if (layer.getConcat().getSequenceConcat()) {
      if (rank5) {
        throw new UnsupportedModelException(
            describe(layer)
                + " concatenates along the sequence axis, which Hangar does not support for"
                + " rank-5 networks (it holds the sequence length at 1)");
      }
      if (rank < 5) {
        throw rankError(layer, inputs.get(0), "rank 5 or more for a sequence concat");
      }
      axis = rank - 5;
    } else {
      if (rank < 3) {
        throw rankError(layer, inputs.get(0), "rank 3 or more");
      }
      axis = rank - 3;
    }
    Batch batch = Batch.CONSTANT;
    for (Blob blob : inputs) {
      batch = batch.and(blob.batch());
    }
    List<String> values = new ArrayList<>();
    Blob reference =
        inputs.stream().filter(b -> b.batch() != Batch.CONSTANT).findFirst().orElse(null);
    long[] shape = inputs.get(0).shape();
    shape[axis] = 0;
    for (Blob blob : inputs) {
      String value = blob.value();
      if (blob.batch() == Batch.CONSTANT && reference != null && axis != 0) {
        value = expandToBatch(blob, reference);
      }
      values.add(value);
      long size = blob.dimension(axis);
      shape[axis] = shape[axis] < 0 || size < 0 ? -1 : shape[axis] + size;
      if (reference != null) {
        shape[0] = reference.dimension(0);
      }
    }
    String y = graph.op("Concat", values, attribute("axis", axis));
    output(layer, new Blob(y, shape, axis == 0 ? batch.mixed() : batch));
  }

  /** Repeats a constant blob (dimension 0 of size 1) to the batch size of {@code reference}. */
  private String expandToBatch(Blob constant, Blob reference) {
    String batchSize =
        graph.op(
            "Slice",
            List.of(graph.op("Shape", List.of(reference.value())), graph.longs(0), graph.longs(1)));
    long[] rest = Arrays.copyOfRange(constant.shape(), 1, constant.rank());
    String target = graph.op("Concat", List.of(batchSize, graph.longs(rest)), attribute("axis", 0));
    return graph.op("Expand", List.of(constant.value(), target));
  }

  private void flatten(NeuralNetworkLayer layer, FlattenLayerParams params) {
    Blob x = input(layer);
    requireRankAtLeast(layer, x, 3);
    int rank = x.rank();
    int leading = rank - 3;
    String value = x.value();
    if (params.getMode() == FlattenLayerParams.FlattenOrder.CHANNEL_LAST) {
      long[] permutation = new long[rank];
      for (int i = 0; i < leading; i++) {
        permutation[i] = i;
      }
      permutation[leading] = rank - 2;
      permutation[leading + 1] = rank - 1;
      permutation[leading + 2] = rank - 3;
      value = graph.transpose(value, permutation);
    }
    long[] target = new long[rank];
    target[leading] = -1;
    target[leading + 1] = 1;
    target[leading + 2] = 1;
    String y = graph.reshape(value, target);
    long[] shape =
        Shapes.append(
            Shapes.head(x.shape(), leading), Shapes.product(x.shape(), leading, rank), 1, 1);
    output(layer, new Blob(y, shape, leading == 0 ? x.batch().mixed() : x.batch()));
  }

  /**
   * The rank-5 layers (reshape, permute) see {@code [Seq, Batch, C, H, W]}. This returns the blob
   * as {@code [Batch, Seq, C, H, W]}: from Hangar's rank-4 form with a sequence of 1, or by
   * swapping the first two axes of a true rank-5 blob.
   */
  private Blob batchFirstRank5(NeuralNetworkLayer layer, Blob x) {
    long[] s = x.shape();
    if (rank5) {
      requireRank4(layer, x);
      return new Blob(
          graph.unsqueeze(x.value(), 1), new long[] {s[0], 1, s[1], s[2], s[3]}, x.batch());
    }
    if (x.rank() != 5) {
      throw rankError(layer, x, "rank 5 ([Seq, Batch, C, H, W])");
    }
    return new Blob(
        graph.transpose(x.value(), 1, 0, 2, 3, 4),
        new long[] {s[1], s[0], s[2], s[3], s[4]},
        x.batch());
  }

  /** The inverse of {@link #batchFirstRank5}. */
  private Blob fromBatchFirstRank5(
      NeuralNetworkLayer layer, String value, long[] shape, Batch batch) {
    if (rank5) {
      if (shape[1] != 1) {
        throw new UnsupportedModelException(
            describe(layer)
                + " would make the sequence axis "
                + (shape[1] < 0 ? "longer than 1" : shape[1] + " long")
                + "; Hangar holds rank-5 networks at a sequence length of 1 and does not support"
                + " layers that change it");
      }
      return new Blob(
          graph.squeeze(value, 1), new long[] {shape[0], shape[2], shape[3], shape[4]}, batch);
    }
    return new Blob(
        graph.transpose(value, 1, 0, 2, 3, 4),
        new long[] {shape[1], shape[0], shape[2], shape[3], shape[4]},
        batch);
  }

  private void reshape(NeuralNetworkLayer layer, ReshapeLayerParams params) {
    Blob x = batchFirstRank5(layer, input(layer));
    long[] target = params.getTargetShapeList().stream().mapToLong(Long::longValue).toArray();
    if (target.length != 3 && target.length != 4) {
      throw new UnsupportedModelException(
          describe(layer)
              + " has target shape "
              + Arrays.toString(target)
              + "; CoreML needs [C, H, W] or [Seq, C, H, W]");
    }
    for (long dimension : target) {
      if (dimension == 0 || dimension < -1) {
        throw new UnsupportedModelException(
            describe(layer) + " has target shape " + Arrays.toString(target));
      }
    }
    long[] chw = Arrays.copyOfRange(target, target.length - 3, target.length);
    long sequence = target.length == 4 ? target[0] : x.dimension(1);
    long sequenceTarget = target.length == 4 ? target[0] : 0;
    long[] outShape = {x.dimension(0), sequence, chw[0], chw[1], chw[2]};
    fillInferredDimension(outShape, x.shape());
    String y;
    if (params.getMode() == ReshapeLayerParams.ReshapeOrder.CHANNEL_LAST) {
      String channelLast = graph.transpose(x.value(), 0, 1, 3, 4, 2);
      String reshaped = graph.reshape(channelLast, 0, sequenceTarget, chw[1], chw[2], chw[0]);
      y = graph.transpose(reshaped, 0, 1, 4, 2, 3);
    } else {
      y = graph.reshape(x.value(), 0, sequenceTarget, chw[0], chw[1], chw[2]);
    }
    Batch batch = target.length == 4 && !rank5 ? x.batch().mixed() : x.batch();
    output(layer, fromBatchFirstRank5(layer, y, outShape, batch));
  }

  /** Resolves a -1 in a [Batch, Seq, C, H, W] target from the input's element count. */
  private static void fillInferredDimension(long[] target, long[] input) {
    int inferred = -1;
    for (int i = 1; i < target.length; i++) {
      if (target[i] == -1) {
        inferred = i;
      }
    }
    if (inferred < 0) {
      return;
    }
    long known = 1;
    for (int i = 1; i < target.length; i++) {
      if (i != inferred) {
        known = target[i] < 0 ? -1 : known * target[i];
      }
    }
    long total = Shapes.product(input, 1, input.length);
    target[inferred] = known > 0 && total >= 0 ? total / known : -1;
  }

  private void permute(NeuralNetworkLayer layer, PermuteLayerParams params) {
    Blob x = batchFirstRank5(layer, input(layer));
    long[] axes = params.getAxisList().stream().mapToLong(Long::longValue).toArray();
    if (axes.length == 0) {
      axes = new long[] {0, 1, 2, 3};
    }
    long[] sorted = axes.clone();
    Arrays.sort(sorted);
    if (!Arrays.equals(sorted, new long[] {0, 1, 2, 3})) {
      throw new UnsupportedModelException(
          describe(layer)
              + " has axis "
              + Arrays.toString(axes)
              + "; CoreML needs a permutation of [0, 1, 2, 3]");
    }
    // CoreML axes 0..3 name Seq, C, H, W; in [Batch, Seq, C, H, W] they sit at 1..4
    long[] permutation = {0, axes[0] + 1, axes[1] + 1, axes[2] + 1, axes[3] + 1};
    String y = graph.transpose(x.value(), permutation);
    long[] shape = Shapes.permute(x.shape(), permutation);
    Batch batch = axes[0] != 0 && !rank5 ? x.batch().mixed() : x.batch();
    output(layer, fromBatchFirstRank5(layer, y, shape, batch));
  }

  private void padding(NeuralNetworkLayer layer, PaddingLayerParams params) {
    Blob x = input(layer);
    requireRankAtLeast(layer, x, 2);
    int rank = x.rank();
    long[] border = pads(params.getPaddingAmounts(), layer);
    long[] pads = new long[2 * rank];
    pads[rank - 2] = border[0];
    pads[rank - 1] = border[1];
    pads[2 * rank - 2] = border[2];
    pads[2 * rank - 1] = border[3];
    String mode;
    List<String> inputs = new ArrayList<>(List.of(x.value(), graph.longs(pads)));
    switch (params.getPaddingTypeCase()) {
      case REFLECTION -> mode = "reflect";
      case REPLICATION -> mode = "edge";
      default -> {
        mode = "constant";
        inputs.add(graph.scalar(params.getConstant().getValue()));
      }
    }
    String y = graph.op("Pad", inputs, attribute("mode", mode));
    long[] shape = x.shape();
    shape[rank - 2] = shape[rank - 2] < 0 ? -1 : shape[rank - 2] + border[0] + border[2];
    shape[rank - 1] = shape[rank - 1] < 0 ? -1 : shape[rank - 1] + border[1] + border[3];
    output(layer, new Blob(y, shape, rank == 2 ? x.batch().mixed() : x.batch()));
  }

  private void embedding(NeuralNetworkLayer layer, EmbeddingLayerParams params) {
    Blob x = input(layer);
    long vocabulary = params.getInputDim();
    long outputs = params.getOutputChannels();
    int rank = x.rank();
    if (rank != 4 && rank != 5) {
      throw rankError(layer, x, "rank 4 or 5 with the last three dimensions 1");
    }
    for (int i = rank - 3; i < rank; i++) {
      if (x.dimension(i) > 1) {
        throw new UnsupportedModelException(
            describe(layer)
                + " needs the last three dimensions of its input to be 1, but it has shape "
                + Arrays.toString(x.shape()));
      }
    }
    float[] weights =
        Weights.floats(params.getWeights(), vocabulary * outputs, what(layer, "weights"));
    // CoreML stores [outputChannels, inputDim]; Gather wants one row per index
    String table =
        graph.floats(
            new long[] {vocabulary, outputs}, transpose(weights, (int) outputs, (int) vocabulary));
    int leading = rank - 3;
    long[] indexShape = new long[leading];
    String indices =
        graph.cast(
            graph.reshape(x.value(), leading == 1 ? new long[] {-1} : new long[] {0, 0}),
            dev.hangar.spi.DataType.FP32,
            dev.hangar.spi.DataType.INT64);
    String y = graph.op("Gather", List.of(table, indices), attribute("axis", 0));
    if (params.getHasBias()) {
      y =
          graph.op(
              "Add",
              List.of(
                  y,
                  graph.floats(
                      new long[] {outputs},
                      Weights.floats(params.getBias(), outputs, what(layer, "bias")))));
    }
    y = graph.unsqueeze(y, leading + 1, leading + 2);
    System.arraycopy(x.shape(), 0, indexShape, 0, leading);
    output(layer, new Blob(y, Shapes.append(indexShape, outputs, 1, 1), x.batch()));
  }

  private void loadConstant(NeuralNetworkLayer layer, LoadConstantLayerParams params) {
    long[] chw = params.getShapeList().stream().mapToLong(Long::longValue).toArray();
    if (chw.length != 3) {
      throw new UnsupportedModelException(
          describe(layer) + " has shape " + Arrays.toString(chw) + "; CoreML needs [C, H, W]");
    }
    float[] data = Weights.floats(params.getData(), Shapes.product(chw), what(layer, "data"));
    long[] shape =
        rank5 ? new long[] {1, chw[0], chw[1], chw[2]} : new long[] {1, 1, chw[0], chw[1], chw[2]};
    output(layer, new Blob(graph.floats(shape, data), shape, Batch.CONSTANT));
  }

  // ------------------------------------------------------------------------------------------
  // helpers

  private Blob input(NeuralNetworkLayer layer) {
    if (layer.getInputCount() != 1) {
      throw new UnsupportedModelException(
          describe(layer) + " has " + layer.getInputCount() + " inputs; it takes exactly 1");
    }
    return blob(layer, layer.getInput(0));
  }

  private List<Blob> inputs(NeuralNetworkLayer layer) {
    List<Blob> inputs = new ArrayList<>();
    for (String name : layer.getInputList()) {
      inputs.add(blob(layer, name));
    }
    return inputs;
  }

  private Blob blob(NeuralNetworkLayer layer, String name) {
    Blob blob = blobs.get(name);
    if (blob == null) {
      throw new UnsupportedModelException(
          describe(layer)
              + " reads blob '"
              + name
              + "', which no model input or earlier layer produces");
    }
    return blob;
  }

  private void output(NeuralNetworkLayer layer, Blob blob) {
    if (layer.getOutputCount() != 1) {
      throw new UnsupportedModelException(
          describe(layer) + " has " + layer.getOutputCount() + " outputs; it produces exactly 1");
    }
    blobs.put(layer.getOutput(0), blob);
  }

  private static long[] pair(
      List<Long> values, long defaultValue, NeuralNetworkLayer layer, String name) {
    if (values.isEmpty()) {
      return new long[] {defaultValue, defaultValue};
    }
    if (values.size() != 2) {
      throw new UnsupportedModelException(
          describe(layer) + " has " + name + " " + values + "; CoreML needs [H, W]");
    }
    return new long[] {values.get(0), values.get(1)};
  }

  private static void requireRank4(NeuralNetworkLayer layer, Blob x) {
    if (x.rank() != 4) {
      throw rankError(layer, x, "rank 4 ([Batch, C, H, W])");
    }
  }

  private static void requireRankAtLeast(NeuralNetworkLayer layer, Blob x, int rank) {
    if (x.rank() < rank) {
      throw rankError(layer, x, "rank " + rank + " or more");
    }
  }

  private static UnsupportedModelException rankError(
      NeuralNetworkLayer layer, Blob x, String needs) {
    return new UnsupportedModelException(
        describe(layer)
            + " needs an input of "
            + needs
            + " but '"
            + layer.getInput(0)
            + "' has shape "
            + Arrays.toString(x.shape()));
  }

  static String describe(NeuralNetworkLayer layer) {
    return "layer '" + layer.getName() + "' (" + SpecificationCheck.layerTypeName(layer) + ")";
  }

  private static String what(NeuralNetworkLayer layer, String field) {
    return describe(layer) + " " + field;
  }

  /** Transposes a row-major [rows, columns] matrix. */
  static float[] transpose(float[] matrix, int rows, int columns) {
    float[] result = new float[matrix.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < columns; c++) {
        result[c * rows + r] = matrix[r * columns + c];
      }
    }
    return result;
  }
}
