package dev.hangar.backend.coreml;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import java.util.List;
import java.util.Map;

/**
 * Refuses specifications that use anything Hangar's schema does not declare. Protobuf keeps fields
 * it does not know as unknown fields; ignoring them would silently drop a layer, a model or a
 * parameter, so every unknown field is an error that names what it is, where the number is one of
 * CoreML's model or layer types.
 */
final class SpecificationCheck {
  /** CoreML's model types by field number of {@code Model.Type} (coremltools Model.proto). */
  private static final Map<Integer, String> MODEL_TYPES =
      Map.ofEntries(
          Map.entry(200, "pipelineClassifier"),
          Map.entry(201, "pipelineRegressor"),
          Map.entry(202, "pipeline"),
          Map.entry(300, "glmRegressor"),
          Map.entry(301, "supportVectorRegressor"),
          Map.entry(302, "treeEnsembleRegressor"),
          Map.entry(303, "neuralNetworkRegressor"),
          Map.entry(304, "bayesianProbitRegressor"),
          Map.entry(400, "glmClassifier"),
          Map.entry(401, "supportVectorClassifier"),
          Map.entry(402, "treeEnsembleClassifier"),
          Map.entry(403, "neuralNetworkClassifier"),
          Map.entry(404, "kNearestNeighborsClassifier"),
          Map.entry(500, "neuralNetwork"),
          Map.entry(501, "itemSimilarityRecommender"),
          Map.entry(502, "mlProgram"),
          Map.entry(555, "customModel"),
          Map.entry(556, "linkedModel"),
          Map.entry(560, "classConfidenceThresholding"),
          Map.entry(600, "oneHotEncoder"),
          Map.entry(601, "imputer"),
          Map.entry(602, "featureVectorizer"),
          Map.entry(603, "dictVectorizer"),
          Map.entry(604, "scaler"),
          Map.entry(606, "categoricalMapping"),
          Map.entry(607, "normalizer"),
          Map.entry(609, "arrayFeatureExtractor"),
          Map.entry(610, "nonMaximumSuppression"),
          Map.entry(900, "identity"),
          Map.entry(2000, "textClassifier"),
          Map.entry(2001, "wordTagger"),
          Map.entry(2002, "visionFeaturePrint"),
          Map.entry(2003, "soundAnalysisPreprocessing"),
          Map.entry(2004, "gazetteer"),
          Map.entry(2005, "wordEmbedding"),
          Map.entry(2006, "audioFeaturePrint"),
          Map.entry(3000, "serializedModel"));

