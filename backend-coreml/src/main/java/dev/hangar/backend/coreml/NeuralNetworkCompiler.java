package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.GraphWriter.attribute;

import dev.hangar.backend.coreml.Blob.Batch;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkImageScaler;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkImageShapeMapping;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkMultiArrayShapeMapping;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkPreprocessing;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compiles the three neural-network model types ({@code neuralNetwork}, {@code
 * neuralNetworkRegressor}, {@code neuralNetworkClassifier}): adapts the inputs to the network's
 * shape convention, applies image preprocessing, translates the layers and shapes the outputs.
 */
final class NeuralNetworkCompiler {
  /** The parts the three network types share. */
  record Network(
      List<NeuralNetworkLayer> layers,
      List<NeuralNetworkPreprocessing> preprocessing,
      NeuralNetworkMultiArrayShapeMapping arrayMapping,
      NeuralNetworkImageShapeMapping imageMapping,
      Optional<ClassLabels> classLabels,
      String labelProbabilityLayerName) {

    static Network of(Model model) {
      return switch (model.getTypeCase()) {
        case NEURALNETWORK -> {
          var network = model.getNeuralNetwork();
          yield new Network(
              network.getLayersList(),
              network.getPreprocessingList(),
              network.getArrayInputShapeMapping(),
              network.getImageInputShapeMapping(),
              Optional.empty(),
              "");
        }
        case NEURALNETWORKREGRESSOR -> {
          var network = model.getNeuralNetworkRegressor();
          yield new Network(
              network.getLayersList(),
              network.getPreprocessingList(),
              network.getArrayInputShapeMapping(),
              network.getImageInputShapeMapping(),
              Optional.empty(),
              "");
        }
        case NEURALNETWORKCLASSIFIER -> {
          var network = model.getNeuralNetworkClassifier();
          yield new Network(
              network.getLayersList(),
              network.getPreprocessingList(),
              network.getArrayInputShapeMapping(),
              network.getImageInputShapeMapping(),
              Optional.of(
                  ClassLabels.of(
                      network.getStringClassLabels(),
                      network.getInt64ClassLabels(),
                      "neuralNetworkClassifier")),
              network.getLabelProbabilityLayerName());
        }
        default -> throw new IllegalArgumentException(model.getTypeCase().toString());
      };
    }

    boolean exact() {
      return arrayMapping == NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING;
    }
  }

  private NeuralNetworkCompiler() {}

  static boolean isNetwork(Model model) {
    return switch (model.getTypeCase()) {
      case NEURALNETWORK, NEURALNETWORKREGRESSOR, NEURALNETWORKCLASSIFIER -> true;
      default -> false;
    };
  }

  /** Returns whether the model is a network with exact (rank-N) array shapes. */
  static boolean isExactNetwork(Model model) {
    return isNetwork(model) && Network.of(model).exact();
  }

  // ------------------------------------------------------------------------------------------
  // rank-5 networks: part of the batched feature environment, inside pipelines too

  /**
   * Compiles a rank-5 network reading its inputs from {@code environment} (batched form) and
   * publishing its outputs there.
   */
  static void compileInto(Model model, Environment environment) {
    Network network = Network.of(model);
    if (network.exact()) {
      throw new UnsupportedModelException(
          "a neural network with EXACT_ARRAY_MAPPING (exact N-d input shapes) is supported as a"
              + " top-level model only, not inside a pipeline");
    }
    GraphWriter graph = environment.graph();
    ModelDescription description = model.getDescription();
    checkPreprocessing(network, description);
    Map<String, Blob> blobs = new HashMap<>();
    for (FeatureDescription input : description.getInputList()) {
      FeatureValue value = environment.get(input.getName(), "the neural network");
      blobs.put(input.getName(), rank5Input(graph, input, value, network));
    }
    LayerTranslator translator = new LayerTranslator(graph, true, blobs);
    for (NeuralNetworkLayer layer : network.layers()) {
      translator.translate(layer);
    }
    publishOutputs(environment, description, network, blobs, true);
  }

