package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.Pipeline;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.TensorSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Compiles a CoreML specification into an ONNX graph that ONNX Runtime runs, and the signature
 * Hangar serves it under. Inputs and outputs are named after the CoreML features.
 */
final class CoreMlCompiler {
  static final String SUPPORTED_MODELS =
      "Supported model types: neuralNetwork, neuralNetworkRegressor, neuralNetworkClassifier,"
          + " glmRegressor, glmClassifier, treeEnsembleRegressor, treeEnsembleClassifier,"
          + " pipeline, pipelineRegressor, pipelineClassifier, featureVectorizer, oneHotEncoder,"
          + " arrayFeatureExtractor, scaler, normalizer, identity.";

  /**
   * A compiled model: the ONNX graph, the signature it is served under, and the input checks the
   * graph cannot make.
   */
  record Compiled(ModelProto graph, ModelSignature signature, List<CategoryCheck> checks) {
    Compiled {
      checks = List.copyOf(checks);
    }
  }

  private CoreMlCompiler() {}

  /**
   * Compiles a specification.
   *
   * @throws UnsupportedModelException naming what is not supported or malformed
   */
  static Compiled compile(Model model, String graphName) {
    SpecificationCheck.check(model);
    checkDescription(model);
    if (NeuralNetworkCompiler.isExactNetwork(model)) {
      return NeuralNetworkCompiler.compileExact(model, graphName);
    }
    GraphWriter graph = new GraphWriter(graphName);
    Environment environment = new Environment(graph);
    List<TensorSpec> inputs = new ArrayList<>();
    for (FeatureDescription input : model.getDescription().getInputList()) {
      FeatureValue value = Features.inputValue(input);
      graph.builder().input(input.getName(), value.dataType(), value.shape());
      inputs.add(new TensorSpec(input.getName(), value.dataType(), value.shape()));
      environment.put(input.getName(), value);
    }
    if (inputs.isEmpty()) {
      throw new UnsupportedModelException("the model declares no inputs");
    }
    compileInto(model, environment);
    List<TensorSpec> outputs = writeOutputs(environment, model.getDescription(), inputs);
    // a check on a value computed inside the graph cannot run before it; ONNX Runtime reports it
    List<CategoryCheck> checks =
        environment.checks().stream()
            .filter(check -> inputs.stream().anyMatch(spec -> spec.name().equals(check.input())))
            .toList();
    return new Compiled(graph.build(), ModelSignature.inferBatching(inputs, outputs), checks);
  }

  /** Compiles one model of the batched form, reading and publishing features by name. */
  static void compileInto(Model model, Environment environment) {
    switch (model.getTypeCase()) {
      case NEURALNETWORK, NEURALNETWORKREGRESSOR, NEURALNETWORKCLASSIFIER ->
          NeuralNetworkCompiler.compileInto(model, environment);
      case PIPELINE -> pipeline(model.getPipeline(), environment);
      case PIPELINEREGRESSOR -> pipeline(model.getPipelineRegressor().getPipeline(), environment);
      case PIPELINECLASSIFIER -> pipeline(model.getPipelineClassifier().getPipeline(), environment);
      case MLPROGRAM ->
          throw new UnsupportedModelException(
              "the model is an ML Program (mlProgram: the format of .mlpackage models and of"
                  + " coremltools conversions with convert_to='mlprogram'), which Hangar cannot"
                  + " run; it compiles NeuralNetwork-era .mlmodel files (convert with"
                  + " convert_to='neuralnetwork'). "
                  + SUPPORTED_MODELS);
      case CUSTOMMODEL ->
          throw new UnsupportedModelException(
              "the model is a customModel, whose code lives in the app that shipped it; Hangar"
                  + " cannot run it. "
                  + SUPPORTED_MODELS);
      case TYPE_NOT_SET ->
          throw new UnsupportedModelException(
              "the model is a "
                  + SpecificationCheck.modelTypeName(model)
                  + ", which Hangar's CoreML backend does not support. "
                  + SUPPORTED_MODELS);
      default -> {
        if (!ClassicModels.handles(model)) {
          throw new UnsupportedModelException(
              "the model is a "
                  + SpecificationCheck.modelTypeName(model)
                  + ". "
                  + SUPPORTED_MODELS);
        }
        ClassicModels.compileInto(model, environment);
      }
    }
  }

