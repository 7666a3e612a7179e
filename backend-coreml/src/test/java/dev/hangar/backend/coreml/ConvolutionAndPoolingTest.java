package dev.hangar.backend.coreml;

import static dev.hangar.backend.coreml.Reference.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.coreml.Reference.Tensor4;
import dev.hangar.backend.coreml.Reference.Window;
import dev.hangar.backend.coreml.proto.CoreMlProto.BorderAmounts;
import dev.hangar.backend.coreml.proto.CoreMlProto.ConvolutionLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.coreml.proto.CoreMlProto.PoolingLayerParams;
import dev.hangar.backend.coreml.proto.CoreMlProto.SamePadding;
import dev.hangar.backend.coreml.proto.CoreMlProto.ValidPadding;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Convolution and pooling layers in every padding mode, against {@link Reference}'s plain loops.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConvolutionAndPoolingTest {
  private static final int N = 2;
  private static final int H = 7;
  private static final int W = 6;

  @TempDir static Path directory;
  private Runner runner;

  @BeforeAll
  void createRunner() {
    runner = new Runner(directory);
  }

  enum Padding {
    VALID,
    SAME_BOTTOM_RIGHT,
    SAME_TOP_LEFT
  }

  record Conv(
      String label,
      int channels,
      int outputs,
      int kh,
      int kw,
      int sh,
      int sw,
      int dh,
      int dw,
      int groups,
      Padding padding,
      int[] pads,
      boolean bias) {
    @Override
    public String toString() {
      return label;
    }
  }

  static Stream<Conv> convolutions() {
    int[] none = {0, 0, 0, 0};
    return Stream.of(
        new Conv("valid 3x3", 4, 3, 3, 3, 1, 1, 1, 1, 1, Padding.VALID, none, true),
        new Conv(
            "valid custom padding, stride 2x1",
            4,
            3,
            3,
            2,
            2,
            1,
            1,
            1,
            1,
            Padding.VALID,
            new int[] {1, 2, 0, 1},
            true),
        new Conv(
            "same, bottom-right heavy",
            4,
            3,
            4,
            3,
            2,
            2,
            1,
            1,
            1,
            Padding.SAME_BOTTOM_RIGHT,
            none,
            true),
        new Conv(
            "same, top-left heavy", 4, 3, 4, 3, 2, 2, 1, 1, 1, Padding.SAME_TOP_LEFT, none, true),
        new Conv("two groups", 4, 4, 3, 3, 1, 1, 1, 1, 2, Padding.VALID, none, true),
        new Conv("depthwise", 4, 4, 3, 3, 1, 1, 1, 1, 4, Padding.SAME_BOTTOM_RIGHT, none, true),
        new Conv("dilation 2x1", 4, 3, 3, 3, 1, 1, 2, 1, 1, Padding.VALID, none, true),
        new Conv(
            "same with dilation 2", 4, 2, 3, 2, 1, 2, 2, 2, 1, Padding.SAME_TOP_LEFT, none, true),
        new Conv("no bias", 4, 3, 1, 1, 1, 1, 1, 1, 1, Padding.VALID, none, false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convolutions")
  void convolution(Conv conv) {
    int kernelChannels = conv.channels() / conv.groups();
    float[] weights = Specs.random(conv.outputs() * kernelChannels * conv.kh() * conv.kw(), 1);
    float[] bias = conv.bias() ? Specs.random(conv.outputs(), 2) : null;
    ConvolutionLayerParams.Builder params =
        ConvolutionLayerParams.newBuilder()
            .setOutputChannels(conv.outputs())
            .setKernelChannels(kernelChannels)
            .setNGroups(conv.groups())
            .addKernelSize(conv.kh())
            .addKernelSize(conv.kw())
            .addStride(conv.sh())
            .addStride(conv.sw())
            .addDilationFactor(conv.dh())
            .addDilationFactor(conv.dw())
            .setWeights(Specs.weights(weights));
    if (bias != null) {
      params.setHasBias(true).setBias(Specs.weights(bias));
    }
    int effectiveH = (conv.kh() - 1) * conv.dh() + 1;
    int effectiveW = (conv.kw() - 1) * conv.dw() + 1;
    Window window;
    switch (conv.padding()) {
      case VALID -> {
        params.setValid(ValidPadding.newBuilder().setPaddingAmounts(border(conv.pads())));
        int[] p = conv.pads();
        window =
            Reference.valid(
                H, W, effectiveH, effectiveW, conv.sh(), conv.sw(), p[0], p[1], p[2], p[3]);
      }
      default -> {
        boolean topLeft = conv.padding() == Padding.SAME_TOP_LEFT;
        params.setSame(
            SamePadding.newBuilder()
                .setAsymmetryMode(
                    topLeft
                        ? SamePadding.SamePaddingMode.TOP_LEFT_HEAVY
                        : SamePadding.SamePaddingMode.BOTTOM_RIGHT_HEAVY));
        window = Reference.same(H, W, effectiveH, effectiveW, conv.sh(), conv.sw(), topLeft);
      }
    }
    Tensor4 x = new Tensor4(N, conv.channels(), H, W, Specs.random(N * conv.channels() * H * W, 3));
    Tensor4 expected =
        Reference.convolution(
            x,
            weights,
            bias,
            conv.outputs(),
            conv.kh(),
            conv.kw(),
            conv.sh(),
            conv.sw(),
            conv.dh(),
            conv.dw(),
            conv.groups(),
            window);
    Model model =
        Specs.network(
            List.of(Specs.floats("x", conv.channels(), H, W)),
            List.of(Specs.floats("y", conv.outputs(), window.outH(), window.outW())),
            Specs.layer("conv", "x", "y").setConvolution(params));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().outputs().get(0).shape())
          .containsExactly(-1, conv.outputs(), window.outH(), window.outW());
      Tensor y = loaded.infer(List.of(Tensor.ofFloats("x", x.shape(), x.data()))).get(0);
      assertThat(y.shape()).containsExactly(expected.shape());
      assertClose(y.toFloatArray(), expected.data(), 1e-5);
    }
  }

  static BorderAmounts border(int[] pads) {
    return BorderAmounts.newBuilder()
        .addBorderAmounts(
            BorderAmounts.EdgeSizes.newBuilder().setStartEdgeSize(pads[0]).setEndEdgeSize(pads[2]))
        .addBorderAmounts(
            BorderAmounts.EdgeSizes.newBuilder().setStartEdgeSize(pads[1]).setEndEdgeSize(pads[3]))
        .build();
  }

  enum PoolPadding {
    VALID,
    SAME_BOTTOM_RIGHT,
    SAME_TOP_LEFT,
    INCLUDE_LAST_PIXEL
  }

  record Pool(
      String label,
      boolean max,
      int kh,
      int kw,
      int sh,
      int sw,
      PoolPadding padding,
      int[] pads,
      boolean excludePadding,
      int height,
      int width) {
    @Override
    public String toString() {
      return label;
    }
  }

  static Stream<Pool> poolings() {
    int[] none = {0, 0, 0, 0};
    int[] one = {1, 1, 1, 1};
    return Stream.of(
        new Pool("max valid 2x2/2", true, 2, 2, 2, 2, PoolPadding.VALID, none, false, H, W),
        new Pool(
            "average valid, padding counted",
            false,
            3,
            3,
            2,
            2,
            PoolPadding.VALID,
            one,
            false,
            H,
            W),
        new Pool(
            "average valid, padding excluded",
            false,
            3,
            3,
            2,
            2,
            PoolPadding.VALID,
            one,
            true,
            H,
            W),
        new Pool(
            "max valid asymmetric padding",
            true,
            3,
            2,
            1,
            2,
            PoolPadding.VALID,
            new int[] {2, 0, 1, 1},
            false,
            H,
            W),
        new Pool(
            "max same, bottom-right heavy",
            true,
            3,
            3,
            2,
            2,
            PoolPadding.SAME_BOTTOM_RIGHT,
            none,
            false,
            H,
            W),
        new Pool(
            "average same, top-left heavy, padding counted",
            false,
            2,
            2,
            2,
            2,
            PoolPadding.SAME_TOP_LEFT,
            none,
            false,
            H,
            W),
        new Pool(
            "average same, bottom-right heavy, padding excluded",
            false,
            4,
            3,
            1,
            1,
            PoolPadding.SAME_BOTTOM_RIGHT,
            none,
            true,
            H,
            W),
        new Pool(
            "max includeLastPixel",
            true,
            3,
            3,
            2,
            2,
            PoolPadding.INCLUDE_LAST_PIXEL,
            one,
            false,
            H,
            W),
        new Pool(
            "average includeLastPixel, padding counted",
            false,
            3,
            3,
            2,
            2,
            PoolPadding.INCLUDE_LAST_PIXEL,
            one,
            false,
            H,
            W),
        new Pool(
            "average includeLastPixel, padding excluded",
            false,
            3,
            3,
            2,
            2,
            PoolPadding.INCLUDE_LAST_PIXEL,
            one,
            true,
            H,
            W),
        new Pool(
            "max includeLastPixel, last window dropped",
            true,
            2,
            2,
            2,
            2,
            PoolPadding.INCLUDE_LAST_PIXEL,
            one,
            false,
            H,
            W),
        new Pool(
            "average includeLastPixel without padding, partial last window",
            false,
            3,
            3,
            2,
            2,
            PoolPadding.INCLUDE_LAST_PIXEL,
            none,
            false,
            8,
            8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolings")
  void pooling(Pool pool) {
    int channels = 3;
    int height = pool.height();
    int width = pool.width();
    PoolingLayerParams.Builder params =
        PoolingLayerParams.newBuilder()
            .setType(
                pool.max()
                    ? PoolingLayerParams.PoolingType.MAX
                    : PoolingLayerParams.PoolingType.AVERAGE)
            .addKernelSize(pool.kh())
            .addKernelSize(pool.kw())
            .addStride(pool.sh())
            .addStride(pool.sw())
            .setAvgPoolExcludePadding(pool.excludePadding());
    int[] p = pool.pads();
    Window window =
        switch (pool.padding()) {
          case VALID -> {
            params.setValid(ValidPadding.newBuilder().setPaddingAmounts(border(p)));
            yield Reference.valid(
                height, width, pool.kh(), pool.kw(), pool.sh(), pool.sw(), p[0], p[1], p[2], p[3]);
          }
          case INCLUDE_LAST_PIXEL -> {
            params.setIncludeLastPixel(
                PoolingLayerParams.ValidCompletePadding.newBuilder()
                    .addPaddingAmounts(p[0])
                    .addPaddingAmounts(p[1]));
            yield Reference.includeLastPixel(
                height, width, pool.kh(), pool.kw(), pool.sh(), pool.sw(), p[0], p[1]);
          }
          default -> {
            boolean topLeft = pool.padding() == PoolPadding.SAME_TOP_LEFT;
            params.setSame(
                SamePadding.newBuilder()
                    .setAsymmetryMode(
                        topLeft
                            ? SamePadding.SamePaddingMode.TOP_LEFT_HEAVY
                            : SamePadding.SamePaddingMode.BOTTOM_RIGHT_HEAVY));
            yield Reference.same(
                height, width, pool.kh(), pool.kw(), pool.sh(), pool.sw(), topLeft);
          }
        };
    Tensor4 x =
        new Tensor4(N, channels, height, width, Specs.random(N * channels * height * width, 4));
    Tensor4 expected =
        Reference.pool(
            x,
            pool.max(),
            pool.kh(),
            pool.kw(),
            pool.sh(),
            pool.sw(),
            window,
            pool.excludePadding());
    Model model =
        Specs.network(
            List.of(Specs.floats("x", channels, height, width)),
            List.of(Specs.floats("y")),
            Specs.layer("pool", "x", "y").setPooling(params));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().outputs().get(0).shape())
          .containsExactly(-1, channels, window.outH(), window.outW());
      Tensor y = loaded.infer(List.of(Tensor.ofFloats("x", x.shape(), x.data()))).get(0);
      assertThat(y.shape()).containsExactly(expected.shape());
      assertClose(y.toFloatArray(), expected.data(), 1e-5);
    }
  }

  static Stream<Arguments> globalPoolings() {
    return Stream.of(Arguments.of(true), Arguments.of(false));
  }

  @ParameterizedTest(name = "global max: {0}")
  @MethodSource("globalPoolings")
  void globalPooling(boolean max) {
    int channels = 3;
    Tensor4 x = new Tensor4(N, channels, H, W, Specs.random(N * channels * H * W, 5));
    Window whole = Reference.valid(H, W, H, W, 1, 1, 0, 0, 0, 0);
    Tensor4 expected = Reference.pool(x, max, H, W, 1, 1, whole, false);
    Model model =
        Specs.network(
            List.of(Specs.floats("x", channels, H, W)),
            List.of(Specs.floats("y", channels)),
            Specs.layer("pool", "x", "y")
                .setPooling(
                    PoolingLayerParams.newBuilder()
                        .setType(
                            max
                                ? PoolingLayerParams.PoolingType.MAX
                                : PoolingLayerParams.PoolingType.AVERAGE)
                        .setGlobalPooling(true)));
    float[] y = runner.runFloats(model, Tensor.ofFloats("x", x.shape(), x.data()));
    assertClose(y, expected.data(), 1e-5);
  }

  @Test
  void flexibleImageSizeReachesTheConvolution() {
    // same padding works on any size: an input of flexible H and W compiles to free dimensions
    var input =
        Specs.feature(
            "x",
            dev.hangar.backend.coreml.proto.CoreMlProto.FeatureType.newBuilder()
                .setMultiArrayType(
                    dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.newBuilder()
                        .setDataType(
                            dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType
                                .ArrayDataType.FLOAT32)
                        .addShape(2)
                        .addShape(4)
                        .addShape(4)
                        .setShapeRange(
                            dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.ShapeRange
                                .newBuilder()
                                .addSizeRanges(range(2, 2))
                                .addSizeRanges(range(1, -1))
                                .addSizeRanges(range(1, 16))))
                .build());
    float[] weights = Specs.random(2 * 2 * 3 * 3, 6);
    Model model =
        Specs.network(
            List.of(input),
            List.of(Specs.floats("y")),
            Specs.layer("conv", "x", "y")
                .setConvolution(
                    ConvolutionLayerParams.newBuilder()
                        .setOutputChannels(2)
                        .setKernelChannels(2)
                        .setSame(SamePadding.getDefaultInstance())
                        .setWeights(Specs.weights(weights))));
    try (LoadedModel loaded = runner.load(model)) {
      assertThat(loaded.signature().inputs().get(0).shape()).containsExactly(-1, 2, -1, -1);
      for (int[] size : new int[][] {{5, 3}, {2, 9}}) {
        Tensor4 x = new Tensor4(1, 2, size[0], size[1], Specs.random(2 * size[0] * size[1], 7));
        Window window = Reference.same(size[0], size[1], 3, 3, 1, 1, false);
        Tensor4 expected = Reference.convolution(x, weights, null, 2, 3, 3, 1, 1, 1, 1, 1, window);
        Tensor y = loaded.infer(List.of(Tensor.ofFloats("x", x.shape(), x.data()))).get(0);
        assertThat(y.shape()).containsExactly(expected.shape());
        assertClose(y.toFloatArray(), expected.data(), 1e-5);
      }
    }
  }

  private static dev.hangar.backend.coreml.proto.CoreMlProto.SizeRange range(
      long lower, long upper) {
    return dev.hangar.backend.coreml.proto.CoreMlProto.SizeRange.newBuilder()
        .setLowerBound(lower)
        .setUpperBound(upper)
        .build();
  }
}