  private static Blob rank5Input(
      GraphWriter graph, FeatureDescription input, FeatureValue value, Network network) {
    String name = input.getName();
    switch (value.kind()) {
      case ARRAY -> {
        long[] shape = value.shape();
        String floats = graph.cast(value.value(), value.dataType(), DataType.FP32);
        if (shape.length == 2) {
          return new Blob(
              graph.unsqueeze(floats, 2, 3), new long[] {shape[0], shape[1], 1, 1}, Batch.BATCHED);
        }
        if (shape.length == 4) {
          return new Blob(floats, shape, Batch.BATCHED);
        }
        throw new UnsupportedModelException(
            "input '"
                + name
                + "' is a MultiArray of shape "
                + Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length))
                + "; a network with RANK5_ARRAY_MAPPING (the default) takes arrays of shape [C] or"
                + " [C, H, W]; use EXACT_ARRAY_MAPPING for other ranks");
      }
      case IMAGE -> {
        return imageInput(graph, input, value, network);
      }
      default ->
          throw new UnsupportedModelException(
              "input '"
                  + name
                  + "' of the neural network is a "
                  + value.kind()
                  + " feature; neural networks take MultiArray and Image inputs");
    }
  }

  /**
   * Turns an image {@code [N, H, W, C]} UINT8 (RGB or gray) into the network's {@code [N, C, H, W]}
   * FP32 in its color order, with its preprocessing applied.
   */
  private static Blob imageInput(
      GraphWriter graph, FeatureDescription input, FeatureValue value, Network network) {
    String name = input.getName();
    if (!input.getType().hasImageType()) {
      throw new UnsupportedModelException(
          "input '" + name + "' reaches the network as an image but is declared otherwise");
    }
    Features.ImageGeometry geometry = Features.imageGeometry(input.getType().getImageType(), name);
    long[] shape = value.shape();
    long[] nchw = {shape[0], shape[3], shape[1], shape[2]};
    String x =
        graph.cast(graph.transpose(value.value(), 0, 3, 1, 2), DataType.UINT8, DataType.FP32);
    boolean bgr = geometry.space() == ImageFeatureType.ColorSpace.BGR;
    if (bgr) {
      // Hangar takes color images in RGB order; a BGR network sees blue first
      x = graph.op("Gather", List.of(x, graph.longs(2, 1, 0)), attribute("axis", 1));
    }
    for (NeuralNetworkPreprocessing preprocessing : network.preprocessing()) {
      if (!preprocessing.getFeatureName().equals(name)) {
        continue;
      }
      switch (preprocessing.getPreprocessorCase()) {
        case SCALER -> {
          NeuralNetworkImageScaler scaler = preprocessing.getScaler();
          float[] bias =
              switch (geometry.space()) {
                case GRAYSCALE -> new float[] {scaler.getGrayBias()};
                case BGR ->
                    new float[] {scaler.getBlueBias(), scaler.getGreenBias(), scaler.getRedBias()};
                default ->
                    new float[] {scaler.getRedBias(), scaler.getGreenBias(), scaler.getBlueBias()};
              };
          x = graph.op("Mul", List.of(x, graph.scalar(scaler.getChannelScale())));
          x = graph.op("Add", List.of(x, graph.floats(new long[] {bias.length, 1, 1}, bias)));
        }
        case MEANIMAGE -> {
          if (geometry.height() < 0 || geometry.width() < 0) {
            throw new UnsupportedModelException(
                "input '"
                    + name
                    + "' has a mean image but a flexible size; a mean image needs one");
          }
          long[] chw = {geometry.channels(), geometry.height(), geometry.width()};
          List<Float> mean = preprocessing.getMeanImage().getMeanImageList();
          if (mean.size() != Shapes.product(chw)) {
            throw new UnsupportedModelException(
                "the mean image of input '"
                    + name
                    + "' has "
                    + mean.size()
                    + " values but the image has "
                    + Shapes.product(chw));
          }
          float[] values = new float[mean.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = mean.get(i);
          }
          x = graph.op("Sub", List.of(x, graph.floats(chw, values)));
        }
        case PREPROCESSOR_NOT_SET -> {
          // an empty preprocessing entry changes nothing
        }
      }
    }
    return new Blob(x, nchw, Batch.BATCHED);
  }

  /** Refuses preprocessing that names no image input: it would otherwise be skipped. */
  static void checkPreprocessing(Network network, ModelDescription description) {
    for (NeuralNetworkPreprocessing preprocessing : network.preprocessing()) {
      boolean found =
          description.getInputList().stream()
              .anyMatch(
                  input ->
                      input.getName().equals(preprocessing.getFeatureName())
                          && input.getType().hasImageType());
      if (!found) {
        throw new UnsupportedModelException(
            "the network has image preprocessing for feature '"
                + preprocessing.getFeatureName()
                + "', which is not an image input of the model");
      }
    }
  }

  /** Publishes the network's outputs as batched features: label, probabilities, arrays. */
  private static void publishOutputs(
      Environment environment,
      ModelDescription description,
      Network network,
      Map<String, Blob> blobs,
      boolean rank5) {
    GraphWriter graph = environment.graph();
    String label = description.getPredictedFeatureName();
    String probabilities = description.getPredictedProbabilitiesName();
    if (network.classLabels().isPresent()) {
      Blob blob = probabilityBlob(network, blobs, probabilities);
      String flat;
      long[] shape;
      if (blob.rank() == 1) {
        flat = graph.unsqueeze(blob.value(), 0);
        shape = new long[] {1, blob.dimension(0)};
      } else {
        flat = graph.reshape(blob.value(), 0, -1);
        shape = new long[] {blob.dimension(0), Shapes.product(blob.shape(), 1, blob.rank())};
      }
      network.classLabels().get().publish(environment, flat, shape, label, probabilities);
    }
    for (FeatureDescription output : description.getOutputList()) {
      String name = output.getName();
      if (network.classLabels().isPresent() && (name.equals(label) || name.equals(probabilities))) {
        continue;
      }
      Blob blob = blobs.get(name);
      if (blob == null) {
        throw new UnsupportedModelException(
            "output '" + name + "' is not produced by any layer of the neural network");
      }
      if (blob.batch() == Batch.CONSTANT) {
        throw new UnsupportedModelException(
            "output '" + name + "' depends on no input (only on loadConstant layers)");
      }
      if (!output.getType().hasMultiArrayType()) {
        throw new UnsupportedModelException(
            "output '"
                + name
                + "' of the neural network is declared a "
                + Features.describe(output.getType())
                + "; network outputs must be MultiArrays");
      }
      environment.put(
          name,
          rank5
              ? rank5Output(graph, output, blob)
              : new FeatureValue(
                  blob.value(), FeatureValue.Kind.ARRAY, DataType.FP32, blob.shape()));
    }
  }

  private static Blob probabilityBlob(Network network, Map<String, Blob> blobs, String named) {
    String name = network.labelProbabilityLayerName();
    if (name.isEmpty() && blobs.containsKey(named)) {
      name = named;
    }
    if (name.isEmpty()) {
      List<NeuralNetworkLayer> layers = network.layers();
      if (layers.isEmpty() || layers.get(layers.size() - 1).getOutputCount() == 0) {
        throw new UnsupportedModelException("the classifier has no layer producing probabilities");
      }
      name = layers.get(layers.size() - 1).getOutput(0);
    }
    Blob blob = blobs.get(name);
    if (blob == null) {
      throw new UnsupportedModelException(
          "the classifier's probabilities come from blob '" + name + "', which no layer produces");
    }
    return blob;
  }

  /**
   * Shapes a rank-5 blob {@code [N, C, H, W]} as the declared output: shape {@code [K]} gives
   * {@code [N, K]}, {@code [C, H, W]} gives {@code [N, C, H, W]}, no shape gives {@code [N, C, H,
   * W]}.
   */
  private static FeatureValue rank5Output(GraphWriter graph, FeatureDescription output, Blob blob) {
    long[] declared =
        Features.arrayDimensions(output.getType().getMultiArrayType(), output.getName());
    if (declared.length == 0 || declared.length == 3) {
      long[] shape = blob.shape();
      if (declared.length == 3) {
        for (int i = 0; i < 3; i++) {
          long have = shape[i + 1];
          if (declared[i] >= 0 && have >= 0 && declared[i] != have) {
            throw new UnsupportedModelException(
                "output '"
                    + output.getName()
                    + "' is declared "
                    + Arrays.toString(declared)
                    + " but the network computes "
                    + Arrays.toString(Arrays.copyOfRange(shape, 1, 4)));
          }
          if (have < 0) {
            shape[i + 1] = declared[i];
          }
        }
      }
      return new FeatureValue(blob.value(), FeatureValue.Kind.ARRAY, DataType.FP32, shape);
    }
    long size = Shapes.product(blob.shape(), 1, blob.rank());
    long[] target = new long[declared.length + 1];
    int free = 0;
    for (int i = 0; i < declared.length; i++) {
      target[i + 1] = declared[i];
      if (declared[i] < 0) {
        free++;
      }
    }
    if (free > 1) {
      throw new UnsupportedModelException(
          "output '" + output.getName() + "' has more than one flexible dimension");
    }
    long declaredSize = Shapes.product(declared);
    if (size >= 0 && declaredSize >= 0 && size != declaredSize) {
      throw new UnsupportedModelException(
          "output '"
              + output.getName()
              + "' is declared "
              + Arrays.toString(declared)
              + " ("
              + declaredSize
              + " values) but the network computes "
              + Arrays.toString(Arrays.copyOfRange(blob.shape(), 1, blob.rank()))
              + " ("
              + size
              + " values)");
    }
    long[] shape = target.clone();
    shape[0] = blob.dimension(0);
    if (free == 1 && size >= 0) {
      long known = 1;
      for (long dimension : declared) {
        known *= dimension < 0 ? 1 : dimension;
      }
      for (int i = 1; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = size / known;
        }
      }
    }
    String value = graph.reshape(blob.value(), target);
    return new FeatureValue(value, FeatureValue.Kind.ARRAY, DataType.FP32, shape);
  }

  // ------------------------------------------------------------------------------------------
  // exact-shape networks: a whole model of its own

  /**
   * Compiles a top-level network with EXACT_ARRAY_MAPPING. Inputs keep their declared rank.
   * Dimension 0 of an input declared 1 or flexible becomes a free batch dimension when every
   * output's dimension 0 stays an independent batch through the layers; otherwise the declared
   * shapes stand and the model is unbatched.
   */
  static CoreMlCompiler.Compiled compileExact(Model model, String graphName) {
    CoreMlCompiler.Compiled batched = compileExact(model, graphName, true);
    if (batched.signature().batched()) {
      return batched;
    }
    return compileExact(model, graphName, false);
  }

  private static CoreMlCompiler.Compiled compileExact(
      Model model, String graphName, boolean tryBatch) {
    Network network = Network.of(model);
    ModelDescription description = model.getDescription();
    checkPreprocessing(network, description);
    GraphWriter graph = new GraphWriter(graphName);
    Environment environment = new Environment(graph);
    Map<String, Blob> blobs = new HashMap<>();
    List<TensorSpec> inputs = new ArrayList<>();
    boolean batchable = tryBatch;
    for (FeatureDescription input : description.getInputList()) {
      String name = input.getName();
      FeatureValue.Kind kind = Features.inputKind(input);
      if (kind == FeatureValue.Kind.ARRAY) {
        var array = input.getType().getMultiArrayType();
        long[] declared = Features.arrayDimensions(array, name);
        if (declared.length == 0) {
          throw new UnsupportedModelException("input '" + name + "' has no shape");
        }
        DataType type = Features.arrayType(array, name);
        boolean free = tryBatch && (declared[0] == 1 || declared[0] < 0);
        long[] shape = declared.clone();
        if (free) {
          shape[0] = -1;
        }
        batchable &= free;
        graph.builder().input(name, type, shape);
        inputs.add(new TensorSpec(name, type, shape));
        blobs.put(
            name,
            new Blob(
                graph.cast(name, type, DataType.FP32), shape, free ? Batch.BATCHED : Batch.BROKEN));
      } else if (kind == FeatureValue.Kind.IMAGE) {
        if (network.imageMapping() != NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING) {
          throw new UnsupportedModelException(
              "the network maps arrays exactly (EXACT_ARRAY_MAPPING) but images to rank 5"
                  + " (RANK5_IMAGE_MAPPING); Hangar supports EXACT_ARRAY_MAPPING with"
                  + " RANK4_IMAGE_MAPPING only");
        }
        FeatureValue value = Features.inputValue(input);
        long[] shape = value.shape();
        shape[0] = tryBatch ? -1 : 1;
        graph.builder().input(name, DataType.UINT8, shape);
        inputs.add(new TensorSpec(name, DataType.UINT8, shape));
        Blob blob =
            imageInput(graph, input, new FeatureValue(name, kind, DataType.UINT8, shape), network);
        blobs.put(
            name, new Blob(blob.value(), blob.shape(), tryBatch ? Batch.BATCHED : Batch.BROKEN));
      } else {
        throw new UnsupportedModelException(
            "input '"
                + name
                + "' of the neural network is a "
                + Features.describe(input.getType())
                + " feature; neural networks take MultiArray and Image inputs");
      }
    }
    LayerTranslator translator = new LayerTranslator(graph, false, blobs);
    for (NeuralNetworkLayer layer : network.layers()) {
      translator.translate(layer);
    }
    for (FeatureDescription output : description.getOutputList()) {
      Blob blob = blobs.get(output.getName());
      if (blob != null && blob.batch() != Batch.BATCHED) {
        batchable = false;
      }
    }
    if (network.classLabels().isPresent()) {
      Blob probabilities =
          probabilityBlob(network, blobs, description.getPredictedProbabilitiesName());
      batchable &= probabilities.batch() == Batch.BATCHED && probabilities.rank() > 1;
    }
    publishOutputs(environment, description, network, blobs, false);
    List<TensorSpec> outputs = CoreMlCompiler.writeOutputs(environment, description, inputs);
    if (batchable) {
      for (TensorSpec spec : outputs) {
        batchable &= spec.rank() > 0 && spec.dimension(0) == -1;
      }
    }
    return new CoreMlCompiler.Compiled(
        graph.build(), new ModelSignature(inputs, outputs, batchable), List.of());
  }
}
