package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.GraphWriter.attribute;

import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureExtractor;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureVectorizer;
import dev.hangar.backend.coreml.proto.CoreMlProto.GLMClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.GLMRegressor;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.Normalizer;
import dev.hangar.backend.coreml.proto.CoreMlProto.OneHotEncoder;
import dev.hangar.backend.coreml.proto.CoreMlProto.Scaler;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleParameters;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleParameters.TreeNode;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsemblePostEvaluationTransform;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleRegressor;
import dev.hangar.spi.DataType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles the classic machine-learning model types onto ONNX-ML operators ({@code ai.onnx.ml}):
 * generalized linear models on LinearRegressor, tree ensembles on TreeEnsembleRegressor, and the
 * feature-engineering models on OneHotEncoder, FeatureVectorizer, ArrayFeatureExtractor, Scaler and
 * Normalizer. Post-evaluation transforms and class probabilities are written with standard ONNX
 * operators so that their semantics are CoreML's and visible in one place.
 *
 * <p>The ONNX-ML operators compute in FP32; CoreML computes these models in double precision, so
 * results agree to FP32 precision (about 1e-7 relative).
 */
final class ClassicModels {
  private ClassicModels() {}

  static boolean handles(Model model) {
    return switch (model.getTypeCase()) {
      case GLMREGRESSOR,
          GLMCLASSIFIER,
          TREEENSEMBLEREGRESSOR,
          TREEENSEMBLECLASSIFIER,
          ONEHOTENCODER,
          FEATUREVECTORIZER,
          ARRAYFEATUREEXTRACTOR,
          SCALER,
          NORMALIZER,
          IDENTITY ->
          true;
      default -> false;
    };
  }

  static void compileInto(Model model, Environment environment) {
    ModelDescription description = model.getDescription();
    switch (model.getTypeCase()) {
      case GLMREGRESSOR -> glmRegressor(model.getGlmRegressor(), description, environment);
      case GLMCLASSIFIER -> glmClassifier(model.getGlmClassifier(), description, environment);
      case TREEENSEMBLEREGRESSOR ->
          treeRegressor(model.getTreeEnsembleRegressor(), description, environment);
      case TREEENSEMBLECLASSIFIER ->
          treeClassifier(model.getTreeEnsembleClassifier(), description, environment);
      case ONEHOTENCODER -> oneHotEncoder(model.getOneHotEncoder(), description, environment);
      case FEATUREVECTORIZER ->
          featureVectorizer(model.getFeatureVectorizer(), description, environment);
      case ARRAYFEATUREEXTRACTOR ->
          arrayFeatureExtractor(model.getArrayFeatureExtractor(), description, environment);
      case SCALER -> scaler(model.getScaler(), description, environment);
      case NORMALIZER -> normalizer(model.getNormalizer(), description, environment);
      case IDENTITY -> identity(description, environment);
      default -> throw new IllegalArgumentException(model.getTypeCase().toString());
    }
  }

  // ------------------------------------------------------------------------------------------
  // generalized linear models

