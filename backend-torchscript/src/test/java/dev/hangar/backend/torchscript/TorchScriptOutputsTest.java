package dev.hangar.backend.torchscript;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.Backend;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What forward may return: a tensor, a tuple or list of tensors mapped by position, a {@code
 * Dict[str, Tensor]} mapped by key; and the clear refusal of anything else, at load.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TorchScriptOutputsTest {
  private static final Tensor INPUT = Tensor.ofFloats("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
  private static final Tensor DOUBLED =
      Tensor.ofFloats("doubled", new long[] {2, 3}, 2, 4, 6, 8, 10, 12);
  private static final Tensor INCREMENTED =
      Tensor.ofFloats("incremented", new long[] {2, 3}, 2, 3, 4, 5, 6, 7);

  private Backend backend;

  @BeforeAll
  void createBackend() {
    backend = TestBackends.create();
  }

  @AfterAll
  void closeBackend() {
    backend.close();
  }

  @ParameterizedTest(name = "{0}, inference_mode {1}")
  @ValueSource(strings = {"tuple.pt", "list.pt"})
  void tuplesAndListsMapToTheOutputsByPosition(String fixture) {
    for (String inferenceMode : List.of("true", "false")) {
      try (LoadedModel model =
          load(
              fixture,
              List.of("doubled", "incremented"),
              Map.of("inference_mode", inferenceMode))) {
        assertTensorsClose(model.infer(List.of(INPUT)), List.of(DOUBLED, INCREMENTED), 0);
      }
    }
  }

  @Test
  void aDictMapsToTheOutputsByKeyWhateverTheirOrder() {
    for (String inferenceMode : List.of("true", "false")) {
      Map<String, String> parameters = Map.of("inference_mode", inferenceMode);
      try (LoadedModel model = load("dict.pt", List.of("doubled", "incremented"), parameters)) {
        assertTensorsClose(model.infer(List.of(INPUT)), List.of(DOUBLED, INCREMENTED), 0);
      }
      try (LoadedModel model = load("dict.pt", List.of("incremented", "doubled"), parameters)) {
        assertTensorsClose(model.infer(List.of(INPUT)), List.of(INCREMENTED, DOUBLED), 0);
      }
    }
  }

  @Test
  void aNonContiguousOutputIsCopiedInRowMajorOrder() {
    try (LoadedModel model = load("strided.pt", List.of("y"), Map.of())) {
      assertTensorsClose(model.infer(List.of(INPUT)), List.of(INPUT.withName("y")), 0);
    }
  }

  @Test
  void anIntIsRefusedNamingWhatCameBackAndWhatIsExpected() {
    assertRefused(
        "int.pt",
        List.of("doubled"),
        "returned a value of type int",
        "a Tensor, a tuple or list of Tensors, or a Dict[str, Tensor]",
        "[doubled]");
  }

  @Test
  void aNestedTupleIsRefused() {
    assertRefused(
        "nested_tuple.pt",
        List.of("pair", "x"),
        "returned ((Tensor, Tensor), Tensor): a tuple whose element 0 is not a tensor");
  }

  @Test
  void aDictOfListsIsRefused() {
    assertRefused(
        "dict_of_lists.pt",
        List.of("doubled", "incremented"),
        "whose value 'doubled' is not a tensor",
        "Dict(str, Tensor[])");
  }

  @Test
  void tooManyDeclaredOutputsAreRefusedNamingThem() {
    assertRefused(
        "tuple.pt",
        List.of("doubled", "incremented", "extra"),
        "returned (Tensor, Tensor): a tuple of 2 values",
        "declares 3 outputs [doubled, incremented, extra]");
    assertRefused("echo.pt", List.of("a", "b"), "returned one tensor", "declares 2 outputs [a, b]");
  }

  @Test
  void dictKeysThatDoNotMatchTheOutputsAreRefusedNamingBoth() {
    assertRefused(
        "dict.pt",
        List.of("doubled", "halved"),
        "returned a dict with keys [doubled, incremented]",
        "declares outputs [doubled, halved]");
  }

  @Test
  void anOutputOfAnotherDatatypeIsRefusedNamingIt() {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 3})),
            List.of(new TensorSpec("y", DataType.FP64, new long[] {-1, 3})),
            true);
    assertThatThrownBy(() -> backend.load(source("echo.pt", signature, Map.of())))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("output 'y' of datatype FP32[1, 3]")
        .hasMessageContaining("declares FP64[-1, 3]")
        .hasMessageContaining("x FP32[1, 3]");
  }

  @Test
  void anOutputOfAnotherRankIsRefusedNamingTheShapes() {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 3})),
            List.of(new TensorSpec("y", DataType.FP32, new long[] {-1, 3, 1})),
            true);
    assertThatThrownBy(() -> backend.load(source("echo.pt", signature, Map.of())))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("output 'y' of shape [1, 3]")
        .hasMessageContaining("declares [-1, 3, 1] (rank 2 instead of 3)");
  }

  private void assertRefused(String fixture, List<String> outputs, String... fragments) {
    assertThatThrownBy(() -> load(fixture, outputs, Map.of()).close())
        .isInstanceOf(ModelLoadException.class)
        .satisfies(
            e -> assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.USER_ERROR))
        .hasMessageContaining("does not fit")
        .hasMessageContaining("x FP32[1, 3]")
        .satisfies(
            e -> {
              for (String fragment : fragments) {
                assertThat(e.getMessage()).contains(fragment);
              }
            });
  }

  private LoadedModel load(String fixture, List<String> outputs, Map<String, String> parameters) {
    List<TensorSpec> specs =
        outputs.stream()
            .map(name -> new TensorSpec(name, DataType.FP32, new long[] {-1, 3}))
            .toList();
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 3})), specs, true);
    return backend.load(source(fixture, signature, parameters));
  }

  private static ModelSource source(
      String fixture, ModelSignature signature, Map<String, String> parameters) {
    return Fixtures.source(
        fixture.replace(".pt", ""), Fixtures.file(fixture), signature, parameters);
  }
}
