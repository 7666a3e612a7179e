package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.Reference.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.coreml.Reference.Tensor4;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationLinear;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.ArrayDataType;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureDescription;
import dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType;
import dev.hangar.backend.coreml.proto.CoreMlProto.ImageFeatureType.ColorSpace;
import dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.Int64Vector;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetwork;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkClassifier;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkImageScaler;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkImageShapeMapping;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkMeanImage;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkMultiArrayShapeMapping;
import dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkPreprocessing;
import dev.hangar.backend.coreml.proto.CoreMlProto.SizeRange;
import dev.hangar.backend.coreml.proto.CoreMlProto.SoftmaxLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.StringVector;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Neural-network inputs and outputs: image inputs and their preprocessing, array data types,
 * flexible shapes, the exact (rank-N) shape mapping and its batching analysis, and classifiers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NeuralNetworkInputsTest {
  @TempDir static Path directory;
  private Runner runner;

  @BeforeAll
  void createRunner() {
    runner = new Runner(directory);
  }

  /** A layer passing its input through unchanged (linear activation, alpha 1). */
  private static NeuralNetworkLayer.Builder passThrough(String input, String output) {
    return Specs.layer("pass", input, output)
        .setActivation(
            ActivationParams.newBuilder().setLinear(ActivationLinear.newBuilder().setAlpha(1f)));
  }

  // ------------------------------------------------------------------------------------------
  // images

  /** Pixels of an [N, H, W, C] RGB (or gray) image: a distinct byte per position. */
  private static byte[] pixels(int n, int h, int w, int c) {
    byte[] pixels = new byte[n * h * w * c];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) ((i * 37 + 11) % 256);
    }
    return pixels;
  }

  private static Tensor image(String name, int n, int h, int w, int c, byte[] pixels) {
    return Tensor.of(name, DataType.UINT8, new long[] {n, h, w, c}, ByteBuffer.wrap(pixels));
  }

  @ParameterizedTest
  @EnumSource(
      value = ColorSpace.class,
      names = {"RGB", "BGR", "GRAYSCALE"})
  void imageInputIsScaledAndBiasedPerChannelInTheNetworksColorOrder(ColorSpace space) {
    int n = 2;
    int h = 2;
    int w = 3;
    int c = space == ColorSpace.GRAYSCALE ? 1 : 3;
    NeuralNetworkImageScaler scaler =
        NeuralNetworkImageScaler.newBuilder()
            .setChannelScale(1 / 255f)
            .setRedBias(-0.1f)
            .setGreenBias(-0.2f)
            .setBlueBias(-0.3f)
            .setGrayBias(-0.5f)
            .build();
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(
                    List.of(Specs.image("photo", space, h, w)),
                    List.of(Specs.floats("y", c, h, w))))
            .setNeuralNetwork(
                NeuralNetwork.newBuilder()
                    .addLayers(passThrough("photo", "y"))
                    .addPreprocessing(
                        NeuralNetworkPreprocessing.newBuilder()
                            .setFeatureName("photo")
                            .setScaler(scaler)))
            .build();
    byte[] pixels = pixels(n, h, w, c);
    float[] expected = new float[n * c * h * w];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        // the network's channel ch holds which RGB channel, with which bias
        int source;
        float bias;
        if (space == ColorSpace.GRAYSCALE) {
          source = 0;
          bias = -0.5f;
        } else if (space == ColorSpace.BGR) {
          source = 2 - ch;
          bias = new float[] {-0.3f, -0.2f, -0.1f}[ch];
        } else {
          source = ch;
          bias = new float[] {-0.1f, -0.2f, -0.3f}[ch];
        }
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < w; j++) {
            int pixel = pixels[((b * h + i) * w + j) * c + source] & 0xFF;
            expected[((b * c + ch) * h + i) * w + j] = pixel / 255f + bias;
          }
        }
      }
    }
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().inputs())
          .containsExactly(new TensorSpec("photo", DataType.UINT8, new long[] {-1, h, w, c}));
      float[] y = loaded.infer(List.of(image("photo", n, h, w, c, pixels))).get(0).toFloatArray();
      assertClose(y, expected, 1e-6);
    }
  }

  @Test
  void meanImageIsSubtracted() {
    int h = 2;
    int w = 2;
    float[] mean = Specs.random(3 * h * w, 80);
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(
                    List.of(Specs.image("photo", ColorSpace.RGB, h, w)),
                    List.of(Specs.floats("y", 3, h, w))))
            .setNeuralNetwork(
                NeuralNetwork.newBuilder()
                    .addLayers(passThrough("photo", "y"))
                    .addPreprocessing(
                        NeuralNetworkPreprocessing.newBuilder()
                            .setFeatureName("photo")
                            .setMeanImage(
                                NeuralNetworkMeanImage.newBuilder()
                                    .addAllMeanImage(
                                        java.util.stream.IntStream.range(0, mean.length)
                                            .mapToObj(i -> mean[i])
                                            .toList()))))
            .build();
    byte[] pixels = pixels(1, h, w, 3);
    float[] expected = new float[3 * h * w];
    for (int ch = 0; ch < 3; ch++) {
      for (int i = 0; i < h * w; i++) {
        expected[ch * h * w + i] = (pixels[i * 3 + ch] & 0xFF) - mean[ch * h * w + i];
      }
    }
    float[] y = runner.runFloats(model, image("photo", 1, h, w, 3, pixels));
    assertClose(y, expected, 1e-4);
  }

  @Test
  void flexibleImageSizesBecomeFreeDimensions() {
    FeatureDescription photo =
        Specs.feature(
            "photo",
            FeatureType.newBuilder()
                .setImageType(
                    ImageFeatureType.newBuilder()
                        .setColorSpace(ColorSpace.GRAYSCALE)
                        .setWidth(4)
                        .setHeight(4)
                        .setImageSizeRange(
                            ImageFeatureType.ImageSizeRange.newBuilder()
                                .setHeightRange(
                                    SizeRange.newBuilder().setLowerBound(4).setUpperBound(4))
                                .setWidthRange(
                                    SizeRange.newBuilder().setLowerBound(1).setUpperBound(-1))))
                .build());
    Model model =
        Specs.network(List.of(photo), List.of(Specs.floats("y")), passThrough("photo", "y"));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().inputs().get(0).shape()).containsExactly(-1, 4, -1, 1);
      byte[] pixels = pixels(1, 4, 7, 1);
      Tensor y = loaded.infer(List.of(image("photo", 1, 4, 7, 1, pixels))).get(0);
      assertThat(y.shape()).containsExactly(1, 1, 4, 7);
      assertThat(y.toFloatArray()[5]).isEqualTo(pixels[5] & 0xFF);
    }
  }

  @Test
  void preprocessingForAFeatureThatIsNoImageInputIsRefused() {
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(List.of(Specs.floats("x", 3)), List.of(Specs.floats("y", 3))))
            .setNeuralNetwork(
                NeuralNetwork.newBuilder()
                    .addLayers(passThrough("x", "y"))
                    .addPreprocessing(
                        NeuralNetworkPreprocessing.newBuilder()
                            .setFeatureName("image")
                            .setScaler(NeuralNetworkImageScaler.newBuilder().setChannelScale(2))))
            .build();
    assertThatThrownBy(() -> runner.load(model))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("preprocessing for feature 'image'");
  }

  // ------------------------------------------------------------------------------------------
  // array types and shapes

  @Test
  void doubleAndInt32ArraysAreCastForTheNetworkAndOutputsToTheirDeclaredType() {
    Model model =
        Specs.network(
            List.of(
                Specs.array("d", ArrayDataType.DOUBLE, 2),
                Specs.array("i", ArrayDataType.INT32, 2)),
            List.of(
                Specs.array("sum", ArrayDataType.DOUBLE, 2),
                Specs.array("copy", ArrayDataType.INT32, 2)),
            Specs.layer("add", List.of("d", "i"), "sum")
                .setAdd(
                    dev.hangar.backend.coreml.proto.CoreMlProto.AddLayerParams
                        .getDefaultInstance()),
            passThrough("i", "copy"));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(
                      new TensorSpec("d", DataType.FP64, new long[] {-1, 2}),
                      new TensorSpec("i", DataType.INT32, new long[] {-1, 2})),
                  List.of(
                      new TensorSpec("sum", DataType.FP64, new long[] {-1, 2}),
                      new TensorSpec("copy", DataType.INT32, new long[] {-1, 2})),
                  true));
      List<Tensor> outputs =
          loaded.infer(
              List.of(
                  Tensor.ofDoubles("d", new long[] {1, 2}, 0.5, -1.25),
                  Tensor.ofInts("i", new long[] {1, 2}, 3, -7)));
      assertThat(outputs.get(0).toDoubleArray()).containsExactly(3.5, -8.25);
      assertThat(outputs.get(1).toLongArray()).containsExactly(3, -7);
    }
  }

  @Test
  void enumeratedShapesAndRangesGiveFreeDimensionsWhereSizesDiffer() {
    ArrayFeatureType.Builder enumerated =
        ArrayFeatureType.newBuilder()
            .setDataType(ArrayDataType.FLOAT32)
            .addShape(2)
            .addShape(1)
            .addShape(3)
            .setEnumeratedShapes(
                ArrayFeatureType.EnumeratedShapes.newBuilder()
                    .addShapes(
                        ArrayFeatureType.Shape.newBuilder().addShape(2).addShape(1).addShape(3))
                    .addShapes(
                        ArrayFeatureType.Shape.newBuilder().addShape(2).addShape(1).addShape(5)));
    Model model =
        Specs.network(
            List.of(
                Specs.feature("x", FeatureType.newBuilder().setMultiArrayType(enumerated).build())),
            List.of(Specs.floats("y")),
            Specs.layer("softmax", "x", "y").setSoftmax(SoftmaxLayerParams.getDefaultInstance()));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().inputs().get(0).shape()).containsExactly(-1, 2, 1, -1);
      Tensor4 x = new Tensor4(1, 2, 1, 5, Specs.random(10, 81));
      Tensor y = loaded.infer(List.of(Tensor.ofFloats("x", x.shape(), x.data()))).get(0);
      assertClose(y.toFloatArray(), Reference.softmaxChannels(x).data(), 1e-6);
    }
  }

  // ------------------------------------------------------------------------------------------
  // exact (rank-N) shapes: specification 4

  private static Model exactNetwork(
      FeatureDescription input, FeatureDescription output, NeuralNetworkLayer.Builder layer) {
    return Model.newBuilder()
        .setSpecificationVersion(4)
        .setDescription(Specs.description(List.of(input), List.of(output)))
        .setNeuralNetwork(
            NeuralNetwork.newBuilder()
                .setArrayInputShapeMapping(NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING)
                .setImageInputShapeMapping(NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING)
                .addLayers(layer))
        .build();
  }

  private static NeuralNetworkLayer.Builder dense(
      String input, String output, float[] weights, int in, int out) {
    return Specs.layer("dense", input, output)
        .setInnerProduct(
            InnerProductLayerParams.newBuilder()
                .setInputChannels(in)
                .setOutputChannels(out)
                .setWeights(Specs.weights(weights)));
  }

  @Test
  void exactShapesWithABatchOfOneAreServedBatched() {
    float[] weights = Specs.random(3 * 4, 90);
    Model model =
        exactNetwork(
            Specs.floats("x", 1, 4), Specs.floats("y", 1, 3), dense("x", "y", weights, 4, 3));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 4})),
                  List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 3})),
                  true));
      float[] x = Specs.random(5 * 4, 91);
      float[] y =
          loaded.infer(List.of(Tensor.ofFloats("x", new long[] {5, 4}, x))).get(0).toFloatArray();
      assertClose(y, Reference.dense(x, 5, 4, weights, null, 3), 1e-5);
    }
  }

  @Test
  void exactShapesWhereALayerMixesDimensionZeroStayUnbatched() {
    // rank 3: softmax over axis -3 is over dimension 0, so rows along it are not independent
    Model model =
        exactNetwork(
            Specs.floats("x", 1, 2, 2),
            Specs.floats("y", 1, 2, 2),
            Specs.layer("softmax", "x", "y").setSoftmax(SoftmaxLayerParams.getDefaultInstance()));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("x", DataType.FP32, new long[] {1, 2, 2})),
                  List.of(new TensorSpec("y", DataType.FP32, new long[] {1, 2, 2})),
                  false));
      float[] y =
          loaded
              .infer(List.of(Tensor.ofFloats("x", new long[] {1, 2, 2}, 1, 2, 3, 4)))
              .get(0)
              .toFloatArray();
      assertClose(y, new float[] {1, 1, 1, 1}, 1e-6);
    }
    // a rank-4 input keeps dimension 0 out of the softmax: batched
    Model rank4 =
        exactNetwork(
            Specs.floats("x", 1, 3, 1, 2),
            Specs.floats("y", 1, 3, 1, 2),
            Specs.layer("softmax", "x", "y").setSoftmax(SoftmaxLayerParams.getDefaultInstance()));
    try (LoadedModel loaded = runner.load(rank4)) {
      assertThat(loaded.signature().batched()).isTrue();
      Tensor4 x = new Tensor4(4, 3, 1, 2, Specs.random(24, 92));
      float[] y =
          loaded.infer(List.of(Tensor.ofFloats("x", x.shape(), x.data()))).get(0).toFloatArray();
      assertClose(y, Reference.softmaxChannels(x).data(), 1e-6);
    }
  }

  @Test
  void exactShapesWithAFixedDimensionZeroAboveOneStayAsDeclared() {
    float[] weights = Specs.random(3 * 4, 93);
    Model model =
        exactNetwork(
            Specs.floats("x", 2, 4), Specs.floats("y", 2, 3), dense("x", "y", weights, 4, 3));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().batched()).isFalse();
      assertThat(loaded.signature().inputs().get(0).shape()).containsExactly(2, 4);
      float[] x = Specs.random(8, 94);
      float[] y =
          loaded.infer(List.of(Tensor.ofFloats("x", new long[] {2, 4}, x))).get(0).toFloatArray();
      assertClose(y, Reference.dense(x, 2, 4, weights, null, 3), 1e-5);
    }
  }

  @Test
  void exactNetworkOnARank4ImageIsBatchedThroughConvolutionPoolingAndFlatten() {
    int h = 4;
    int w = 4;
    float[] weights = Specs.random(2 * 3 * 3 * 3, 100);
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(4)
            .setDescription(
                Specs.description(
                    List.of(Specs.image("photo", ColorSpace.RGB, h, w)),
                    List.of(Specs.floats("y", 1, 8, 1, 1))))
            .setNeuralNetwork(
                NeuralNetwork.newBuilder()
                    .setArrayInputShapeMapping(
                        NeuralNetworkMultiArrayShapeMapping.EXACT_ARRAY_MAPPING)
                    .setImageInputShapeMapping(NeuralNetworkImageShapeMapping.RANK4_IMAGE_MAPPING)
                    .addLayers(
                        Specs.layer("conv", "photo", "conv")
                            .setConvolution(
                                dev.hangar.backend.coreml.proto.CoreMlProto.ConvolutionLayerParams
                                    .newBuilder()
                                    .setOutputChannels(2)
                                    .setKernelChannels(3)
                                    .setSame(
                                        dev.hangar.backend.coreml.proto.CoreMlProto.SamePadding
                                            .getDefaultInstance())
                                    .setWeights(Specs.weights(weights))))
                    .addLayers(
                        Specs.layer("pool", "conv", "pool")
                            .setPooling(
                                dev.hangar.backend.coreml.proto.CoreMlProto.PoolingLayerParams
                                    .newBuilder()
                                    .addKernelSize(2)
                                    .addKernelSize(2)
                                    .addStride(2)
                                    .addStride(2)))
                    .addLayers(
                        Specs.layer("flatten", "pool", "y")
                            .setFlatten(
                                dev.hangar.backend.coreml.proto.CoreMlProto.FlattenLayerParams
                                    .getDefaultInstance())))
            .build();
    int n = 3;
    byte[] pixels = pixels(n, h, w, 3);
    float[] nchw = new float[n * 3 * h * w];
    for (int b = 0; b < n; b++) {
      for (int c = 0; c < 3; c++) {
        for (int i = 0; i < h * w; i++) {
          nchw[(b * 3 + c) * h * w + i] = pixels[(b * h * w + i) * 3 + c] & 0xFF;
        }
      }
    }
    Tensor4 x = new Tensor4(n, 3, h, w, nchw);
    Tensor4 conv =
        Reference.convolution(
            x, weights, null, 2, 3, 3, 1, 1, 1, 1, 1, Reference.same(h, w, 3, 3, 1, 1, false));
    Tensor4 pooled =
        Reference.pool(
            conv, true, 2, 2, 2, 2, Reference.valid(h, w, 2, 2, 2, 2, 0, 0, 0, 0), false);
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("photo", DataType.UINT8, new long[] {-1, h, w, 3})),
                  List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 8, 1, 1})),
                  true));
      Tensor y = loaded.infer(List.of(image("photo", n, h, w, 3, pixels))).get(0);
      assertThat(y.shape()).containsExactly(n, 8, 1, 1);
      assertClose(y.toFloatArray(), pooled.data(), 1e-3);
    }
  }

  @Test
  void exactShapesAreRefusedInsideAPipeline() {
    Model network =
        exactNetwork(
            Specs.floats("x", 1, 4),
            Specs.floats("y", 1, 3),
            dense("x", "y", Specs.random(12, 95), 4, 3));
    Model pipeline =
        Model.newBuilder()
            .setSpecificationVersion(4)
            .setDescription(network.getDescription())
            .setPipeline(
                dev.hangar.backend.coreml.proto.CoreMlProto.Pipeline.newBuilder()
                    .addModels(network))
            .build();
    assertThatThrownBy(() -> runner.load(pipeline))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("EXACT_ARRAY_MAPPING")
        .hasMessageContaining("top-level");
  }

  // ------------------------------------------------------------------------------------------
  // classifiers

  @Test
  void neuralNetworkClassifierGivesTheLabelAndTheProbabilities() {
    float[] weights = Specs.random(3 * 4, 96);
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(
                        List.of(Specs.floats("x", 4)),
                        List.of(Specs.string("label"), Specs.dictionary("probabilities", true)))
                    .toBuilder()
                    .setPredictedFeatureName("label")
                    .setPredictedProbabilitiesName("probabilities"))
            .setNeuralNetworkClassifier(
                NeuralNetworkClassifier.newBuilder()
                    .addLayers(dense("x", "scores", weights, 4, 3))
                    .addLayers(
                        Specs.layer("softmax", "scores", "probs")
                            .setSoftmax(SoftmaxLayerParams.getDefaultInstance()))
                    .setStringClassLabels(
                        StringVector.newBuilder()
                            .addVector("cat")
                            .addVector("dog")
                            .addVector("eel"))
                    .setLabelProbabilityLayerName("probs"))
            .build();
    float[] x = Specs.random(6 * 4, 97);
    float[] scores = Reference.dense(x, 6, 4, weights, null, 3);
    float[] probabilities = new float[scores.length];
    String[] labels = new String[6];
    for (int n = 0; n < 6; n++) {
      Tensor4 row = new Tensor4(1, 3, 1, 1, java.util.Arrays.copyOfRange(scores, n * 3, n * 3 + 3));
      float[] p = Reference.softmaxChannels(row).data();
      System.arraycopy(p, 0, probabilities, n * 3, 3);
      int best = p[0] >= p[1] && p[0] >= p[2] ? 0 : p[1] >= p[2] ? 1 : 2;
      labels[n] = new String[] {"cat", "dog", "eel"}[best];
    }
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature())
          .isEqualTo(
              new ModelSignature(
                  List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 4})),
                  List.of(
                      new TensorSpec("label", DataType.BYTES, new long[] {-1}),
                      new TensorSpec("probabilities", DataType.FP32, new long[] {-1, 3})),
                  true));
      List<Tensor> outputs = loaded.infer(List.of(Tensor.ofFloats("x", new long[] {6, 4}, x)));
      assertThat(outputs.get(0).toStringList()).containsExactly(labels);
      assertClose(outputs.get(1).toFloatArray(), probabilities, 1e-6);
    }
  }

  @Test
  void neuralNetworkClassifierWithIntegerLabelsAndTheLastLayerAsProbabilities() {
    Model model =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(List.of(Specs.floats("x", 3)), List.of(Specs.int64("class")))
                    .toBuilder()
                    .setPredictedFeatureName("class"))
            .setNeuralNetworkClassifier(
                NeuralNetworkClassifier.newBuilder()
                    .addLayers(passThrough("x", "scores"))
                    .setInt64ClassLabels(
                        Int64Vector.newBuilder().addVector(10).addVector(20).addVector(30)))
            .build();
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().outputs())
          .containsExactly(new TensorSpec("class", DataType.INT64, new long[] {-1}));
      Tensor label =
          loaded
              .infer(List.of(Tensor.ofFloats("x", new long[] {3, 3}, 0, 5, 1, 9, 2, 3, -1, -2, -3)))
              .get(0);
      assertThat(label.toLongArray()).containsExactly(20, 10, 10);
    }
  }

  @Test
  void rank5NetworksOfSpecificationFourLoadToo() {
    float[] weights = Specs.random(2 * 3, 98);
    Model model =
        Specs.network(
                List.of(Specs.floats("x", 3)),
                List.of(Specs.floats("y", 2)),
                dense("x", "y", weights, 3, 2))
            .toBuilder()
            .setSpecificationVersion(4)
            .build();
    float[] x = Specs.random(3, 99);
    assertClose(
        runner.runFloats(model, Tensor.ofFloats("x", new long[] {1, 3}, x)),
        Reference.dense(x, 1, 3, weights, null, 2),
        1e-5);
  }

  @Test
  void aShapeOutsideTheRank5ConventionIsRefusedNamingTheInput() {
    Model model =
        Specs.network(
            List.of(Specs.floats("x", 2, 3)), List.of(Specs.floats("y")), passThrough("x", "y"));
    assertThatThrownBy(() -> runner.load(model))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("input 'x'")
        .hasMessageContaining("[C] or [C, H, W]")
        .satisfies(
            e ->
                assertThat(((ModelLoadException) e).category())
                    .isEqualTo(ErrorCategory.USER_ERROR));
  }
}