  private static void glmRegressor(
      GLMRegressor glm, ModelDescription description, Environment environment) {
    Matrix x = matrix(environment, soleInput(description, "glmRegressor"), "glmRegressor");
    List<double[]> weights = new ArrayList<>();
    glm.getWeightsList().forEach(row -> weights.add(toArray(row.getValueList())));
    String scores =
        linearScores(environment.graph(), x, weights, glm.getOffsetList(), "glmRegressor");
    String y =
        switch (glm.getPostEvaluationTransform()) {
          case NoTransform -> scores;
          case Logit -> environment.graph().op("Sigmoid", List.of(scores));
          case Probit -> normalCdf(environment.graph(), scores);
          case UNRECOGNIZED ->
              throw new UnsupportedModelException(
                  "glmRegressor has post-evaluation transform "
                      + glm.getPostEvaluationTransformValue()
                      + ", which CoreML does not define");
        };
    environment.put(
        predictedName(description, "glmRegressor"),
        new FeatureValue(
            y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, weights.size()}));
  }

  private static void glmClassifier(
      GLMClassifier glm, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    ClassLabels labels =
        ClassLabels.of(glm.getStringClassLabels(), glm.getInt64ClassLabels(), "glmClassifier");
    Matrix x = matrix(environment, soleInput(description, "glmClassifier"), "glmClassifier");
    List<double[]> weights = new ArrayList<>();
    glm.getWeightsList().forEach(row -> weights.add(toArray(row.getValueList())));
    String scores = linearScores(graph, x, weights, glm.getOffsetList(), "glmClassifier");
    int classes = labels.size();
    boolean probit =
        glm.getPostEvaluationTransform() == GLMClassifier.PostEvaluationTransform.Probit;
    String probabilities;
    if (weights.size() == 1 && classes == 2) {
      // one score: the probability of the second class; the first is the reference class
      String second = probit ? normalCdf(graph, scores) : graph.op("Sigmoid", List.of(scores));
      String first = graph.op("Sub", List.of(graph.scalar(1f), second));
      probabilities = graph.op("Concat", List.of(first, second), attribute("axis", 1));
    } else if (weights.size() == classes && classes > 1) {
      if (probit) {
        throw new UnsupportedModelException(
            "glmClassifier with the Probit transform supports binary classification only (one"
                + " weight vector, two class labels), as the CoreML specification says");
      }
      // one-vs-rest: a logistic probability per class, normalized to sum to 1
      String each = graph.op("Sigmoid", List.of(scores));
      String total = graph.op("ReduceSum", List.of(each, graph.longs(1)), attribute("keepdims", 1));
      probabilities = graph.op("Div", List.of(each, total));
    } else {
      throw new UnsupportedModelException(
          "glmClassifier has "
              + weights.size()
              + " weight vectors for "
              + classes
              + " class labels; Hangar supports 1 vector for 2 classes (binary) or one vector per"
              + " class (one-vs-rest)");
    }
    labels.publish(
        environment,
        probabilities,
        new long[] {-1, classes},
        description.getPredictedFeatureName(),
        description.getPredictedProbabilitiesName());
  }

  /** Returns [N, T] FP32 scores {@code x . weights[t] + offset[t]} on ONNX-ML LinearRegressor. */
  private static String linearScores(
      GraphWriter graph, Matrix x, List<double[]> weights, List<Double> offsets, String owner) {
    if (weights.isEmpty()) {
      throw new UnsupportedModelException(owner + " has no weights");
    }
    int features = weights.get(0).length;
    for (double[] row : weights) {
      if (row.length != features) {
        throw new UnsupportedModelException(owner + " has weight vectors of different lengths");
      }
    }
    if (x.columns() >= 0 && x.columns() != features) {
      throw new UnsupportedModelException(
          owner + " has " + features + " weights per target but its input has " + x.columns());
    }
    int targets = weights.size();
    float[] coefficients = new float[targets * features];
    for (int t = 0; t < targets; t++) {
      for (int f = 0; f < features; f++) {
        coefficients[t * features + f] = (float) weights.get(t)[f];
      }
    }
    float[] intercepts = new float[targets];
    if (offsets.size() == targets) {
      for (int t = 0; t < targets; t++) {
        intercepts[t] = offsets.get(t).floatValue();
      }
    } else if (!offsets.isEmpty()) {
      throw new UnsupportedModelException(
          owner + " has " + offsets.size() + " offsets for " + targets + " weight vectors");
    }
    return graph.mlOp(
        "LinearRegressor",
        List.of(x.value()),
        attribute("coefficients", coefficients),
        attribute("intercepts", intercepts),
        attribute("targets", targets),
        attribute("post_transform", "NONE"));
  }

  /** The standard normal CDF, 0.5 * (1 + erf(x / sqrt(2))): CoreML's Probit transform. */
  private static String normalCdf(GraphWriter graph, String x) {
    String scaled = graph.op("Mul", List.of(x, graph.scalar((float) (1 / Math.sqrt(2)))));
    String erf = graph.op("Erf", List.of(scaled));
    return graph.op(
        "Mul", List.of(graph.op("Add", List.of(erf, graph.scalar(1f))), graph.scalar(0.5f)));
  }

  // ------------------------------------------------------------------------------------------
  // tree ensembles

  private static void treeRegressor(
      TreeEnsembleRegressor tree, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    Matrix x =
        matrix(
            environment, soleInput(description, "treeEnsembleRegressor"), "treeEnsembleRegressor");
    int targets = targets(tree.getTreeEnsemble());
    String scores = treeScores(graph, x, tree.getTreeEnsemble(), targets);
    String y =
        switch (tree.getPostEvaluationTransform()) {
          case NoTransform -> scores;
          case Regression_Logistic -> graph.op("Sigmoid", List.of(scores));
          case Classification_SoftMax -> graph.op("Softmax", List.of(scores), attribute("axis", 1));
          default ->
              throw new UnsupportedModelException(
                  "treeEnsembleRegressor has post-evaluation transform "
                      + tree.getPostEvaluationTransform()
                      + "; supported for regressors: NoTransform, Regression_Logistic,"
                      + " Classification_SoftMax");
        };
    environment.put(
        predictedName(description, "treeEnsembleRegressor"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, targets}));
  }

  private static void treeClassifier(
      TreeEnsembleClassifier tree, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    ClassLabels labels =
        ClassLabels.of(
            tree.getStringClassLabels(), tree.getInt64ClassLabels(), "treeEnsembleClassifier");
    Matrix x =
        matrix(
            environment,
            soleInput(description, "treeEnsembleClassifier"),
            "treeEnsembleClassifier");
    int targets = targets(tree.getTreeEnsemble());
    String scores = treeScores(graph, x, tree.getTreeEnsemble(), targets);
    int classes = labels.size();
    TreeEnsemblePostEvaluationTransform transform = tree.getPostEvaluationTransform();
    String probabilities;
    if (targets == 1 && classes == 2) {
      String second =
          switch (transform) {
            case NoTransform -> scores;
            // softmax over [0, s] is the logistic function of s
            case Regression_Logistic, Classification_SoftMaxWithZeroClassReference ->
                graph.op("Sigmoid", List.of(scores));
            default ->
                throw new UnsupportedModelException(
                    "treeEnsembleClassifier with one prediction dimension for two classes"
                        + " supports NoTransform, Regression_Logistic and"
                        + " Classification_SoftMaxWithZeroClassReference, not "
                        + transform);
          };
      String first = graph.op("Sub", List.of(graph.scalar(1f), second));
      probabilities = graph.op("Concat", List.of(first, second), attribute("axis", 1));
    } else if (targets == classes) {
      probabilities =
          switch (transform) {
            case NoTransform -> scores;
            case Classification_SoftMax ->
                graph.op("Softmax", List.of(scores), attribute("axis", 1));
            default ->
                throw new UnsupportedModelException(
                    "treeEnsembleClassifier with one prediction dimension per class supports"
                        + " NoTransform and Classification_SoftMax, not "
                        + transform);
          };
    } else {
      throw new UnsupportedModelException(
          "treeEnsembleClassifier predicts "
              + targets
              + " dimensions for "
              + classes
              + " class labels; Hangar supports 1 dimension for 2 classes or one per class");
    }
    labels.publish(
        environment,
        probabilities,
        new long[] {-1, classes},
        description.getPredictedFeatureName(),
        description.getPredictedProbabilitiesName());
  }

  private static int targets(TreeEnsembleParameters ensemble) {
    long dimensions = ensemble.getNumPredictionDimensions();
    return dimensions == 0 ? 1 : Math.toIntExact(dimensions);
  }

  /**
   * Returns [N, T] FP32 raw scores: base values plus the leaves reached, on TreeEnsembleRegressor.
   * ONNX Runtime wants trees numbered 0, 1, ... and each tree's nodes numbered 0, 1, ... from its
   * root, so both are renumbered.
   */
  private static String treeScores(
      GraphWriter graph, Matrix x, TreeEnsembleParameters ensemble, int targets) {
    List<List<TreeNode>> trees = rootsFirst(ensemble.getNodesList());
    int count = 0;
    for (List<TreeNode> tree : trees) {
      count += tree.size();
    }
    if (count == 0) {
      throw new UnsupportedModelException("the tree ensemble has no nodes");
    }
    long[] treeIds = new long[count];
    long[] nodeIds = new long[count];
    long[] featureIds = new long[count];
    float[] values = new float[count];
    List<String> modes = new ArrayList<>(count);
    long[] trueIds = new long[count];
    long[] falseIds = new long[count];
    long[] missingTracksTrue = new long[count];
    List<long[]> targetEntries = new ArrayList<>();
    List<Float> targetWeights = new ArrayList<>();
    int i = 0;
    for (int tree = 0; tree < trees.size(); tree++) {
      Map<Long, Long> renumbered = new HashMap<>();
      List<TreeNode> treeNodes = trees.get(tree);
      for (int position = 0; position < treeNodes.size(); position++) {
        renumbered.put(treeNodes.get(position).getNodeId(), (long) position);
      }
      for (TreeNode node : treeNodes) {
        treeIds[i] = tree;
        nodeIds[i] = renumbered.get(node.getNodeId());
        modes.add(mode(node));
        if (node.getNodeBehavior() != TreeNode.TreeNodeBehavior.LeafNode) {
          featureIds[i] = node.getBranchFeatureIndex();
          values[i] = (float) node.getBranchFeatureValue();
          trueIds[i] = renumbered.get(node.getTrueChildNodeId());
          falseIds[i] = renumbered.get(node.getFalseChildNodeId());
          missingTracksTrue[i] = node.getMissingValueTracksTrueChild() ? 1 : 0;
          if (x.columns() >= 0 && node.getBranchFeatureIndex() >= x.columns()) {
            throw new UnsupportedModelException(
                "tree "
                    + node.getTreeId()
                    + " node "
                    + node.getNodeId()
                    + " branches on feature "
                    + node.getBranchFeatureIndex()
                    + " but the input has "
                    + x.columns());
          }
        }
        for (TreeNode.EvaluationInfo evaluation : node.getEvaluationInfoList()) {
          if (evaluation.getEvaluationIndex() >= targets) {
            throw new UnsupportedModelException(
                "tree "
                    + node.getTreeId()
                    + " node "
                    + node.getNodeId()
                    + " adds to prediction dimension "
                    + evaluation.getEvaluationIndex()
                    + " of "
                    + targets);
          }
          targetEntries.add(new long[] {tree, nodeIds[i], evaluation.getEvaluationIndex()});
          targetWeights.add((float) evaluation.getEvaluationValue());
        }
        i++;
      }
    }
    float[] base = new float[targets];
    if (ensemble.getBasePredictionValueCount() == targets) {
      for (int t = 0; t < targets; t++) {
        base[t] = (float) ensemble.getBasePredictionValue(t);
      }
    } else if (ensemble.getBasePredictionValueCount() != 0) {
      throw new UnsupportedModelException(
          "the tree ensemble has "
              + ensemble.getBasePredictionValueCount()
              + " base prediction values for "
              + targets
              + " dimensions");
    }
    long[] targetTrees = new long[targetEntries.size()];
    long[] targetNodes = new long[targetEntries.size()];
    long[] targetIds = new long[targetEntries.size()];
    float[] weights = new float[targetEntries.size()];
    for (int t = 0; t < targetTrees.length; t++) {
      targetTrees[t] = targetEntries.get(t)[0];
      targetNodes[t] = targetEntries.get(t)[1];
      targetIds[t] = targetEntries.get(t)[2];
      weights[t] = targetWeights.get(t);
    }
    return graph.mlOp(
        "TreeEnsembleRegressor",
        List.of(x.value()),
        attribute("n_targets", targets),
        attribute("base_values", base),
        attribute("aggregate_function", "SUM"),
        attribute("post_transform", "NONE"),
        attribute("nodes_treeids", treeIds),
        attribute("nodes_nodeids", nodeIds),
        attribute("nodes_featureids", featureIds),
        attribute("nodes_values", values),
        attribute("nodes_modes", modes),
        attribute("nodes_truenodeids", trueIds),
        attribute("nodes_falsenodeids", falseIds),
        attribute("nodes_missing_value_tracks_true", missingTracksTrue),
        attribute("target_treeids", targetTrees),
        attribute("target_nodeids", targetNodes),
        attribute("target_ids", targetIds),
        attribute("target_weights", weights));
  }

  private static String mode(TreeNode node) {
    return switch (node.getNodeBehavior()) {
      case BranchOnValueLessThanEqual -> "BRANCH_LEQ";
      case BranchOnValueLessThan -> "BRANCH_LT";
      case BranchOnValueGreaterThanEqual -> "BRANCH_GTE";
      case BranchOnValueGreaterThan -> "BRANCH_GT";
      case BranchOnValueEqual -> "BRANCH_EQ";
      case BranchOnValueNotEqual -> "BRANCH_NEQ";
      case LeafNode -> "LEAF";
      case UNRECOGNIZED ->
          throw new UnsupportedModelException(
              "tree "
                  + node.getTreeId()
                  + " node "
                  + node.getNodeId()
                  + " has behavior "
                  + node.getNodeBehaviorValue()
                  + ", which CoreML does not define");
    };
  }

  /**
   * Groups the nodes by tree, each tree's root (the node no other node of the tree points at)
   * first, checking that every branch leads to a node of its tree.
   */
  private static List<List<TreeNode>> rootsFirst(List<TreeNode> nodes) {
    Map<Long, List<TreeNode>> trees = new LinkedHashMap<>();
    for (TreeNode node : nodes) {
      trees.computeIfAbsent(node.getTreeId(), id -> new ArrayList<>()).add(node);
    }
    List<List<TreeNode>> ordered = new ArrayList<>();
    for (Map.Entry<Long, List<TreeNode>> tree : trees.entrySet()) {
      Set<Long> children = new HashSet<>();
      Set<Long> ids = new HashSet<>();
      for (TreeNode node : tree.getValue()) {
        if (!ids.add(node.getNodeId())) {
          throw new UnsupportedModelException(
              "tree " + tree.getKey() + " has two nodes with id " + node.getNodeId());
        }
        if (node.getNodeBehavior() != TreeNode.TreeNodeBehavior.LeafNode) {
          children.add(node.getTrueChildNodeId());
          children.add(node.getFalseChildNodeId());
        }
      }
      List<TreeNode> roots =
          tree.getValue().stream().filter(node -> !children.contains(node.getNodeId())).toList();
      if (roots.size() != 1) {
        throw new UnsupportedModelException(
            "tree " + tree.getKey() + " has " + roots.size() + " root nodes; a tree needs one");
      }
      for (long child : children) {
        if (!ids.contains(child)) {
          throw new UnsupportedModelException(
              "tree " + tree.getKey() + " branches to node " + child + ", which it does not have");
        }
      }
      List<TreeNode> treeNodes = new ArrayList<>();
      treeNodes.add(roots.get(0));
      tree.getValue().stream().filter(node -> node != roots.get(0)).forEach(treeNodes::add);
      ordered.add(treeNodes);
    }
    return ordered;
  }

  // ------------------------------------------------------------------------------------------
  // feature engineering

  private static void oneHotEncoder(
      OneHotEncoder encoder, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    if (encoder.getOutputSparse()) {
      throw new UnsupportedModelException(
          "oneHotEncoder with outputSparse (a dictionary output) is not supported; Hangar"
              + " outputs the dense array");
    }
    FeatureValue input =
        environment.get(soleInput(description, "oneHotEncoder").getName(), "oneHotEncoder");
    List<dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto> attributes = new ArrayList<>();
    int categories;
    String values;
    if (encoder.hasStringCategories()) {
      if (input.kind() != FeatureValue.Kind.STRING) {
        throw new UnsupportedModelException(
            "oneHotEncoder has string categories but its input is " + input.kind());
      }
      categories = encoder.getStringCategories().getVectorCount();
      attributes.add(attribute("cats_strings", encoder.getStringCategories().getVectorList()));
      values = input.value();
    } else if (encoder.hasInt64Categories()) {
      categories = encoder.getInt64Categories().getVectorCount();
      attributes.add(
          attribute(
              "cats_int64s",
              encoder.getInt64Categories().getVectorList().stream()
                  .mapToLong(Long::longValue)
                  .toArray()));
      values =
          graph.cast(scalarColumn(graph, input, "oneHotEncoder"), input.dataType(), DataType.INT64);
    } else {
      throw new UnsupportedModelException("oneHotEncoder has no categories");
    }
    if (categories == 0) {
      throw new UnsupportedModelException("oneHotEncoder has no categories");
    }
    boolean ignoreUnknown = encoder.getHandleUnknown() == OneHotEncoder.HandleUnknown.IgnoreUnknown;
    attributes.add(attribute("zeros", ignoreUnknown ? 1 : 0));
    if (!ignoreUnknown) {
      environment.check(
          new CategoryCheck(
              input.value(),
              Set.copyOf(encoder.getStringCategories().getVectorList()),
              Set.copyOf(encoder.getInt64Categories().getVectorList())));
    }
    String y =
        graph.mlOp(
            "OneHotEncoder",
            List.of(values),
            attributes.toArray(dev.hangar.backend.onnx.proto.OnnxProto.AttributeProto[]::new));
    environment.put(
        soleOutput(description, "oneHotEncoder"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, categories}));
  }

  /** A scalar feature as [N]: Int64/Double as is, a one-element array reshaped. */
  private static String scalarColumn(GraphWriter graph, FeatureValue input, String owner) {
    return switch (input.kind()) {
      case INT64, DOUBLE -> input.value();
      case ARRAY -> {
        if (input.rowSize() != 1) {
          throw new UnsupportedModelException(
              owner + " takes a single value per row but its input has shape " + input);
        }
        yield graph.reshape(input.value(), -1);
      }
      default ->
          throw new UnsupportedModelException(owner + " cannot read a " + input.kind() + " input");
    };
  }

  private static void featureVectorizer(
      FeatureVectorizer vectorizer, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    List<String> columns = new ArrayList<>();
    long[] dimensions = new long[vectorizer.getInputListCount()];
    long total = 0;
    for (int i = 0; i < dimensions.length; i++) {
      FeatureVectorizer.InputColumn column = vectorizer.getInputList(i);
      Matrix x =
          matrix(
              environment,
              environment.get(column.getInputColumn(), "featureVectorizer"),
              "featureVectorizer");
      dimensions[i] = column.getInputDimensions();
      if (x.columns() >= 0 && x.columns() != dimensions[i]) {
        throw new UnsupportedModelException(
            "featureVectorizer takes "
                + dimensions[i]
                + " values of '"
                + column.getInputColumn()
                + "' but it has "
                + x.columns());
      }
      columns.add(x.value());
      total += dimensions[i];
    }
    if (columns.isEmpty()) {
      throw new UnsupportedModelException("featureVectorizer has no input columns");
    }
    String y = graph.mlOp("FeatureVectorizer", columns, attribute("inputdimensions", dimensions));
    environment.put(
        soleOutput(description, "featureVectorizer"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, total}));
  }

  private static void arrayFeatureExtractor(
      ArrayFeatureExtractor extractor, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    FeatureValue input =
        environment.get(
            soleInput(description, "arrayFeatureExtractor").getName(), "arrayFeatureExtractor");
    if (input.kind() != FeatureValue.Kind.ARRAY) {
      throw new UnsupportedModelException(
          "arrayFeatureExtractor reads a MultiArray, not " + input.kind());
    }
    String x = input.value();
    DataType type = input.dataType();
    if (input.rank() != 2) {
      x = graph.reshape(x, 0, -1);
    }
    if (type == DataType.FP16 || type == DataType.INT8) {
      x = graph.cast(x, type, DataType.FP32);
      type = DataType.FP32;
    }
    long[] indices = extractor.getExtractIndexList().stream().mapToLong(Long::longValue).toArray();
    if (indices.length == 0) {
      throw new UnsupportedModelException("arrayFeatureExtractor extracts no index");
    }
    long size = input.rowSize();
    for (long index : indices) {
      if (size >= 0 && index >= size) {
        throw new UnsupportedModelException(
            "arrayFeatureExtractor extracts index " + index + " of an array of " + size);
      }
    }
    String y = graph.mlOp("ArrayFeatureExtractor", List.of(x, graph.longs(indices)));
    environment.put(
        soleOutput(description, "arrayFeatureExtractor"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, type, new long[] {-1, indices.length}));
  }

  private static void scaler(Scaler scaler, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    FeatureValue input = environment.get(soleInput(description, "scaler").getName(), "scaler");
    Matrix x = matrix(environment, input, "scaler");
    float[] scale = toFloats(scaler.getScaleValueList(), 1f);
    float[] offset = toFloats(scaler.getShiftValueList(), 0f);
    // CoreML: y = scale * (x + shift); ONNX-ML Scaler: y = (x - offset) * scale
    for (int i = 0; i < offset.length; i++) {
      offset[i] = -offset[i];
    }
    for (float[] parameter : List.of(scale, offset)) {
      if (parameter.length != 1 && x.columns() >= 0 && parameter.length != x.columns()) {
        throw new UnsupportedModelException(
            "scaler has " + parameter.length + " values for an input of " + x.columns());
      }
    }
    String y =
        graph.mlOp(
            "Scaler", List.of(x.value()), attribute("scale", scale), attribute("offset", offset));
    environment.put(
        soleOutput(description, "scaler"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, x.columns()}));
  }

  private static void normalizer(
      Normalizer normalizer, ModelDescription description, Environment environment) {
    GraphWriter graph = environment.graph();
    Matrix x =
        matrix(
            environment,
            environment.get(soleInput(description, "normalizer").getName(), "normalizer"),
            "normalizer");
    String norm =
        switch (normalizer.getNormType()) {
          case LMax -> "MAX";
          case L1 -> "L1";
          case L2 -> "L2";
          case UNRECOGNIZED ->
              throw new UnsupportedModelException(
                  "normalizer has norm type "
                      + normalizer.getNormTypeValue()
                      + ", which CoreML does not define");
        };
    String y = graph.mlOp("Normalizer", List.of(x.value()), attribute("norm", norm));
    environment.put(
        soleOutput(description, "normalizer"),
        new FeatureValue(y, FeatureValue.Kind.ARRAY, DataType.FP32, new long[] {-1, x.columns()}));
  }

  private static void identity(ModelDescription description, Environment environment) {
    if (description.getInputCount() != description.getOutputCount()) {
      throw new UnsupportedModelException(
          "identity has "
              + description.getInputCount()
              + " inputs but "
              + description.getOutputCount()
              + " outputs; it passes each input to the output at the same position");
    }
    for (int i = 0; i < description.getInputCount(); i++) {
      environment.put(
          description.getOutput(i).getName(),
          environment.get(description.getInput(i).getName(), "identity"));
    }
  }

  // ------------------------------------------------------------------------------------------
  // helpers

  /** A feature as an FP32 matrix {@code [N, columns]}; columns is -1 when unknown. */
  record Matrix(String value, long columns) {}

  /** Returns a scalar or array feature as an FP32 matrix [N, D], flattening an array's shape. */
  static Matrix matrix(Environment environment, FeatureValue input, String owner) {
    GraphWriter graph = environment.graph();
    return switch (input.kind()) {
      case DOUBLE, INT64 ->
          new Matrix(
              graph.cast(graph.unsqueeze(input.value(), 1), input.dataType(), DataType.FP32), 1);
      case ARRAY, PROBABILITIES -> {
        String x = input.value();
        if (input.rank() != 2) {
          x = graph.reshape(x, 0, -1);
        }
        yield new Matrix(graph.cast(x, input.dataType(), DataType.FP32), input.rowSize());
      }
      default ->
          throw new UnsupportedModelException(
              owner + " reads numbers but its input is a " + input.kind() + " feature");
    };
  }

  private static Matrix matrix(Environment environment, FeatureDescription input, String owner) {
    return matrix(environment, environment.get(input.getName(), owner), owner);
  }

  private static FeatureDescription soleInput(ModelDescription description, String owner) {
    if (description.getInputCount() != 1) {
      throw new UnsupportedModelException(
          owner + " takes one input feature but declares " + description.getInputCount());
    }
    return description.getInput(0);
  }

  private static String soleOutput(ModelDescription description, String owner) {
    if (description.getOutputCount() != 1) {
      throw new UnsupportedModelException(
          owner + " produces one output feature but declares " + description.getOutputCount());
    }
    return description.getOutput(0).getName();
  }

  private static String predictedName(ModelDescription description, String owner) {
    if (!description.getPredictedFeatureName().isEmpty()) {
      return description.getPredictedFeatureName();
    }
    return soleOutput(description, owner);
  }

  private static double[] toArray(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static float[] toFloats(List<Double> values, float empty) {
    if (values.isEmpty()) {
      return new float[] {empty};
    }
    float[] floats = new float[values.size()];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = values.get(i).floatValue();
    }
    return floats;
  }
}
