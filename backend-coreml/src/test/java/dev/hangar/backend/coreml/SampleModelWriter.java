package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationSigmoid;
import dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.Metadata;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetwork;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkRegressor;
import dev.hangar.backend.coreml.proto.CoreMlProto.SoftmaxLayerParams;
import dev.hangar.backend.onnx.graph.OnnxTensorProtos;
import dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.NodeProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the CoreML twins of the sample models from the weights of their ONNX files: {@code
 * models/quality_predictor_coreml/1/model.mlmodel} (a neuralNetworkRegressor) and {@code
 * models/routing_classifier_coreml/1/model.mlmodel} (a neuralNetwork).
 *
 * <p>Reads each ONNX graph node by node (Gemm or MatMul + Add, Relu, Sigmoid, Softmax) and writes
 * the same layers in CoreML: innerProduct, activation, softmax. Rank-5 shapes (specification 1):
 * the input MultiArray {@code [10]} or {@code [15]} is served as {@code [N, 10]} or {@code [N,
 * 15]}, so requests are the ONNX twins' requests. The output is deterministic: {@link
 * SampleModelFilesTest} checks that the committed files are what this writes, and rewrites them
 * when run with {@code -Dhangar.coreml.writeSamples=true}.
 */
public final class SampleModelWriter {
  private SampleModelWriter() {}

  /** Writes both sample models under the models directory given as the only argument. */
  public static void main(String[] args) throws IOException {
    Path models = Path.of(args.length > 0 ? args[0] : "models");
    for (Sample sample : Sample.values()) {
      Path target = sample.coreMlFile(models);
      Files.createDirectories(target.getParent());
      Files.write(target, sample.build(models).toByteArray());
      System.out.println("wrote " + target);
    }
  }

  /** The two sample models. */
  enum Sample {
    QUALITY_PREDICTOR("quality_predictor", "ssim", 10, 1, true),
    ROUTING_CLASSIFIER("routing_classifier", "tier_probabilities", 15, 4, false);

    final String name;
    final String outputName;
    final int inputWidth;
    final int outputWidth;
    final boolean regressor;

    Sample(String name, String outputName, int inputWidth, int outputWidth, boolean regressor) {
      this.name = name;
      this.outputName = outputName;
      this.inputWidth = inputWidth;
      this.outputWidth = outputWidth;
      this.regressor = regressor;
    }

    Path onnxFile(Path models) {
      return models.resolve(name).resolve("1").resolve("model.onnx");
    }

    Path coreMlFile(Path models) {
      return models.resolve(name + "_coreml").resolve("1").resolve("model.mlmodel");
    }

    Model build(Path models) throws IOException {
      ModelProto onnx = ModelProto.parseFrom(Files.readAllBytes(onnxFile(models)));
      List<NeuralNetworkLayer> layers = translate(onnx, outputName);
      ModelDescription.Builder description =
          ModelDescription.newBuilder()
              .addInput(Specs.floats("features", inputWidth))
              .addOutput(Specs.floats(outputName, outputWidth))
              .setMetadata(
                  Metadata.newBuilder()
                      .setShortDescription(
                          "The CoreML twin of models/"
                              + name
                              + "/1/model.onnx, written from its weights by Hangar's"
                              + " SampleModelWriter")
                      .setAuthor("Hangar"));
      Model.Builder model = Model.newBuilder().setSpecificationVersion(1);
      if (regressor) {
        description.setPredictedFeatureName(outputName);
        model.setNeuralNetworkRegressor(NeuralNetworkRegressor.newBuilder().addAllLayers(layers));
      } else {
        model.setNeuralNetwork(NeuralNetwork.newBuilder().addAllLayers(layers));
      }
      return model.setDescription(description).build();
    }
  }

