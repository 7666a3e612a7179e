package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.Reference.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureExtractor;
import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.ArrayDataType;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureVectorizer;
import dev.hangar.backend.coreml.proto.CoreMlProto.GLMClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.GLMRegressor;
import dev.hangar.backend.coreml.proto.CoreMlProto.Identity;
import dev.hangar.backend.coreml.proto.CoreMlProto.Int64Vector;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.ModelDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.Normalizer;
import dev.hangar.backend.coreml.proto.CoreMlProto.OneHotEncoder;
import dev.hangar.backend.coreml.proto.CoreMlProto.Pipeline;
import dev.hangar.backend.coreml.proto.CoreMlProto.PipelineClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.PipelineRegressor;
import dev.hangar.backend.coreml.proto.CoreMlProto.Scaler;
import dev.hangar.backend.coreml.proto.CoreMlProto.StringVector;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleParameters;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleParameters.TreeNode;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleParameters.TreeNode.TreeNodeBehavior;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsemblePostEvaluationTransform;
import dev.hangar.backend.coreml.proto.CoreMlProto.TreeEnsembleRegressor;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The classic machine-learning model types and pipelines, with expected outputs computed by hand:
 * dot products, known values of the logistic function and the normal CDF, trees walked here node by
 * node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClassicModelsTest {
  // the standard normal CDF at -0.5, 0, 1 and 2
  private static final double PHI_MINUS_HALF = 0.3085375387259869;
  private static final double PHI_ONE = 0.8413447460685429;
  private static final double PHI_TWO = 0.9772498680518208;

  @TempDir static Path directory;
  private Runner runner;

  @BeforeAll
  void createRunner() {
    runner = new Runner(directory);
  }

  private static Model model(
      List<FeatureDescription> inputs, List<FeatureDescription> outputs, String predicted) {
    ModelDescription.Builder description = Specs.description(inputs, outputs).toBuilder();
    if (predicted != null) {
      description.setPredictedFeatureName(predicted);
    }
    return Model.newBuilder().setSpecificationVersion(1).setDescription(description).build();
  }

  private static GLMRegressor.DoubleArray row(double... values) {
    GLMRegressor.DoubleArray.Builder row = GLMRegressor.DoubleArray.newBuilder();
    for (double value : values) {
      row.addValue(value);
    }
    return row.build();
  }

  private static GLMClassifier.DoubleArray classifierRow(double... values) {
    GLMClassifier.DoubleArray.Builder row = GLMClassifier.DoubleArray.newBuilder();
    for (double value : values) {
      row.addValue(value);
    }
    return row.build();
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  // ------------------------------------------------------------------------------------------
  // GLM

  @ParameterizedTest
  @EnumSource(
      value = GLMRegressor.PostEvaluationTransform.class,
      names = {"NoTransform", "Logit", "Probit"})
  void glmRegressor(GLMRegressor.PostEvaluationTransform transform) {
    // score = x0 - 0.5 x1 + 2 x2 - 1, chosen so that the scores are -0.5, 1 and 2
    Model model =
        model(List.of(Specs.array("x", ArrayDataType.DOUBLE, 3)), List.of(Specs.doubles("y")), "y")
            .toBuilder()
            .setGlmRegressor(
                GLMRegressor.newBuilder()
                    .addWeights(row(1, -0.5, 2))
                    .addOffset(-1)
                    .setPostEvaluationTransform(transform))
            .build();
    double[] x = {0.5, 0, 0, 2, 0, 0, 1, 0, 1};
    double[] scores = {-0.5, 1, 2};
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      expected[i] =
          switch (transform) {
            case Logit -> sigmoid(scores[i]);
            case Probit -> new double[] {PHI_MINUS_HALF, PHI_ONE, PHI_TWO}[i];
            default -> scores[i];
          };
    }
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().outputs())
          .containsExactly(new TensorSpec("y", DataType.FP64, new long[] {-1}));
      double[] y =
          loaded.infer(List.of(Tensor.ofDoubles("x", new long[] {3, 3}, x))).get(0).toDoubleArray();
      for (int i = 0; i < 3; i++) {
        assertThat(y[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6));
      }
    }
  }

  @Test
  void glmRegressorWithSeveralTargets() {
    Model model =
        model(
                List.of(Specs.floats("x", 2)),
                List.of(Specs.array("y", ArrayDataType.DOUBLE, 2)),
                "y")
            .toBuilder()
            .setGlmRegressor(
                GLMRegressor.newBuilder()
                    .addWeights(row(1, 2))
                    .addWeights(row(-3, 0.5))
                    .addOffset(0.5)
                    .addOffset(-1))
            .build();
    double[] y =
        runner
            .run(model, Tensor.ofFloats("x", new long[] {2, 2}, 1, 1, 2, -4))
            .get(0)
            .toDoubleArray();
    assertThat(y).containsExactly(3.5, -3.5, -5.5, -9);
  }

  @Test
  void binaryGlmClassifierGivesTheSecondClassTheLogisticProbability() {
    Model model =
        model(
                List.of(Specs.floats("x", 2)),
                List.of(Specs.int64("label"), Specs.dictionary("probabilities", false)),
                "label")
            .toBuilder()
            .setDescription(
                model(
                        List.of(Specs.floats("x", 2)),
                        List.of(Specs.int64("label"), Specs.dictionary("probabilities", false)),
                        "label")
                    .getDescription()
                    .toBuilder()
                    .setPredictedProbabilitiesName("probabilities"))
            .setGlmClassifier(
                GLMClassifier.newBuilder()
                    .addWeights(classifierRow(2, -1))
                    .addOffset(0.5)
                    .setInt64ClassLabels(Int64Vector.newBuilder().addVector(0).addVector(1)))
            .build();
    // scores 0.5 + 2 x0 - x1: -1.5, 2
    List<Tensor> outputs =
        runner.run(model, Tensor.ofFloats("x", new long[] {2, 2}, 0, 2, 1, 0.5f));
    assertThat(outputs.get(0).toLongArray()).containsExactly(0, 1);
    assertClose(
        outputs.get(1).toFloatArray(),
        new float[] {
          (float) (1 - sigmoid(-1.5)),
          (float) sigmoid(-1.5),
          (float) (1 - sigmoid(2)),
          (float) sigmoid(2)
        },
        1e-6);
  }

  @Test
  void binaryProbitGlmClassifier() {
    Model model =
        model(
                List.of(Specs.floats("x", 1)),
                List.of(Specs.string("label"), Specs.dictionary("p", true)),
                "label")
            .toBuilder()
            .setGlmClassifier(
                GLMClassifier.newBuilder()
                    .addWeights(classifierRow(1))
                    .setPostEvaluationTransform(GLMClassifier.PostEvaluationTransform.Probit)
                    .setStringClassLabels(
                        StringVector.newBuilder().addVector("no").addVector("yes")))
            .build();
    model =
        model.toBuilder()
            .setDescription(model.getDescription().toBuilder().setPredictedProbabilitiesName("p"))
            .build();
    List<Tensor> outputs = runner.run(model, Tensor.ofFloats("x", new long[] {2, 1}, -0.5f, 2));
    assertThat(outputs.get(0).toStringList()).containsExactly("no", "yes");
    assertClose(
        outputs.get(1).toFloatArray(),
        new float[] {
          (float) (1 - PHI_MINUS_HALF),
          (float) PHI_MINUS_HALF,
          (float) (1 - PHI_TWO),
          (float) PHI_TWO
        },
        1e-6);
  }

  @Test
  void oneVsRestGlmClassifierNormalizesTheLogisticProbabilities() {
    Model model =
        model(
                List.of(Specs.floats("x", 2)),
                List.of(Specs.string("label"), Specs.dictionary("p", true)),
                "label")
            .toBuilder()
            .setGlmClassifier(
                GLMClassifier.newBuilder()
                    .addWeights(classifierRow(1, 0))
                    .addWeights(classifierRow(0, 1))
                    .addWeights(classifierRow(-1, -1))
                    .addOffset(0)
                    .addOffset(0)
                    .addOffset(0.5)
                    .setClassEncoding(GLMClassifier.ClassEncoding.OneVsRest)
                    .setStringClassLabels(
                        StringVector.newBuilder().addVector("a").addVector("b").addVector("c")))
            .build();
    model =
        model.toBuilder()
            .setDescription(model.getDescription().toBuilder().setPredictedProbabilitiesName("p"))
            .build();
    float[] x = {1, -1, -2, -3};
    List<Tensor> outputs = runner.run(model, Tensor.ofFloats("x", new long[] {2, 2}, x));
    float[] expected = new float[6];
    String[] labels = new String[2];
    for (int n = 0; n < 2; n++) {
      double[] s = {x[n * 2], x[n * 2 + 1], 0.5 - x[n * 2] - x[n * 2 + 1]};
      double total = 0;
      for (double v : s) {
        total += sigmoid(v);
      }
      int best = 0;
      for (int k = 0; k < 3; k++) {
        expected[n * 3 + k] = (float) (sigmoid(s[k]) / total);
        if (s[k] > s[best]) {
          best = k;
        }
      }
      labels[n] = new String[] {"a", "b", "c"}[best];
    }
    assertThat(outputs.get(0).toStringList()).containsExactly(labels);
    assertClose(outputs.get(1).toFloatArray(), expected, 1e-6);
  }

  // ------------------------------------------------------------------------------------------
  // tree ensembles

  private static TreeNode branch(
      long tree,
      long id,
      TreeNodeBehavior behavior,
      long feature,
      double value,
      long whenTrue,
      long whenFalse) {
    return TreeNode.newBuilder()
        .setTreeId(tree)
        .setNodeId(id)
        .setNodeBehavior(behavior)
        .setBranchFeatureIndex(feature)
        .setBranchFeatureValue(value)
        .setTrueChildNodeId(whenTrue)
        .setFalseChildNodeId(whenFalse)
        .build();
  }

  private static TreeNode leaf(long tree, long id, double... values) {
    TreeNode.Builder node =
        TreeNode.newBuilder()
            .setTreeId(tree)
            .setNodeId(id)
            .setNodeBehavior(TreeNodeBehavior.LeafNode);
    for (int i = 0; i < values.length; i++) {
      node.addEvaluationInfo(
          TreeNode.EvaluationInfo.newBuilder().setEvaluationIndex(i).setEvaluationValue(values[i]));
    }
    return node.build();
  }

  /**
   * Two trees using every branch behavior; listed leaves first, so the compiler must find the
   * roots. Tree 0: x0 <= 1 ? (x1 < 0 ? A : B) : (x2 >= 3 ? C : D). Tree 1: x0 > 2 ? E : (x1 == 0 ?
   * F : (x2 != 1 ? G : H)).
   */
  private static TreeEnsembleParameters.Builder twoTrees(int dimensions) {
    double[][] leaves = new double[8][dimensions];
    for (int i = 0; i < 8; i++) {
      for (int d = 0; d < dimensions; d++) {
        leaves[i][d] = (i + 1) * (d == 0 ? 1 : -0.5);
      }
    }
    return TreeEnsembleParameters.newBuilder()
        .setNumPredictionDimensions(dimensions)
        .addNodes(leaf(0, 3, leaves[0]))
        .addNodes(leaf(0, 4, leaves[1]))
        .addNodes(leaf(0, 5, leaves[2]))
        .addNodes(leaf(0, 6, leaves[3]))
        .addNodes(branch(0, 1, TreeNodeBehavior.BranchOnValueLessThan, 1, 0, 3, 4))
        .addNodes(branch(0, 2, TreeNodeBehavior.BranchOnValueGreaterThanEqual, 2, 3, 5, 6))
        .addNodes(branch(0, 0, TreeNodeBehavior.BranchOnValueLessThanEqual, 0, 1, 1, 2))
        .addNodes(branch(1, 10, TreeNodeBehavior.BranchOnValueGreaterThan, 0, 2, 11, 12))
        .addNodes(leaf(1, 11, leaves[4]))
        .addNodes(branch(1, 12, TreeNodeBehavior.BranchOnValueEqual, 1, 0, 13, 14))
        .addNodes(leaf(1, 13, leaves[5]))
        .addNodes(branch(1, 14, TreeNodeBehavior.BranchOnValueNotEqual, 2, 1, 15, 16))
        .addNodes(leaf(1, 15, leaves[6]))
        .addNodes(leaf(1, 16, leaves[7]));
  }

  /** Walks {@link #twoTrees} by hand: the sum of the two leaves reached, per dimension. */
  private static double[] walkTwoTrees(float[] x, int dimensions) {
    int first = x[0] <= 1 ? (x[1] < 0 ? 0 : 1) : (x[2] >= 3 ? 2 : 3);
    int second = x[0] > 2 ? 4 : (x[1] == 0 ? 5 : (x[2] != 1 ? 6 : 7));
    double[] sum = new double[dimensions];
    for (int d = 0; d < dimensions; d++) {
      sum[d] = (first + 1) * (d == 0 ? 1 : -0.5) + (second + 1) * (d == 0 ? 1 : -0.5);
    }
    return sum;
  }

  private static final float[][] TREE_INPUTS = {
    {0, -1, 0}, {1, 0, 5}, {1.5f, 2, 3}, {1.5f, 2, 2.9f}, {3, 0, 1}, {2, 0, 1}, {2, 1, 1}, {2, 1, 0}
  };

  private static float[] flatten(float[][] rows) {
    float[] all = new float[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, all, i * rows[i].length, rows[i].length);
    }
    return all;
  }

  @Test
  void treeEnsembleRegressorWalksEveryBranchBehavior() {
    Model model =
        model(List.of(Specs.floats("x", 3)), List.of(Specs.doubles("y")), "y").toBuilder()
            .setTreeEnsembleRegressor(
                TreeEnsembleRegressor.newBuilder()
                    .setTreeEnsemble(twoTrees(1).addBasePredictionValue(0.25)))
            .build();
    double[] y =
        runner
            .run(
                model,
                Tensor.ofFloats("x", new long[] {TREE_INPUTS.length, 3}, flatten(TREE_INPUTS)))
            .get(0)
            .toDoubleArray();
    for (int i = 0; i < TREE_INPUTS.length; i++) {
      assertThat(y[i]).as("row " + i).isEqualTo(walkTwoTrees(TREE_INPUTS[i], 1)[0] + 0.25);
    }
  }

  @Test
  void treeEnsembleRegressorWithTheLogisticTransform() {
    Model model =
        model(List.of(Specs.floats("x", 3)), List.of(Specs.floats("y", 1)), "y").toBuilder()
            .setTreeEnsembleRegressor(
                TreeEnsembleRegressor.newBuilder()
                    .setTreeEnsemble(twoTrees(1).addBasePredictionValue(-9))
                    .setPostEvaluationTransform(
                        TreeEnsemblePostEvaluationTransform.Regression_Logistic))
            .build();
    float[] y =
        runner.runFloats(
            model, Tensor.ofFloats("x", new long[] {TREE_INPUTS.length, 3}, flatten(TREE_INPUTS)));
    for (int i = 0; i < TREE_INPUTS.length; i++) {
      assertThat((double) y[i])
          .isCloseTo(
              sigmoid(walkTwoTrees(TREE_INPUTS[i], 1)[0] - 9),
              org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  @Test
  void binaryTreeClassifierWithAZeroReferenceClass() {
    Model model =
        model(
                List.of(Specs.floats("x", 3)),
                List.of(Specs.int64("label"), Specs.dictionary("p", false)),
                "label")
            .toBuilder()
            .setTreeEnsembleClassifier(
                TreeEnsembleClassifier.newBuilder()
                    .setTreeEnsemble(twoTrees(1).addBasePredictionValue(-7))
                    .setPostEvaluationTransform(
                        TreeEnsemblePostEvaluationTransform
                            .Classification_SoftMaxWithZeroClassReference)
                    .setInt64ClassLabels(Int64Vector.newBuilder().addVector(0).addVector(1)))
            .build();
    model =
        model.toBuilder()
            .setDescription(model.getDescription().toBuilder().setPredictedProbabilitiesName("p"))
            .build();
    List<Tensor> outputs =
        runner.run(
            model, Tensor.ofFloats("x", new long[] {TREE_INPUTS.length, 3}, flatten(TREE_INPUTS)));
    long[] labels = outputs.get(0).toLongArray();
    float[] p = outputs.get(1).toFloatArray();
    for (int i = 0; i < TREE_INPUTS.length; i++) {
      double second = sigmoid(walkTwoTrees(TREE_INPUTS[i], 1)[0] - 7);
      assertClose(
          new float[] {p[2 * i], p[2 * i + 1]},
          new float[] {(float) (1 - second), (float) second},
          1e-6);
      assertThat(labels[i]).isEqualTo(second > 0.5 ? 1 : 0);
    }
  }

  @Test
  void multiClassTreeClassifierWithSoftmax() {
    Model model =
        model(
                List.of(Specs.floats("x", 3)),
                List.of(Specs.string("label"), Specs.dictionary("p", true)),
                "label")
            .toBuilder()
            .setTreeEnsembleClassifier(
                TreeEnsembleClassifier.newBuilder()
                    .setTreeEnsemble(twoTrees(2))
                    .setPostEvaluationTransform(
                        TreeEnsemblePostEvaluationTransform.Classification_SoftMax)
                    .setStringClassLabels(
                        StringVector.newBuilder().addVector("up").addVector("down")))
            .build();
    model =
        model.toBuilder()
            .setDescription(model.getDescription().toBuilder().setPredictedProbabilitiesName("p"))
            .build();
    List<Tensor> outputs =
        runner.run(
            model, Tensor.ofFloats("x", new long[] {TREE_INPUTS.length, 3}, flatten(TREE_INPUTS)));
    List<String> labels = outputs.get(0).toStringList();
    float[] p = outputs.get(1).toFloatArray();
    for (int i = 0; i < TREE_INPUTS.length; i++) {
      double[] s = walkTwoTrees(TREE_INPUTS[i], 2);
      double up = Math.exp(s[0]) / (Math.exp(s[0]) + Math.exp(s[1]));
      assertClose(
          new float[] {p[2 * i], p[2 * i + 1]}, new float[] {(float) up, (float) (1 - up)}, 1e-6);
      assertThat(labels.get(i)).isEqualTo(up >= 0.5 ? "up" : "down");
    }
  }

  // ------------------------------------------------------------------------------------------
  // feature engineering

  @Test
  void oneHotEncoderOfStringsIgnoringUnknownValues() {
    Model model =
        model(
                List.of(Specs.string("color")),
                List.of(Specs.array("encoded", ArrayDataType.DOUBLE, 3)),
                null)
            .toBuilder()
            .setOneHotEncoder(
                OneHotEncoder.newBuilder()
                    .setStringCategories(
                        StringVector.newBuilder()
                            .addVector("red")
                            .addVector("green")
                            .addVector("blue"))
                    .setHandleUnknown(OneHotEncoder.HandleUnknown.IgnoreUnknown))
            .build();
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("color", DataType.BYTES, new long[] {-1})),
                  List.of(new TensorSpec("encoded", DataType.FP64, new long[] {-1, 3})),
                  true));
      Tensor y =
          loaded
              .infer(List.of(Tensor.ofStrings("color", new long[] {3}, "blue", "mauve", "red")))
              .get(0);
      assertThat(y.toDoubleArray()).containsExactly(0, 0, 1, 0, 0, 0, 1, 0, 0);
    }
  }

  @Test
  void oneHotEncoderOfIntegersRefusingUnknownValues() {
    Model model =
        model(List.of(Specs.int64("code")), List.of(Specs.floats("encoded", 2)), null).toBuilder()
            .setOneHotEncoder(
                OneHotEncoder.newBuilder()
                    .setInt64Categories(Int64Vector.newBuilder().addVector(7).addVector(3)))
            .build();
    try (LoadedModel loaded = runner.load(model)) {
      Tensor y = loaded.infer(List.of(Tensor.ofLongs("code", new long[] {2}, 3, 7))).get(0);
      assertThat(y.toFloatArray()).containsExactly(0, 1, 1, 0);
      assertThatThrownBy(() -> loaded.infer(List.of(Tensor.ofLongs("code", new long[] {1}, 5))))
          .isInstanceOf(dev.hangar.spi.InvalidInputException.class)
          .hasMessageContaining("input 'code' has value '5'")
          .hasMessageContaining("ErrorOnUnknown");
    }
  }

  @Test
  void featureVectorizerJoinsScalarsAndArraysInOrder() {
    Model model =
        model(
                List.of(Specs.doubles("a"), Specs.floats("b", 2), Specs.int64("c")),
                List.of(Specs.array("features", ArrayDataType.DOUBLE, 4)),
                null)
            .toBuilder()
            .setFeatureVectorizer(
                FeatureVectorizer.newBuilder()
                    .addInputList(column("c", 1))
                    .addInputList(column("b", 2))
                    .addInputList(column("a", 1)))
            .build();
    List<Tensor> outputs =
        runner.run(
            model,
            Tensor.ofDoubles("a", new long[] {2}, 0.5, -1),
            Tensor.ofFloats("b", new long[] {2, 2}, 1, 2, 3, 4),
            Tensor.ofLongs("c", new long[] {2}, 10, 20));
    assertThat(outputs.get(0).toDoubleArray()).containsExactly(10, 1, 2, 0.5, 20, 3, 4, -1);
  }

  private static FeatureVectorizer.InputColumn column(String name, long dimensions) {
    return FeatureVectorizer.InputColumn.newBuilder()
        .setInputColumn(name)
        .setInputDimensions(dimensions)
        .build();
  }

  @Test
  void arrayFeatureExtractorToAnArrayAndToADouble() {
    Model many =
        model(List.of(Specs.floats("x", 4)), List.of(Specs.floats("y", 2)), null).toBuilder()
            .setArrayFeatureExtractor(
                ArrayFeatureExtractor.newBuilder().addExtractIndex(3).addExtractIndex(1))
            .build();
    Model one =
        model(List.of(Specs.array("x", ArrayDataType.DOUBLE, 4)), List.of(Specs.doubles("y")), null)
            .toBuilder()
            .setArrayFeatureExtractor(ArrayFeatureExtractor.newBuilder().addExtractIndex(2))
            .build();
    assertThat(
            runner.runFloats(many, Tensor.ofFloats("x", new long[] {2, 4}, 0, 1, 2, 3, 4, 5, 6, 7)))
        .containsExactly(3, 1, 7, 5);
    Tensor y =
        runner
            .run(one, Tensor.ofDoubles("x", new long[] {2, 4}, 0, 1, 2.5, 3, 4, 5, 6.5, 7))
            .get(0);
    assertThat(y.shape()).containsExactly(2);
    assertThat(y.toDoubleArray()).containsExactly(2.5, 6.5);
  }

  @Test
  void scalerShiftsThenScales() {
    Model perElement =
        model(List.of(Specs.floats("x", 3)), List.of(Specs.floats("y", 3)), null).toBuilder()
            .setScaler(
                Scaler.newBuilder()
                    .addShiftValue(1)
                    .addShiftValue(-2)
                    .addShiftValue(0.5)
                    .addScaleValue(2)
                    .addScaleValue(0.5)
                    .addScaleValue(-1))
            .build();
    Model single =
        model(List.of(Specs.doubles("x")), List.of(Specs.doubles("y")), null).toBuilder()
            .setScaler(Scaler.newBuilder().addShiftValue(-1).addScaleValue(4))
            .build();
    assertThat(runner.runFloats(perElement, Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)))
        .containsExactly(4, 0, -3.5f);
    assertThat(
            runner
                .run(single, Tensor.ofDoubles("x", new long[] {2}, 1.5, -1))
                .get(0)
                .toDoubleArray())
        .containsExactly(2, -8);
  }

  @ParameterizedTest
  @EnumSource(
      value = Normalizer.NormType.class,
      names = {"LMax", "L1", "L2"})
  void normalizer(Normalizer.NormType norm) {
    Model model =
        model(List.of(Specs.floats("x", 3)), List.of(Specs.floats("y", 3)), null).toBuilder()
            .setNormalizer(Normalizer.newBuilder().setNormType(norm))
            .build();
    float[] x = {3, 1, 2, 1, -4, 2};
    float[] expected = new float[6];
    for (int r = 0; r < 2; r++) {
      double z = 0;
      for (int i = 0; i < 3; i++) {
        float v = x[r * 3 + i];
        z =
            switch (norm) {
              case LMax -> i == 0 ? v : Math.max(z, v);
              case L1 -> z + Math.abs(v);
              default -> z + v * v;
            };
      }
      if (norm == Normalizer.NormType.L2) {
        z = Math.sqrt(z);
      }
      for (int i = 0; i < 3; i++) {
        expected[r * 3 + i] = (float) (x[r * 3 + i] / z);
      }
    }
    assertClose(
        runner.runFloats(model, Tensor.ofFloats("x", new long[] {2, 3}, x)), expected, 1e-6);
  }

  @Test
  void identityPassesEveryFeatureThrough() {
    Model model =
        model(
                List.of(
                    Specs.string("s"),
                    Specs.doubles("d"),
                    Specs.array("a", ArrayDataType.INT32, 2)),
                List.of(
                    Specs.string("s2"),
                    Specs.doubles("d2"),
                    Specs.array("a2", ArrayDataType.INT32, 2)),
                null)
            .toBuilder()
            .setIdentity(Identity.getDefaultInstance())
            .build();
    List<Tensor> outputs =
        runner.run(
            model,
            Tensor.ofStrings("s", new long[] {2}, "x", "yz"),
            Tensor.ofDoubles("d", new long[] {2}, 1.5, 2.5),
            Tensor.ofInts("a", new long[] {2, 2}, 1, 2, 3, 4));
    assertThat(outputs.get(0).toStringList()).containsExactly("x", "yz");
    assertThat(outputs.get(1).toDoubleArray()).containsExactly(1.5, 2.5);
    assertThat(outputs.get(2).toLongArray()).containsExactly(1, 2, 3, 4);
  }

  // ------------------------------------------------------------------------------------------
  // pipelines

  @Test
  void pipelineRegressorVectorizesScalesAndRegresses() {
    Model vectorizer =
        model(
                List.of(Specs.doubles("a"), Specs.floats("b", 2)),
                List.of(Specs.array("v", ArrayDataType.DOUBLE, 3)),
                null)
            .toBuilder()
            .setFeatureVectorizer(
                FeatureVectorizer.newBuilder()
                    .addInputList(column("a", 1))
                    .addInputList(column("b", 2)))
            .build();
    Model scaler =
        model(
                List.of(Specs.array("v", ArrayDataType.DOUBLE, 3)),
                List.of(Specs.array("scaled", ArrayDataType.DOUBLE, 3)),
                null)
            .toBuilder()
            .setScaler(Scaler.newBuilder().addShiftValue(-1).addScaleValue(2))
            .build();
    Model regressor =
        model(
                List.of(Specs.array("scaled", ArrayDataType.DOUBLE, 3)),
                List.of(Specs.doubles("y")),
                "y")
            .toBuilder()
            .setGlmRegressor(GLMRegressor.newBuilder().addWeights(row(1, 10, 100)).addOffset(0.5))
            .build();
    Model pipeline =
        model(List.of(Specs.doubles("a"), Specs.floats("b", 2)), List.of(Specs.doubles("y")), "y")
            .toBuilder()
            .setPipelineRegressor(
                PipelineRegressor.newBuilder()
                    .setPipeline(
                        Pipeline.newBuilder()
                            .addModels(vectorizer)
                            .addModels(scaler)
                            .addModels(regressor)))
            .build();
    double[] y =
        runner
            .run(
                pipeline,
                Tensor.ofDoubles("a", new long[] {2}, 2, 1),
                Tensor.ofFloats("b", new long[] {2, 2}, 1, 3, 0, 0.5f))
            .get(0)
            .toDoubleArray();
    // scaled = 2 (v - 1): [2, 0, 4] -> 402.5; [0, -2, -1] -> -119.5
    assertThat(y).containsExactly(402.5, -119.5);
  }

  /** One-hot encodes a color and classifies it with a binary GLM: red -> 100, blue -> 200. */
  private static Model colorPipeline() {
    Model encoder =
        model(List.of(Specs.string("color")), List.of(Specs.floats("onehot", 2)), null).toBuilder()
            .setOneHotEncoder(
                OneHotEncoder.newBuilder()
                    .setStringCategories(
                        StringVector.newBuilder().addVector("red").addVector("blue")))
            .build();
    Model classifier =
        model(
                List.of(Specs.floats("onehot", 2)),
                List.of(Specs.int64("label"), Specs.dictionary("p", false)),
                "label")
            .toBuilder()
            .setGlmClassifier(
                GLMClassifier.newBuilder()
                    .addWeights(classifierRow(-2, 3))
                    .setInt64ClassLabels(Int64Vector.newBuilder().addVector(100).addVector(200)))
            .build();
    classifier =
        classifier.toBuilder()
            .setDescription(
                classifier.getDescription().toBuilder().setPredictedProbabilitiesName("p"))
            .build();
    Model pipeline =
        model(
                List.of(Specs.string("color")),
                List.of(Specs.int64("label"), Specs.dictionary("p", false)),
                "label")
            .toBuilder()
            .setPipelineClassifier(
                PipelineClassifier.newBuilder()
                    .setPipeline(Pipeline.newBuilder().addModels(encoder).addModels(classifier)))
            .build();
    return pipeline;
  }

  private static void checkColorPipeline(List<Tensor> outputs) {
    assertThat(outputs.get(0).toLongArray()).containsExactly(100, 200);
    assertClose(
        outputs.get(1).toFloatArray(),
        new float[] {
          (float) (1 - sigmoid(-2)),
          (float) sigmoid(-2),
          (float) (1 - sigmoid(3)),
          (float) sigmoid(3)
        },
        1e-6);
  }

  @Test
  void pipelineClassifierEncodesAndClassifies() {
    checkColorPipeline(
        runner.run(colorPipeline(), Tensor.ofStrings("color", new long[] {2}, "red", "blue")));
  }

  @Test
  void convertedPipelineOfOnnxMlOperatorsLoadsInTheOnnxBackend() {
    Path target = directory.resolve("color_pipeline.onnx");
    runner
        .backend()
        .capability(dev.hangar.spi.FormatConverter.class)
        .orElseThrow()
        .convert(runner.write(colorPipeline()), target);
    var onnx = new dev.hangar.backend.onnx.OnnxBackendProvider().create(Runner.context());
    try (LoadedModel converted = onnx.load(dev.hangar.spi.ModelSource.of("color", 1, target))) {
      checkColorPipeline(
          converted.infer(List.of(Tensor.ofStrings("color", new long[] {2}, "red", "blue"))));
    }
  }

  @Test
  void pipelineOfANeuralNetworkAndAFeatureExtractor() {
    float[] weights = {1, 2, 3, 4, 5, 6};
    Model network =
        Specs.network(
            List.of(Specs.floats("x", 2)),
            List.of(Specs.floats("hidden", 3)),
            Specs.layer("dense", "x", "hidden")
                .setInnerProduct(
                    dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams.newBuilder()
                        .setInputChannels(2)
                        .setOutputChannels(3)
                        .setWeights(Specs.weights(weights))));
    Model extractor =
        model(List.of(Specs.floats("hidden", 3)), List.of(Specs.doubles("y")), null).toBuilder()
            .setArrayFeatureExtractor(ArrayFeatureExtractor.newBuilder().addExtractIndex(2))
            .build();
    Model pipeline =
        model(
                List.of(Specs.floats("x", 2)),
                List.of(Specs.doubles("y"), Specs.floats("hidden", 3)),
                null)
            .toBuilder()
            .setPipeline(
                Pipeline.newBuilder()
                    .addModels(network)
                    .addModels(extractor)
                    .addNames("net")
                    .addNames("pick"))
            .build();
    List<Tensor> outputs =
        runner.run(pipeline, Tensor.ofFloats("x", new long[] {2, 2}, 1, 1, 2, -1));
    assertThat(outputs.get(0).toDoubleArray()).containsExactly(11, 4);
    assertThat(outputs.get(1).toFloatArray()).containsExactly(3, 7, 11, 0, 2, 4);
  }

  @Test
  void pipelineStageReadingAMissingFeatureIsRefusedNamingTheStage() {
    Model stage =
        model(List.of(Specs.floats("nowhere", 2)), List.of(Specs.floats("y", 2)), null).toBuilder()
            .setNormalizer(Normalizer.getDefaultInstance())
            .build();
    Model pipeline =
        model(List.of(Specs.floats("x", 2)), List.of(Specs.floats("y", 2)), null).toBuilder()
            .setPipeline(Pipeline.newBuilder().addModels(stage).addNames("normalize"))
            .build();
    assertThatThrownBy(() -> runner.load(pipeline))
        .hasMessageContaining("stage 0 ('normalize')")
        .hasMessageContaining("'nowhere'");
  }
}
