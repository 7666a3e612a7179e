package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.GraphWriter.attribute;

import dev.hangar.backend.coreml.proto.CoreMlProto.Int64Vector;
import dev.hangar.backend.coreml.proto.CoreMlProto.StringVector;
import dev.hangar.spi.DataType;
import java.util.List;

/**
 * A classifier's class labels, strings or 64-bit integers, and the label and probability outputs
 * every CoreML classifier has.
 */
record ClassLabels(List<String> strings, List<Long> integers) {
  ClassLabels {
    strings = List.copyOf(strings);
    integers = List.copyOf(integers);
  }

  static ClassLabels of(StringVector strings, Int64Vector integers, String owner) {
    if (strings.getVectorCount() > 0) {
      return new ClassLabels(strings.getVectorList(), List.of());
    }
    if (integers.getVectorCount() > 0) {
      return new ClassLabels(List.of(), integers.getVectorList());
    }
    throw new UnsupportedModelException(owner + " has no class labels");
  }

  int size() {
    return strings.isEmpty() ? integers.size() : strings.size();
  }

  boolean isString() {
    return !strings.isEmpty();
  }

  /**
   * Publishes a classifier's outputs: {@code predictedFeatureName} as the label of the most likely
   * class (BYTES or INT64 {@code [N]}; the first on a tie) and {@code predictedProbabilitiesName},
   * when named, as the probabilities {@code [N, K]} FP32 in label order.
   *
   * @param probabilities FP32 {@code [N, K]}
   */
  void publish(
      Environment environment,
      String probabilities,
      long[] shape,
      String predictedFeatureName,
      String predictedProbabilitiesName) {
    GraphWriter graph = environment.graph();
    if (shape[1] >= 0 && shape[1] != size()) {
      throw new UnsupportedModelException(
          "the classifier computes " + shape[1] + " probabilities for " + size() + " class labels");
    }
    if (!predictedProbabilitiesName.isEmpty()) {
      environment.put(
          predictedProbabilitiesName,
          new FeatureValue(
              probabilities,
              FeatureValue.Kind.PROBABILITIES,
              DataType.FP32,
              new long[] {shape[0], size()}));
    }
    if (predictedFeatureName.isEmpty()) {
      throw new UnsupportedModelException("the classifier names no predictedFeatureName");
    }
    String index =
        graph.op(
            "ArgMax",
            List.of(probabilities),
            attribute("axis", 1),
            attribute("keepdims", 0),
            attribute("select_last_index", 0));
    String table =
        isString()
            ? graph.strings(strings)
            : graph.longs(integers.stream().mapToLong(Long::longValue).toArray());
    String label = graph.op("Gather", List.of(table, index), attribute("axis", 0));
    environment.put(
        predictedFeatureName,
        new FeatureValue(
            label,
            isString() ? FeatureValue.Kind.STRING : FeatureValue.Kind.INT64,
            isString() ? DataType.BYTES : DataType.INT64,
            new long[] {shape[0]}));
  }
}