  /** Translates the ONNX MLP into CoreML layers reading "features" and writing {@code output}. */
  static List<NeuralNetworkLayer> translate(ModelProto onnx, String output) {
    Map<String, TensorProto> initializers = new HashMap<>();
    onnx.getGraph().getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    List<NodeProto> nodes = onnx.getGraph().getNodeList();
    List<NeuralNetworkLayer> layers = new ArrayList<>();
    String blob = "features";
    int dense = 0;
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto node = nodes.get(i);
      String next = i == nodes.size() - 1 ? output : null;
      switch (node.getOpType()) {
        case "Gemm" -> {
          checkGemm(node);
          boolean transposed = intAttribute(node, "transB", 0) == 1;
          Matrix weights = matrix(initializers, node.getInput(1), transposed);
          float[] bias =
              node.getInputCount() > 2 ? floats(initializers, node.getInput(2)) : new float[0];
          String name = "dense_" + ++dense;
          layers.add(innerProduct(name, blob, next != null ? next : name, weights, bias));
          blob = next != null ? next : name;
        }
        case "MatMul" -> {
          Matrix weights = matrix(initializers, node.getInput(1), false);
          float[] bias = new float[0];
          if (i + 1 < nodes.size()
              && nodes.get(i + 1).getOpType().equals("Add")
              && initializers.containsKey(nodes.get(i + 1).getInput(1))) {
            i++;
            bias = floats(initializers, nodes.get(i).getInput(1));
            next = i == nodes.size() - 1 ? output : null;
          }
          String name = "dense_" + ++dense;
          layers.add(innerProduct(name, blob, next != null ? next : name, weights, bias));
          blob = next != null ? next : name;
        }
        case "Relu", "Sigmoid" -> {
          ActivationParams.Builder activation = ActivationParams.newBuilder();
          if (node.getOpType().equals("Relu")) {
            activation.setReLU(ActivationReLU.getDefaultInstance());
          } else {
            activation.setSigmoid(ActivationSigmoid.getDefaultInstance());
          }
          String name = blob + "_" + node.getOpType().toLowerCase(java.util.Locale.ROOT);
          String target = next != null ? next : name;
          layers.add(
              NeuralNetworkLayer.newBuilder()
                  .setName(name)
                  .addInput(blob)
                  .addOutput(target)
                  .setActivation(activation)
                  .build());
          blob = target;
        }
        case "Softmax" -> {
          long axis = intAttribute(node, "axis", -1);
          if (axis != 1 && axis != -1) {
            throw new IllegalArgumentException("Softmax over axis " + axis + " of a [N, C] tensor");
          }
          // CoreML's softmax runs over the channel axis, where the rank-5 form keeps the C values
          String name = blob + "_softmax";
          String target = next != null ? next : name;
          layers.add(
              NeuralNetworkLayer.newBuilder()
                  .setName(name)
                  .addInput(blob)
                  .addOutput(target)
                  .setSoftmax(SoftmaxLayerParams.getDefaultInstance())
                  .build());
          blob = target;
        }
        default ->
            throw new IllegalArgumentException(
                "the sample writer translates Gemm, MatMul, Add, Relu, Sigmoid and Softmax, not "
                    + node.getOpType());
      }
    }
    if (!blob.equals(output)) {
      throw new IllegalStateException("the last layer does not write '" + output + "'");
    }
    return layers;
  }

  private record Matrix(int rows, int columns, float[] values) {}

  /** Returns the weight matrix as CoreML stores it: [outputs, inputs], row-major. */
  private static Matrix matrix(
      Map<String, TensorProto> initializers, String name, boolean outputsFirst) {
    TensorProto tensor = initializer(initializers, name);
    if (tensor.getDimsCount() != 2) {
      throw new IllegalArgumentException("weight '" + name + "' is not a matrix");
    }
    int first = (int) tensor.getDims(0);
    int second = (int) tensor.getDims(1);
    float[] values = OnnxTensorProtos.toTensor(tensor).toFloatArray();
    if (outputsFirst) {
      return new Matrix(first, second, values);
    }
    return new Matrix(second, first, LayerTranslator.transpose(values, first, second));
  }

  private static float[] floats(Map<String, TensorProto> initializers, String name) {
    return OnnxTensorProtos.toTensor(initializer(initializers, name)).toFloatArray();
  }

  private static TensorProto initializer(Map<String, TensorProto> initializers, String name) {
    TensorProto tensor = initializers.get(name);
    if (tensor == null) {
      throw new IllegalArgumentException("'" + name + "' is not an initializer");
    }
    return tensor;
  }

  private static NeuralNetworkLayer innerProduct(
      String name, String input, String output, Matrix weights, float[] bias) {
    InnerProductLayerParams.Builder params =
        InnerProductLayerParams.newBuilder()
            .setInputChannels(weights.columns())
            .setOutputChannels(weights.rows())
            .setWeights(Specs.weights(weights.values()));
    if (bias.length > 0) {
      params.setHasBias(true).setBias(Specs.weights(bias));
    }
    return NeuralNetworkLayer.newBuilder()
        .setName(name)
        .addInput(input)
        .addOutput(output)
        .setInnerProduct(params)
        .build();
  }

  private static void checkGemm(NodeProto node) {
    if (intAttribute(node, "transA", 0) != 0
        || floatAttribute(node, "alpha", 1f) != 1f
        || floatAttribute(node, "beta", 1f) != 1f) {
      throw new IllegalArgumentException("Gemm with transA, alpha or beta is not a dense layer");
    }
  }

  private static long intAttribute(NodeProto node, String name, long defaultValue) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .mapToLong(AttributeProto::getI)
        .findFirst()
        .orElse(defaultValue);
  }

  private static float floatAttribute(NodeProto node, String name, float defaultValue) {
    return node.getAttributeList().stream()
        .filter(a -> a.getName().equals(name))
        .map(AttributeProto::getF)
        .findFirst()
        .orElse(defaultValue);
  }
}
