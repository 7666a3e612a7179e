package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.ArrayDataType;
import dev.hangar.backend.coreml.proto.CoreMlProto.DictionaryFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.DoubleFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.Int64FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetwork;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.StringFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.WeightParams;
import java.util.List;

/** Builds CoreML specifications for tests with the generated protobuf builders. */
final class Specs {
  private Specs() {}

  static FeatureDescription array(String name, ArrayDataType type, long... shape) {
    ArrayFeatureType.Builder array = ArrayFeatureType.newBuilder().setDataType(type);
    for (long dimension : shape) {
      array.addShape(dimension);
    }
    return feature(name, FeatureType.newBuilder().setMultiArrayType(array).build());
  }

  static FeatureDescription floats(String name, long... shape) {
    return array(name, ArrayDataType.FLOAT32, shape);
  }

  static FeatureDescription doubles(String name) {
    return feature(
        name,
        FeatureType.newBuilder().setDoubleType(DoubleFeatureType.getDefaultInstance()).build());
  }

  static FeatureDescription int64(String name) {
    return feature(
        name, FeatureType.newBuilder().setInt64Type(Int64FeatureType.getDefaultInstance()).build());
  }

  static FeatureDescription string(String name) {
    return feature(
        name,
        FeatureType.newBuilder().setStringType(StringFeatureType.getDefaultInstance()).build());
  }

  static FeatureDescription image(
      String name, ImageFeatureType.ColorSpace space, long height, long width) {
    return feature(
        name,
        FeatureType.newBuilder()
            .setImageType(
                ImageFeatureType.newBuilder()
                    .setColorSpace(space)
                    .setHeight(height)
                    .setWidth(width))
            .build());
  }

  static FeatureDescription dictionary(String name, boolean stringKeys) {
    DictionaryFeatureType.Builder dictionary = DictionaryFeatureType.newBuilder();
    if (stringKeys) {
      dictionary.setStringKeyType(StringFeatureType.getDefaultInstance());
    } else {
      dictionary.setInt64KeyType(Int64FeatureType.getDefaultInstance());
    }
    return feature(name, FeatureType.newBuilder().setDictionaryType(dictionary).build());
  }

  static FeatureDescription feature(String name, FeatureType type) {
    return FeatureDescription.newBuilder().setName(name).setType(type).build();
  }

  static WeightParams weights(float... values) {
    WeightParams.Builder weights = WeightParams.newBuilder();
    for (float value : values) {
      weights.addFloatValue(value);
    }
    return weights.build();
  }

  static NeuralNetworkLayer.Builder layer(String name, List<String> inputs, String output) {
    return NeuralNetworkLayer.newBuilder().setName(name).addAllInput(inputs).addOutput(output);
  }

  static NeuralNetworkLayer.Builder layer(String name, String input, String output) {
    return layer(name, List.of(input), output);
  }

  static ModelDescription description(
      List<FeatureDescription> inputs, List<FeatureDescription> outputs) {
    return ModelDescription.newBuilder().addAllInput(inputs).addAllOutput(outputs).build();
  }

  /** A plain neuralNetwork of specification version 1 (rank-5 shapes). */
  static Model network(
      List<FeatureDescription> inputs,
      List<FeatureDescription> outputs,
      NeuralNetworkLayer.Builder... layers) {
    NeuralNetwork.Builder network = NeuralNetwork.newBuilder();
    for (NeuralNetworkLayer.Builder layer : layers) {
      network.addLayers(layer);
    }
    return Model.newBuilder()
        .setSpecificationVersion(1)
        .setDescription(description(inputs, outputs))
        .setNeuralNetwork(network)
        .build();
  }

  /** Random values in [-1, 1) from a fixed seed. */
  static float[] random(int count, long seed) {
    java.util.Random random = new java.util.Random(seed);
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    return values;
  }
}