  /** CoreML's layer types by field number of {@code NeuralNetworkLayer.layer}. */
  private static final Map<Integer, String> LAYER_TYPES =
      Map.<Integer, String>ofEntries(
          Map.entry(100, "convolution"),
          Map.entry(120, "pooling"),
          Map.entry(130, "activation"),
          Map.entry(140, "innerProduct"),
          Map.entry(150, "embedding"),
          Map.entry(160, "batchnorm"),
          Map.entry(165, "mvn"),
          Map.entry(170, "l2normalize"),
          Map.entry(175, "softmax"),
          Map.entry(180, "lrn"),
          Map.entry(190, "crop"),
          Map.entry(200, "padding"),
          Map.entry(210, "upsample"),
          Map.entry(211, "resizeBilinear"),
          Map.entry(212, "cropResize"),
          Map.entry(220, "unary"),
          Map.entry(230, "add"),
          Map.entry(231, "multiply"),
          Map.entry(240, "average"),
          Map.entry(245, "scale"),
          Map.entry(250, "bias"),
          Map.entry(260, "max"),
          Map.entry(261, "min"),
          Map.entry(270, "dot"),
          Map.entry(280, "reduce"),
          Map.entry(290, "loadConstant"),
          Map.entry(300, "reshape"),
          Map.entry(301, "flatten"),
          Map.entry(310, "permute"),
          Map.entry(320, "concat"),
          Map.entry(330, "split"),
          Map.entry(340, "sequenceRepeat"),
          Map.entry(345, "reorganizeData"),
          Map.entry(350, "slice"),
          Map.entry(400, "simpleRecurrent"),
          Map.entry(410, "gru"),
          Map.entry(420, "uniDirectionalLSTM"),
          Map.entry(430, "biDirectionalLSTM"),
          Map.entry(500, "custom"),
          Map.entry(600, "copy"),
          Map.entry(605, "branch"),
          Map.entry(615, "loop"),
          Map.entry(620, "loopBreak"),
          Map.entry(625, "loopContinue"),
          Map.entry(635, "rangeStatic"),
          Map.entry(640, "rangeDynamic"),
          Map.entry(660, "clip"),
          Map.entry(665, "ceil"),
          Map.entry(670, "floor"),
          Map.entry(680, "sign"),
          Map.entry(685, "round"),
          Map.entry(700, "exp2"),
          Map.entry(710, "sin"),
          Map.entry(715, "cos"),
          Map.entry(720, "tan"),
          Map.entry(730, "asin"),
          Map.entry(735, "acos"),
          Map.entry(740, "atan"),
          Map.entry(750, "sinh"),
          Map.entry(755, "cosh"),
          Map.entry(760, "tanh"),
          Map.entry(770, "asinh"),
          Map.entry(775, "acosh"),
          Map.entry(780, "atanh"),
          Map.entry(790, "erf"),
          Map.entry(795, "gelu"),
          Map.entry(815, "equal"),
          Map.entry(820, "notEqual"),
          Map.entry(825, "lessThan"),
          Map.entry(827, "lessEqual"),
          Map.entry(830, "greaterThan"),
          Map.entry(832, "greaterEqual"),
          Map.entry(840, "logicalOr"),
          Map.entry(845, "logicalXor"),
          Map.entry(850, "logicalNot"),
          Map.entry(855, "logicalAnd"),
          Map.entry(865, "modBroadcastable"),
          Map.entry(870, "minBroadcastable"),
          Map.entry(875, "maxBroadcastable"),
          Map.entry(880, "addBroadcastable"),
          Map.entry(885, "powBroadcastable"),
          Map.entry(890, "divideBroadcastable"),
          Map.entry(895, "floorDivBroadcastable"),
          Map.entry(900, "multiplyBroadcastable"),
          Map.entry(905, "subtractBroadcastable"),
          Map.entry(920, "tile"),
          Map.entry(925, "stack"),
          Map.entry(930, "gather"),
          Map.entry(935, "scatter"),
          Map.entry(940, "gatherND"),
          Map.entry(945, "scatterND"),
          Map.entry(950, "softmaxND"),
          Map.entry(952, "gatherAlongAxis"),
          Map.entry(954, "scatterAlongAxis"),
          Map.entry(960, "reverse"),
          Map.entry(965, "reverseSeq"),
          Map.entry(975, "splitND"),
          Map.entry(980, "concatND"),
          Map.entry(985, "transpose"),
          Map.entry(995, "sliceStatic"),
          Map.entry(1000, "sliceDynamic"),
          Map.entry(1005, "slidingWindows"),
          Map.entry(1015, "topK"),
          Map.entry(1020, "argMin"),
          Map.entry(1025, "argMax"),
          Map.entry(1040, "embeddingND"),
          Map.entry(1045, "batchedMatmul"),
          Map.entry(1065, "getShape"),
          Map.entry(1070, "loadConstantND"),
          Map.entry(1080, "fillLike"),
          Map.entry(1085, "fillStatic"),
          Map.entry(1090, "fillDynamic"),
          Map.entry(1100, "broadcastToLike"),
          Map.entry(1105, "broadcastToStatic"),
          Map.entry(1110, "broadcastToDynamic"),
          Map.entry(1120, "squeeze"),
          Map.entry(1125, "expandDims"),
          Map.entry(1130, "flattenTo2D"),
          Map.entry(1135, "reshapeLike"),
          Map.entry(1140, "reshapeStatic"),
          Map.entry(1145, "reshapeDynamic"),
          Map.entry(1150, "rankPreservingReshape"),
          Map.entry(1170, "randomNormalLike"),
          Map.entry(1175, "randomNormalStatic"),
          Map.entry(1180, "randomNormalDynamic"),
          Map.entry(1190, "randomUniformLike"),
          Map.entry(1195, "randomUniformStatic"),
          Map.entry(1200, "randomUniformDynamic"),
          Map.entry(1210, "randomBernoulliLike"),
          Map.entry(1215, "randomBernoulliStatic"),
          Map.entry(1220, "randomBernoulliDynamic"),
          Map.entry(1230, "categoricalDistribution"),
          Map.entry(1250, "reduceL1"),
          Map.entry(1255, "reduceL2"),
          Map.entry(1260, "reduceMax"),
          Map.entry(1265, "reduceMin"),
          Map.entry(1270, "reduceSum"),
          Map.entry(1275, "reduceProd"),
          Map.entry(1280, "reduceMean"),
          Map.entry(1285, "reduceLogSum"),
          Map.entry(1290, "reduceSumSquare"),
          Map.entry(1295, "reduceLogSumExp"),
          Map.entry(1313, "whereNonZero"),
          Map.entry(1315, "matrixBandPart"),
          Map.entry(1320, "lowerTriangular"),
          Map.entry(1325, "upperTriangular"),
          Map.entry(1330, "whereBroadcastable"),
          Map.entry(1350, "layerNormalization"));

