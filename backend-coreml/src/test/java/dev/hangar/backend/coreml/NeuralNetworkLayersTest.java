package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.Reference.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.coreml.Reference.Tensor4;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationELU;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationLeakyReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationLinear;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationPReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParametricSoftplus;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationScaledTanh;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationSigmoid;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationSigmoidHard;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationSoftplus;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationSoftsign;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationTanh;
import dev.hangar.backend.coreml.proto.CoreMlProto.ActivationThresholdedReLU;
import dev.hangar.backend.coreml.proto.CoreMlProto.AddLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.AverageLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.BatchnormLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.BiasLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.BorderAmounts;
import dev.hangar.backend.coreml.proto.CoreMlProto.ConcatLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.EmbeddingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.FlattenLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.InnerProductLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.LoadConstantLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.MaxLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.MinLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.MultiplyLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.PaddingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.PermuteLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ReshapeLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.ScaleLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.SoftmaxLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.UnaryFunctionLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.UnaryFunctionLayerParams.Operation;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every supported neural-network layer other than convolution and pooling, in rank-5 networks
 * (inputs {@code [C]} or {@code [C, H, W]} served as {@code [N, C]} or {@code [N, C, H, W]}), with
 * expected outputs computed here by hand or by plain loops.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NeuralNetworkLayersTest {
  @TempDir static Path directory;
  private Runner runner;

  @BeforeAll
  void createRunner() {
    runner = new Runner(directory);
  }

  private float[] run(Model model, String input, long[] shape, float[] values) {
    return runner.runFloats(model, Tensor.ofFloats(input, shape, values));
  }

  /** A network of one layer reading x of shape {@code chw} and writing y of shape {@code out}. */
  private static Model oneLayer(
      long[] chw,
      long[] out,
      dev.hangar.backend.coreml.proto.CoreMlProto.NeuralNetworkLayer.Builder layer) {
    return Specs.network(List.of(Specs.floats("x", chw)), List.of(Specs.floats("y", out)), layer);
  }

  // ------------------------------------------------------------------------------------------

  @Test
  void innerProductOnAVector() {
    float[] weights = Specs.random(3 * 5, 10);
    float[] bias = Specs.random(3, 11);
    float[] x = Specs.random(2 * 5, 12);
    Model model =
        oneLayer(
            new long[] {5},
            new long[] {3},
            Specs.layer("dense", "x", "y")
                .setInnerProduct(
                    InnerProductLayerParams.newBuilder()
                        .setInputChannels(5)
                        .setOutputChannels(3)
                        .setHasBias(true)
                        .setWeights(Specs.weights(weights))
                        .setBias(Specs.weights(bias))));
    assertClose(
        run(model, "x", new long[] {2, 5}, x), Reference.dense(x, 2, 5, weights, bias, 3), 1e-5);
  }

  @Test
  void innerProductFlattensChannelsHeightAndWidthAndMayOmitTheBias() {
    float[] weights = Specs.random(3 * 8, 13);
    float[] x = Specs.random(2 * 8, 14);
    Model model =
        oneLayer(
            new long[] {2, 2, 2},
            new long[] {3},
            Specs.layer("dense", "x", "y")
                .setInnerProduct(
                    InnerProductLayerParams.newBuilder()
                        .setInputChannels(8)
                        .setOutputChannels(3)
                        .setWeights(Specs.weights(weights))));
    assertClose(
        run(model, "x", new long[] {2, 2, 2, 2}, x),
        Reference.dense(x, 2, 8, weights, null, 3),
        1e-5);
  }

  // ------------------------------------------------------------------------------------------

  static Stream<Arguments> activations() {
    return Stream.of(
        Arguments.of(
            "ReLU",
            ActivationParams.newBuilder().setReLU(ActivationReLU.getDefaultInstance()),
            (DoubleUnaryOperator) v -> Math.max(0, v)),
        Arguments.of(
            "leaky ReLU",
            ActivationParams.newBuilder()
                .setLeakyReLU(ActivationLeakyReLU.newBuilder().setAlpha(0.1f)),
            (DoubleUnaryOperator) v -> v >= 0 ? v : 0.1 * v),
        Arguments.of(
            "thresholded ReLU",
            ActivationParams.newBuilder()
                .setThresholdedReLU(ActivationThresholdedReLU.newBuilder().setAlpha(0.5f)),
            (DoubleUnaryOperator) v -> v >= 0.5 ? v : 0),
        Arguments.of(
            "tanh",
            ActivationParams.newBuilder().setTanh(ActivationTanh.getDefaultInstance()),
            (DoubleUnaryOperator) Math::tanh),
        Arguments.of(
            "scaled tanh",
            ActivationParams.newBuilder()
                .setScaledTanh(ActivationScaledTanh.newBuilder().setAlpha(1.7f).setBeta(0.66f)),
            (DoubleUnaryOperator) v -> 1.7 * Math.tanh(0.66 * v)),
        Arguments.of(
            "sigmoid",
            ActivationParams.newBuilder().setSigmoid(ActivationSigmoid.getDefaultInstance()),
            (DoubleUnaryOperator) v -> 1 / (1 + Math.exp(-v))),
        Arguments.of(
            "hard sigmoid",
            ActivationParams.newBuilder()
                .setSigmoidHard(ActivationSigmoidHard.newBuilder().setAlpha(0.2f).setBeta(0.5f)),
            (DoubleUnaryOperator) v -> Math.min(Math.max(0.2 * v + 0.5, 0), 1)),
        Arguments.of(
            "linear",
            ActivationParams.newBuilder()
                .setLinear(ActivationLinear.newBuilder().setAlpha(2f).setBeta(-1f)),
            (DoubleUnaryOperator) v -> 2 * v - 1),
        Arguments.of(
            "ELU",
            ActivationParams.newBuilder().setELU(ActivationELU.newBuilder().setAlpha(0.7f)),
            (DoubleUnaryOperator) v -> v >= 0 ? v : 0.7 * (Math.exp(v) - 1)),
        Arguments.of(
            "softsign",
            ActivationParams.newBuilder().setSoftsign(ActivationSoftsign.getDefaultInstance()),
            (DoubleUnaryOperator) v -> v / (1 + Math.abs(v))),
        Arguments.of(
            "softplus",
            ActivationParams.newBuilder().setSoftplus(ActivationSoftplus.getDefaultInstance()),
            (DoubleUnaryOperator) v -> Math.log(1 + Math.exp(v))),
        Arguments.of(
            "PReLU, one alpha",
            ActivationParams.newBuilder()
                .setPReLU(ActivationPReLU.newBuilder().setAlpha(Specs.weights(0.25f))),
            (DoubleUnaryOperator) v -> v >= 0 ? v : 0.25 * v));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("activations")
  void activation(String name, ActivationParams.Builder params, DoubleUnaryOperator function) {
    float[] x = Specs.random(2 * 3 * 2 * 2, 20);
    for (int i = 0; i < x.length; i++) {
      x[i] *= 3;
    }
    x[0] = 0.5f; // the thresholded ReLU keeps a value equal to its threshold
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] = (float) function.applyAsDouble(x[i]);
    }
    Model model =
        oneLayer(
            new long[] {3, 2, 2},
            new long[] {3, 2, 2},
            Specs.layer("act", "x", "y").setActivation(params));
    assertClose(run(model, "x", new long[] {2, 3, 2, 2}, x), expected, 1e-5);
  }

  @Test
  void perChannelPReLUAndParametricSoftplus() {
    float[] x = Specs.random(2 * 3 * 2 * 2, 21);
    float[] alpha = {0.1f, 0.2f, 0.3f};
    float[] beta = {1f, 2f, 0.5f};
    Model prelu =
        oneLayer(
            new long[] {3, 2, 2},
            new long[] {3, 2, 2},
            Specs.layer("prelu", "x", "y")
                .setActivation(
                    ActivationParams.newBuilder()
                        .setPReLU(ActivationPReLU.newBuilder().setAlpha(Specs.weights(alpha)))));
    Model softplus =
        oneLayer(
            new long[] {3, 2, 2},
            new long[] {3, 2, 2},
            Specs.layer("softplus", "x", "y")
                .setActivation(
                    ActivationParams.newBuilder()
                        .setParametricSoftplus(
                            ActivationParametricSoftplus.newBuilder()
                                .setAlpha(Specs.weights(alpha))
                                .setBeta(Specs.weights(beta)))));
    float[] expectedPrelu = new float[x.length];
    float[] expectedSoftplus = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int channel = (i / 4) % 3;
      expectedPrelu[i] = x[i] >= 0 ? x[i] : alpha[channel] * x[i];
      expectedSoftplus[i] = (float) (alpha[channel] * Math.log(1 + Math.exp(beta[channel] * x[i])));
    }
    assertClose(run(prelu, "x", new long[] {2, 3, 2, 2}, x), expectedPrelu, 1e-6);
    assertClose(run(softplus, "x", new long[] {2, 3, 2, 2}, x), expectedSoftplus, 1e-6);
  }

  // ------------------------------------------------------------------------------------------

  @Test
  void softmaxRunsOverChannels() {
    Tensor4 x = new Tensor4(2, 4, 2, 3, Specs.random(2 * 4 * 2 * 3, 30));
    Model model =
        oneLayer(
            new long[] {4, 2, 3},
            new long[] {4, 2, 3},
            Specs.layer("softmax", "x", "y").setSoftmax(SoftmaxLayerParams.getDefaultInstance()));
    assertClose(run(model, "x", x.shape(), x.data()), Reference.softmaxChannels(x).data(), 1e-6);
  }

  @Test
  void batchnormWithStoredStatistics() {
    float[] gamma = {1.5f, 0.5f, 2f};
    float[] beta = {0.1f, -0.2f, 0.3f};
    float[] mean = {0.5f, -0.5f, 0f};
    float[] variance = {2f, 0.25f, 1f};
    float epsilon = 1e-3f;
    float[] x = Specs.random(2 * 3 * 2 * 2, 31);
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = (i / 4) % 3;
      expected[i] =
          (float) (gamma[c] * (x[i] - mean[c]) / Math.sqrt(variance[c] + epsilon) + beta[c]);
    }
    Model model =
        oneLayer(
            new long[] {3, 2, 2},
            new long[] {3, 2, 2},
            Specs.layer("bn", "x", "y")
                .setBatchnorm(
                    BatchnormLayerParams.newBuilder()
                        .setChannels(3)
                        .setEpsilon(epsilon)
                        .setGamma(Specs.weights(gamma))
                        .setBeta(Specs.weights(beta))
                        .setMean(Specs.weights(mean))
                        .setVariance(Specs.weights(variance))));
    assertClose(run(model, "x", new long[] {2, 3, 2, 2}, x), expected, 1e-5);
  }

  @Test
  void batchnormAsInstanceNormalization() {
    float[] gamma = {1.5f, 0.5f};
    float[] beta = {0.1f, -0.2f};
    Tensor4 x = new Tensor4(2, 2, 3, 3, Specs.random(2 * 2 * 3 * 3, 32));
    float[] expected = new float[x.data().length];
    for (int b = 0; b < 2; b++) {
      for (int c = 0; c < 2; c++) {
        double sum = 0;
        double squares = 0;
        for (int i = 0; i < 9; i++) {
          double v = x.get(b, c, i / 3, i % 3);
          sum += v;
          squares += v * v;
        }
        double mean = sum / 9;
        double variance = squares / 9 - mean * mean;
        for (int i = 0; i < 9; i++) {
          expected[(b * 2 + c) * 9 + i] =
              (float)
                  (gamma[c] * (x.get(b, c, i / 3, i % 3) - mean) / Math.sqrt(variance + 1e-5)
                      + beta[c]);
        }
      }
    }
    Model model =
        oneLayer(
            new long[] {2, 3, 3},
            new long[] {2, 3, 3},
            Specs.layer("in", "x", "y")
                .setBatchnorm(
                    BatchnormLayerParams.newBuilder()
                        .setChannels(2)
                        .setComputeMeanVar(true)
                        .setInstanceNormalization(true)
                        .setGamma(Specs.weights(gamma))
                        .setBeta(Specs.weights(beta))));
    assertClose(run(model, "x", x.shape(), x.data()), expected, 1e-5);
  }

  // ------------------------------------------------------------------------------------------

  enum Elementwise {
    ADD,
    MULTIPLY,
    AVERAGE,
    MAX,
    MIN
  }

  @ParameterizedTest
  @EnumSource(Elementwise.class)
  void elementwiseOverTwoInputsBroadcastsChannelVectors(Elementwise kind) {
    // a [C, H, W] input and a [C, 1, 1] input, as CoreML's limited broadcasting allows
    float[] a = Specs.random(2 * 3 * 2 * 2, 40);
    float[] b = Specs.random(2 * 3, 41);
    float[] expected = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      float other = b[i / 4];
      expected[i] =
          switch (kind) {
            case ADD -> a[i] + other;
            case MULTIPLY -> a[i] * other;
            case AVERAGE -> (a[i] + other) / 2;
            case MAX -> Math.max(a[i], other);
            case MIN -> Math.min(a[i], other);
          };
    }
    var layer = Specs.layer("op", List.of("a", "b"), "y");
    switch (kind) {
      case ADD -> layer.setAdd(AddLayerParams.getDefaultInstance());
      case MULTIPLY -> layer.setMultiply(MultiplyLayerParams.getDefaultInstance());
      case AVERAGE -> layer.setAverage(AverageLayerParams.getDefaultInstance());
      case MAX -> layer.setMax(MaxLayerParams.getDefaultInstance());
      case MIN -> layer.setMin(MinLayerParams.getDefaultInstance());
    }
    Model model =
        Specs.network(
            List.of(Specs.floats("a", 3, 2, 2), Specs.floats("b", 3, 1, 1)),
            List.of(Specs.floats("y", 3, 2, 2)),
            layer);
    float[] y =
        runner
            .run(
                model,
                Tensor.ofFloats("a", new long[] {2, 3, 2, 2}, a),
                Tensor.ofFloats("b", new long[] {2, 3, 1, 1}, b))
            .get(0)
            .toFloatArray();
    assertClose(y, expected, 1e-6);
  }

  @Test
  void addAndMultiplyWithOneInputUseAlpha() {
    float[] x = Specs.random(2 * 4, 42);
    Model model =
        Specs.network(
            List.of(Specs.floats("x", 4)),
            List.of(Specs.floats("y", 4)),
            Specs.layer("add", "x", "added").setAdd(AddLayerParams.newBuilder().setAlpha(0.5f)),
            Specs.layer("mul", "added", "y")
                .setMultiply(MultiplyLayerParams.newBuilder().setAlpha(-3f)));
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      expected[i] = (x[i] + 0.5f) * -3f;
    }
    assertClose(run(model, "x", new long[] {2, 4}, x), expected, 1e-6);
  }

  @Test
  void scaleAndBiasLayers() {
    float[] x = Specs.random(2 * 2 * 2 * 3, 43);
    float[] scale = {2f, -1f};
    float[] bias = Specs.random(2 * 2 * 3, 44);
    Model model =
        Specs.network(
            List.of(Specs.floats("x", 2, 2, 3)),
            List.of(Specs.floats("y", 2, 2, 3)),
            Specs.layer("scale", "x", "scaled")
                .setScale(
                    ScaleLayerParams.newBuilder()
                        .addShapeScale(2)
                        .setScale(Specs.weights(scale))
                        .setHasBias(true)
                        .addShapeBias(1)
                        .setBias(Specs.weights(0.25f))),
            Specs.layer("bias", "scaled", "y")
                .setBias(
                    BiasLayerParams.newBuilder()
                        .addShape(2)
                        .addShape(2)
                        .addShape(3)
                        .setBias(Specs.weights(bias))));
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = (i / 6) % 2;
      expected[i] = x[i] * scale[c] + 0.25f + bias[i % 12];
    }
    assertClose(run(model, "x", new long[] {2, 2, 2, 3}, x), expected, 1e-6);
  }

  // ------------------------------------------------------------------------------------------

  @Test
  void concatJoinsChannels() {
    float[] a = Specs.random(2 * 1 * 2 * 2, 50);
    float[] b = Specs.random(2 * 2 * 2 * 2, 51);
    Model model =
        Specs.network(
            List.of(Specs.floats("a", 1, 2, 2), Specs.floats("b", 2, 2, 2)),
            List.of(Specs.floats("y", 3, 2, 2)),
            Specs.layer("concat", List.of("a", "b"), "y")
                .setConcat(ConcatLayerParams.getDefaultInstance()));
    float[] expected = new float[2 * 3 * 4];
    for (int n = 0; n < 2; n++) {
      System.arraycopy(a, n * 4, expected, n * 12, 4);
      System.arraycopy(b, n * 8, expected, n * 12 + 4, 8);
    }
    float[] y =
        runner
            .run(
                model,
                Tensor.ofFloats("a", new long[] {2, 1, 2, 2}, a),
                Tensor.ofFloats("b", new long[] {2, 2, 2, 2}, b))
            .get(0)
            .toFloatArray();
    assertClose(y, expected, 0);
  }

  @ParameterizedTest
  @EnumSource(
      value = FlattenLayerParams.FlattenOrder.class,
      names = {"CHANNEL_FIRST", "CHANNEL_LAST"})
  void flatten(FlattenLayerParams.FlattenOrder order) {
    int c = 2;
    int h = 2;
    int w = 3;
    float[] x = Specs.random(2 * c * h * w, 52);
    Model model =
        oneLayer(
            new long[] {c, h, w},
            new long[] {c * h * w},
            Specs.layer("flatten", "x", "y")
                .setFlatten(FlattenLayerParams.newBuilder().setMode(order)));
    float[] expected = new float[x.length];
    for (int n = 0; n < 2; n++) {
      int k = 0;
      if (order == FlattenLayerParams.FlattenOrder.CHANNEL_FIRST) {
        for (int i = 0; i < c * h * w; i++) {
          expected[n * 12 + k++] = x[n * 12 + i];
        }
      } else {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < w; j++) {
            for (int ch = 0; ch < c; ch++) {
              expected[n * 12 + k++] = x[n * 12 + (ch * h + i) * w + j];
            }
          }
        }
      }
    }
    float[] y = run(model, "x", new long[] {2, c, h, w}, x);
    assertClose(y, expected, 0);
  }

  @ParameterizedTest
  @EnumSource(
      value = ReshapeLayerParams.ReshapeOrder.class,
      names = {"CHANNEL_FIRST", "CHANNEL_LAST"})
  void reshape(ReshapeLayerParams.ReshapeOrder order) {
    // [C, H, W] = [2, 3, 4] to [4, 3, 2]
    float[] x = Specs.random(2 * 24, 53);
    Model model =
        oneLayer(
            new long[] {2, 3, 4},
            new long[] {4, 3, 2},
            Specs.layer("reshape", "x", "y")
                .setReshape(
                    ReshapeLayerParams.newBuilder()
                        .addTargetShape(4)
                        .addTargetShape(3)
                        .addTargetShape(2)
                        .setMode(order)));
    float[] expected = new float[x.length];
    for (int n = 0; n < 2; n++) {
      if (order == ReshapeLayerParams.ReshapeOrder.CHANNEL_FIRST) {
        System.arraycopy(x, n * 24, expected, n * 24, 24);
        continue;
      }
      // flatten in H, W, C order; read as [H', W', C'] = [3, 2, 4]; lay out as [C', H', W']
      float[] flat = new float[24];
      int k = 0;
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
          for (int c = 0; c < 2; c++) {
            flat[k++] = x[n * 24 + (c * 3 + i) * 4 + j];
          }
        }
      }
      for (int c = 0; c < 4; c++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 2; j++) {
            expected[n * 24 + (c * 3 + i) * 2 + j] = flat[(i * 2 + j) * 4 + c];
          }
        }
      }
    }
    assertClose(run(model, "x", new long[] {2, 2, 3, 4}, x), expected, 0);
  }

  @Test
  void permuteMovesChannelsLast() {
    // axis [0, 2, 3, 1]: [Seq, C, H, W] to [Seq, H, W, C]
    float[] x = Specs.random(2 * 24, 54);
    Model model =
        oneLayer(
            new long[] {2, 3, 4},
            new long[] {3, 4, 2},
            Specs.layer("permute", "x", "y")
                .setPermute(
                    PermuteLayerParams.newBuilder().addAxis(0).addAxis(2).addAxis(3).addAxis(1)));
    float[] expected = new float[x.length];
    for (int n = 0; n < 2; n++) {
      for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 4; j++) {
            expected[n * 24 + (i * 4 + j) * 2 + c] = x[n * 24 + (c * 3 + i) * 4 + j];
          }
        }
      }
    }
    assertClose(run(model, "x", new long[] {2, 2, 3, 4}, x), expected, 0);
  }

  // ------------------------------------------------------------------------------------------

  enum PaddingKind {
    CONSTANT,
    REFLECTION,
    REPLICATION
  }

  /** The example of CoreML's PaddingLayerParams documentation: [1, 3, 4], top = 2, left = 2. */
  @ParameterizedTest
  @EnumSource(PaddingKind.class)
  void paddingReproducesTheSpecificationExample(PaddingKind kind) {
    float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    float[] expected =
        switch (kind) {
          case CONSTANT ->
              new float[] {
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0, 9, 10,
                11, 12
              };
          case REFLECTION ->
              new float[] {
                11, 10, 9, 10, 11, 12, 7, 6, 5, 6, 7, 8, 3, 2, 1, 2, 3, 4, 7, 6, 5, 6, 7, 8, 11, 10,
                9, 10, 11, 12
              };
          case REPLICATION ->
              new float[] {
                1, 1, 1, 2, 3, 4, 1, 1, 1, 2, 3, 4, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 9, 9, 10,
                11, 12
              };
        };
    PaddingLayerParams.Builder params =
        PaddingLayerParams.newBuilder()
            .setPaddingAmounts(
                BorderAmounts.newBuilder()
                    .addBorderAmounts(BorderAmounts.EdgeSizes.newBuilder().setStartEdgeSize(2))
                    .addBorderAmounts(BorderAmounts.EdgeSizes.newBuilder().setStartEdgeSize(2)));
    switch (kind) {
      case CONSTANT -> params.setConstant(PaddingLayerParams.PaddingConstant.getDefaultInstance());
      case REFLECTION ->
          params.setReflection(PaddingLayerParams.PaddingReflection.getDefaultInstance());
      case REPLICATION ->
          params.setReplication(PaddingLayerParams.PaddingReplication.getDefaultInstance());
    }
    Model model =
        oneLayer(
            new long[] {1, 3, 4},
            new long[] {1, 5, 6},
            Specs.layer("pad", "x", "y").setPadding(params));
    assertClose(run(model, "x", new long[] {1, 1, 3, 4}, x), expected, 0);
  }

  @Test
  void constantPaddingWithAValueOnEverySide() {
    float[] x = {1, 2, 3, 4};
    Model model =
        oneLayer(
            new long[] {1, 2, 2},
            new long[] {1, 3, 5},
            Specs.layer("pad", "x", "y")
                .setPadding(
                    PaddingLayerParams.newBuilder()
                        .setConstant(PaddingLayerParams.PaddingConstant.newBuilder().setValue(-1))
                        .setPaddingAmounts(
                            ConvolutionAndPoolingTest.border(new int[] {0, 1, 1, 2}))));
    float[] expected = {-1, 1, 2, -1, -1, -1, 3, 4, -1, -1, -1, -1, -1, -1, -1};
    assertClose(run(model, "x", new long[] {1, 1, 2, 2}, x), expected, 0);
  }

  // ------------------------------------------------------------------------------------------

  static Stream<Arguments> unaryFunctions() {
    return Stream.of(
        Arguments.of(Operation.SQRT, 0f, 0f, (DoubleUnaryOperator) Math::sqrt),
        Arguments.of(Operation.RSQRT, 0f, 0f, (DoubleUnaryOperator) v -> 1 / Math.sqrt(v + 1e-6)),
        Arguments.of(Operation.INVERSE, 0f, 1e-3f, (DoubleUnaryOperator) v -> 1 / (v + 1e-3)),
        Arguments.of(Operation.POWER, 2.5f, 0f, (DoubleUnaryOperator) v -> Math.pow(v, 2.5)),
        Arguments.of(Operation.EXP, 0f, 0f, (DoubleUnaryOperator) Math::exp),
        Arguments.of(Operation.LOG, 0f, 0f, (DoubleUnaryOperator) Math::log),
        Arguments.of(Operation.ABS, 0f, 0f, (DoubleUnaryOperator) Math::abs),
        Arguments.of(Operation.THRESHOLD, 0.8f, 0f, (DoubleUnaryOperator) v -> Math.max(0.8, v)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unaryFunctions")
  void unary(Operation operation, float alpha, float epsilon, DoubleUnaryOperator function) {
    // positive inputs, scaled and shifted first: x' = 1.5 x + 0.25
    float[] x = Specs.random(2 * 6, 60);
    float[] expected = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.abs(x[i]) + 0.1f;
      expected[i] = (float) function.applyAsDouble(1.5 * x[i] + 0.25);
    }
    Model model =
        oneLayer(
            new long[] {6},
            new long[] {6},
            Specs.layer("unary", "x", "y")
                .setUnary(
                    UnaryFunctionLayerParams.newBuilder()
                        .setType(operation)
                        .setAlpha(alpha)
                        .setEpsilon(epsilon)
                        .setScale(1.5f)
                        .setShift(0.25f)));
    assertClose(run(model, "x", new long[] {2, 6}, x), expected, 2e-5);
  }

  // ------------------------------------------------------------------------------------------

  @Test
  void embeddingLooksUpColumnsAndAddsTheBias() {
    int vocabulary = 5;
    int outputs = 3;
    float[] weights = Specs.random(outputs * vocabulary, 70); // [outputChannels, inputDim]
    float[] bias = {0.5f, 0f, -0.5f};
    Model model =
        oneLayer(
            new long[] {1},
            new long[] {outputs},
            Specs.layer("embed", "x", "y")
                .setEmbedding(
                    EmbeddingLayerParams.newBuilder()
                        .setInputDim(vocabulary)
                        .setOutputChannels(outputs)
                        .setHasBias(true)
                        .setWeights(Specs.weights(weights))
                        .setBias(Specs.weights(bias))));
    float[] indices = {4, 0, 2};
    float[] expected = new float[indices.length * outputs];
    for (int n = 0; n < indices.length; n++) {
      for (int o = 0; o < outputs; o++) {
        expected[n * outputs + o] = weights[o * vocabulary + (int) indices[n]] + bias[o];
      }
    }
    assertClose(run(model, "x", new long[] {3, 1}, indices), expected, 0);
  }

  @Test
  void loadConstantAddsToEveryRowOfTheBatch() {
    float[] constant = Specs.random(2 * 1 * 2, 71);
    float[] x = Specs.random(3 * 4, 72);
    Model model =
        Specs.network(
            List.of(Specs.floats("x", 2, 1, 2)),
            List.of(Specs.floats("y", 4, 1, 2)),
            Specs.layer("const", List.of(), "c")
                .setLoadConstant(
                    LoadConstantLayerParams.newBuilder()
                        .addShape(2)
                        .addShape(1)
                        .addShape(2)
                        .setData(Specs.weights(constant))),
            Specs.layer("sum", List.of("x", "c"), "s").setAdd(AddLayerParams.getDefaultInstance()),
            Specs.layer("join", List.of("s", "c"), "y")
                .setConcat(ConcatLayerParams.getDefaultInstance()));
    float[] expected = new float[3 * 8];
    for (int n = 0; n < 3; n++) {
      for (int i = 0; i < 4; i++) {
        expected[n * 8 + i] = x[n * 4 + i] + constant[i];
        expected[n * 8 + 4 + i] = constant[i];
      }
    }
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().batched()).isTrue();
      float[] y =
          loaded
              .infer(List.of(Tensor.ofFloats("x", new long[] {3, 2, 1, 2}, x)))
              .get(0)
              .toFloatArray();
      assertClose(y, expected, 1e-6);
    }
  }
}