  private static void pipeline(Pipeline pipeline, Environment environment) {
    if (pipeline.getModelsCount() == 0) {
      throw new UnsupportedModelException("the pipeline has no models");
    }
    for (int i = 0; i < pipeline.getModelsCount(); i++) {
      Model stage = pipeline.getModels(i);
      String stageName = i < pipeline.getNamesCount() ? pipeline.getNames(i) : "model" + i;
      try {
        checkDescription(stage);
        if (NeuralNetworkCompiler.isExactNetwork(stage)) {
          throw new UnsupportedModelException(
              "a neural network with EXACT_ARRAY_MAPPING (exact N-d input shapes) is supported as"
                  + " a top-level model only, not inside a pipeline");
        }
        for (FeatureDescription input : stage.getDescription().getInputList()) {
          environment.get(input.getName(), "the stage");
        }
        compileInto(stage, environment);
        for (FeatureDescription output : stage.getDescription().getOutputList()) {
          environment.get(output.getName(), "the stage's output list");
        }
      } catch (UnsupportedModelException e) {
        throw new UnsupportedModelException(
            "pipeline stage " + i + " ('" + stageName + "'): " + e.getMessage());
      }
    }
  }

  private static void checkDescription(Model model) {
    ModelDescription description = model.getDescription();
    if (description.getFunctionsCount() > 0) {
      throw new UnsupportedModelException(
          "the model has several functions (specification 9), which Hangar does not support");
    }
    if (description.getStateCount() > 0) {
      throw new UnsupportedModelException(
          "the model has state features (specification 9), which Hangar does not support");
    }
  }

  /**
   * Writes the graph outputs, one per declared output feature, named after it and converted to its
   * declared type; returns their specs.
   */
  static List<TensorSpec> writeOutputs(
      Environment environment, ModelDescription description, List<TensorSpec> inputs) {
    GraphWriter graph = environment.graph();
    Set<String> inputNames = new HashSet<>();
    inputs.forEach(spec -> inputNames.add(spec.name()));
    List<TensorSpec> outputs = new ArrayList<>();
    if (description.getOutputCount() == 0) {
      throw new UnsupportedModelException("the model declares no outputs");
    }
    for (FeatureDescription output : description.getOutputList()) {
      String name = output.getName();
      FeatureValue value = materialize(graph, output, environment.get(name, "the model's outputs"));
      if (!value.value().equals(name)) {
        if (inputNames.contains(name)) {
          throw new UnsupportedModelException(
              "output '" + name + "' has the name of an input but a different value");
        }
        graph.opInto("Identity", List.of(value.value()), name);
      }
      graph.builder().output(name, value.dataType(), value.shape());
      outputs.add(new TensorSpec(name, value.dataType(), value.shape()));
    }
    return outputs;
  }

  /** Converts a feature value to the declared output type. */
  private static FeatureValue materialize(
      GraphWriter graph, FeatureDescription output, FeatureValue value) {
    String name = output.getName();
    FeatureType type = output.getType();
    boolean numeric =
        switch (value.kind()) {
          case ARRAY, DOUBLE, INT64, PROBABILITIES -> true;
          default -> false;
        };
    switch (type.getTypeCase()) {
      case MULTIARRAYTYPE -> {
        if (!numeric) {
          throw mismatch(output, value);
        }
        DataType target = Features.arrayType(type.getMultiArrayType(), name);
        String v = value.value();
        long[] shape = value.shape();
        if (value.rank() == 1) {
          v = graph.unsqueeze(v, 1);
          shape = new long[] {shape[0], 1};
        }
        return new FeatureValue(
            graph.cast(v, value.dataType(), target), FeatureValue.Kind.ARRAY, target, shape);
      }
      case DOUBLETYPE, INT64TYPE -> {
        if (!numeric) {
          throw mismatch(output, value);
        }
        DataType target = type.hasDoubleType() ? DataType.FP64 : DataType.INT64;
        String v = value.value();
        if (value.rank() == 2 && value.shape()[1] == 1) {
          v = graph.squeeze(v, 1);
        } else if (value.rank() != 1) {
          throw new UnsupportedModelException(
              "output '"
                  + name
                  + "' is declared a single "
                  + Features.describe(type)
                  + " but the model computes "
                  + value.rowSize()
                  + " values per row");
        }
        return new FeatureValue(
            graph.cast(v, value.dataType(), target),
            type.hasDoubleType() ? FeatureValue.Kind.DOUBLE : FeatureValue.Kind.INT64,
            target,
            new long[] {value.shape()[0]});
      }
      case STRINGTYPE -> {
        if (value.kind() != FeatureValue.Kind.STRING) {
          throw mismatch(output, value);
        }
        return value;
      }
      case DICTIONARYTYPE -> {
        if (value.kind() != FeatureValue.Kind.PROBABILITIES) {
          throw mismatch(output, value);
        }
        return value;
      }
      default ->
          throw new UnsupportedModelException(
              "output '"
                  + name
                  + "' is a "
                  + Features.describe(type)
                  + " feature, which Hangar cannot return; supported output types: MultiArray,"
                  + " Double, Int64, String, and Dictionary for class probabilities");
    }
  }

  private static UnsupportedModelException mismatch(FeatureDescription output, FeatureValue value) {
    return new UnsupportedModelException(
        "output '"
            + output.getName()
            + "' is declared a "
            + Features.describe(output.getType())
            + " but the model computes a "
            + value.kind()
            + " value");
  }
}