  private SpecificationCheck() {}

  /** Returns the name of a model's type, whether Hangar declares it or not. */
  static String modelTypeName(Model model) {
    if (model.getTypeCase() != Model.TypeCase.TYPE_NOT_SET) {
      return MODEL_TYPES.getOrDefault(
          model.getTypeCase().getNumber(),
          model.getTypeCase().name().toLowerCase(java.util.Locale.ROOT));
    }
    for (int number : model.getUnknownFields().asMap().keySet()) {
      if (number >= 200) {
        return MODEL_TYPES.getOrDefault(number, "unknown model type (field " + number + ")");
      }
    }
    return "model without a type";
  }

  /** Returns the name of a layer's type, whether Hangar declares it or not. */
  static String layerTypeName(NeuralNetworkLayer layer) {
    if (layer.getLayerCase() != NeuralNetworkLayer.LayerCase.LAYER_NOT_SET) {
      return LAYER_TYPES.getOrDefault(layer.getLayerCase().getNumber(), "?");
    }
    for (int number : layer.getUnknownFields().asMap().keySet()) {
      if (number >= 100) {
        return LAYER_TYPES.getOrDefault(number, "unknown layer type (field " + number + ")");
      }
    }
    return "typeless";
  }

  /**
   * Checks a whole specification for fields Hangar does not know.
   *
   * @throws UnsupportedModelException naming the first one found
   */
  static void check(Model model) {
    walk(model, "model");
  }

  private static void walk(Message message, String path) {
    UnknownFieldSet unknown = message.getUnknownFields();
    if (!unknown.asMap().isEmpty()) {
      refuse(message, path, unknown);
    }
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      FieldDescriptor descriptor = field.getKey();
      if (descriptor.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (descriptor.isRepeated()) {
        List<?> values = (List<?>) field.getValue();
        for (int i = 0; i < values.size(); i++) {
          if (values.get(i) instanceof Message element) {
            walk(element, path + "." + descriptor.getName() + "[" + label(element, i) + "]");
          }
        }
      } else {
        walk((Message) field.getValue(), path + "." + descriptor.getName());
      }
    }
  }

  private static String label(Message element, int index) {
    if (element instanceof NeuralNetworkLayer layer && !layer.getName().isEmpty()) {
      return "'" + layer.getName() + "'";
    }
    return Integer.toString(index);
  }

  private static void refuse(Message message, String path, UnknownFieldSet unknown) {
    int number = unknown.asMap().keySet().iterator().next();
    if (message instanceof Model model && model.getTypeCase() == Model.TypeCase.TYPE_NOT_SET) {
      throw new UnsupportedModelException(
          "the model ("
              + path
              + ") is a "
              + modelTypeName(model)
              + ", which Hangar's CoreML backend does not support. "
              + CoreMlCompiler.SUPPORTED_MODELS);
    }
    if (message instanceof NeuralNetworkLayer layer
        && layer.getLayerCase() == NeuralNetworkLayer.LayerCase.LAYER_NOT_SET) {
      throw new UnsupportedModelException(
          "layer '"
              + layer.getName()
              + "' is a "
              + layerTypeName(layer)
              + " layer, which Hangar's CoreML compiler does not support. Supported layers: "
              + LayerTranslator.SUPPORTED_LAYERS);
    }
    throw new UnsupportedModelException(
        path
            + " ("
            + message.getDescriptorForType().getName()
            + ") sets field "
            + number
            + ", which Hangar's CoreML schema does not know; Hangar refuses the model rather"
            + " than ignore a setting that may change its results");
  }
}
