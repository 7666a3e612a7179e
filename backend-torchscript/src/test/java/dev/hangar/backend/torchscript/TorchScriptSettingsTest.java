package dev.hangar.backend.torchscript;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.Backend;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code parameters:} of a TorchScript model: parsing, and what each one does. */
class TorchScriptSettingsTest {
  @Test
  void theProviderDeclaresEveryParameter() {
    assertThat(new TorchScriptBackendProvider().parameterNames())
        .containsExactlyInAnyOrder(
            "intra_op_threads",
            "inter_op_threads",
            "inference_mode",
            "graph_executor_optimization");
  }

  @Test
  void nothingSetGivesTheDefaults() {
    assertThat(TorchScriptSettings.from(ModelParameters.empty()))
        .isEqualTo(TorchScriptSettings.defaults())
        .isEqualTo(new TorchScriptSettings(Optional.empty(), Optional.empty(), true, true));
  }

  @Test
  void everySettingIsRead() {
    ModelParameters parameters =
        new ModelParameters(
            Map.of(
                "intra_op_threads", "4",
                "inter_op_threads", "2",
                "inference_mode", "false",
                "graph_executor_optimization", "False"));
    assertThat(TorchScriptSettings.from(parameters))
        .isEqualTo(new TorchScriptSettings(Optional.of(4), Optional.of(2), false, false));
  }

  @ParameterizedTest
  @CsvSource({
    "intra_op_threads, 0, an integer from 1 to 1024",
    "intra_op_threads, two, an integer from 1 to 1024",
    "inter_op_threads, 2000, an integer from 1 to 1024",
    "inference_mode, yes, true or false",
    "graph_executor_optimization, 1, true or false"
  })
  void aBadValueIsRefusedNamingTheSetting(String name, String value, String expected) {
    ModelParameters parameters = new ModelParameters(Map.of(name, value));
    assertThatThrownBy(() -> TorchScriptSettings.from(parameters))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(
            e -> assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.USER_ERROR))
        .hasMessageContaining("'" + name + "'")
        .hasMessageContaining(expected)
        .hasMessageContaining("'" + value + "'");
  }

  @Test
  void anUnknownSettingIsRefusedListingTheKnownOnes() {
    ModelParameters parameters = new ModelParameters(Map.of("num_threads", "2"));
    assertThatThrownBy(() -> TorchScriptSettings.from(parameters))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("unknown TorchScript parameter(s) [num_threads]")
        .hasMessageContaining(
            "[graph_executor_optimization, inference_mode, inter_op_threads, intra_op_threads]");
  }

  @Test
  void inferenceModeRunsForwardWithoutAutogradAndFalseWithIt() throws Exception {
    try (Backend backend = TestBackends.create()) {
      Tensor input = Tensor.ofFloats("x", new long[] {2, 1}, 1, 2);
      // grad_mode.pt returns [is the new tensor an inference tensor, is grad mode on] per row
      try (LoadedModel model = loadGradMode(backend, Map.of())) {
        assertFlags(model.infer(List.of(input)), 0, 0);
      }
      try (LoadedModel model = loadGradMode(backend, Map.of("inference_mode", "false"))) {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
          thread
              .submit(
                  () -> {
                    JniUtils.setGradMode(false);
                    assertFlags(model.infer(List.of(input)), 0, 1);
                    // the calling thread's own grad mode is left as it was
                    assertThat(JniUtils.isGradMode()).isFalse();
                    return null;
                  })
              .get();
        } finally {
          thread.shutdownNow();
        }
      }
    }
  }

  @Test
  void graphExecutorOptimizationOffServesTheSameOutputs() {
    try (Backend backend = TestBackends.create()) {
      var reference = SampleModels.qualityPredictor();
      var source =
          Fixtures.source(
              "quality_predictor_torchscript",
              reference.source().file(),
              reference.expectedSignature(),
              Map.of("graph_executor_optimization", "false"));
      try (LoadedModel model = backend.load(source)) {
        for (var testCase : reference.cases()) {
          assertTensorsClose(
              model.infer(testCase.inputs()), testCase.expectedOutputs(), reference.tolerance());
        }
      }
    }
  }

  @Test
  void intraOpThreadsIsProcessWideAndKeptOnEveryCallingThread() throws Exception {
    try (Backend backend = TestBackends.create()) {
      ModelSignature signature = echoSignature();
      try (LoadedModel two =
              backend.load(
                  Fixtures.source(
                      "two",
                      Fixtures.file("echo.pt"),
                      signature,
                      Map.of("intra_op_threads", "2")));
          LoadedModel three =
              backend.load(
                  Fixtures.source(
                      "three",
                      Fixtures.file("echo.pt"),
                      signature,
                      Map.of("intra_op_threads", "3")))) {
        Tensor input = Tensor.ofFloats("input", new long[] {1, 3}, 1, 2, 3);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
          thread
              .submit(
                  () -> {
                    // a thread that has run libtorch operators with another count
                    JniUtils.setNumThreads(1);
                    two.infer(List.of(input));
                    assertThat(JniUtils.getNumThreads()).isEqualTo(2);
                    JniUtils.setNumThreads(1);
                    // the second model asked for 3 but runs with the process-wide count
                    three.infer(List.of(input));
                    assertThat(JniUtils.getNumThreads()).isEqualTo(2);
                    return null;
                  })
              .get();
        } finally {
          thread.shutdownNow();
        }
      }
    }
  }

  private static LoadedModel loadGradMode(Backend backend, Map<String, String> parameters) {
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 1})),
            List.of(new TensorSpec("flags", DataType.FP32, new long[] {-1, 2})),
            true);
    return backend.load(
        Fixtures.source("grad_mode", Fixtures.file("grad_mode.pt"), signature, parameters));
  }

  private static void assertFlags(List<Tensor> outputs, float inference, float grad) {
    assertThat(outputs.get(0).toFloatArray()).containsExactly(inference, grad, inference, grad);
  }

  private static ModelSignature echoSignature() {
    return new ModelSignature(
        List.of(new TensorSpec("input", DataType.FP32, new long[] {-1, 3})),
        List.of(new TensorSpec("output", DataType.FP32, new long[] {-1, 3})),
        true);
  }
}
