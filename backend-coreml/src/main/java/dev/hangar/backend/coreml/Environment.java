package dev.hangar.backend.coreml;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The features available while compiling a model or pipeline: the model's inputs, then the outputs
 * of each model compiled so far, by CoreML feature name.
 */
final class Environment {
  private final GraphWriter graph;
  private final Map<String, FeatureValue> features = new LinkedHashMap<>();
  private final List<CategoryCheck> checks = new ArrayList<>();

  Environment(GraphWriter graph) {
    this.graph = graph;
  }

  GraphWriter graph() {
    return graph;
  }

  /**
   * Returns the feature of that name.
   *
   * @param reader who reads it, for the message when it does not exist
   */
  FeatureValue get(String name, String reader) {
    FeatureValue value = features.get(name);
    if (value == null) {
      throw new UnsupportedModelException(
          reader
              + " reads feature '"
              + name
              + "', which no model input or earlier pipeline stage produces; available: "
              + features.keySet());
    }
    return value;
  }

  boolean has(String name) {
    return features.containsKey(name);
  }

  void put(String name, FeatureValue value) {
    features.put(name, value);
  }

  /**
   * Records a check on a value, kept when the value is a model input (see {@link CategoryCheck}).
   */
  void check(CategoryCheck check) {
    checks.add(check);
  }

  List<CategoryCheck> checks() {
    return List.copyOf(checks);
  }
}
