package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelParameters;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a model's {@code parameters:} turn into, and what ONNX Runtime is told when none are set.
 */
class OnnxSessionSettingsTest {
  private static final String INTRA_OP_SPINNING = "session.intra_op.allow_spinning";
  private static final String INTER_OP_SPINNING = "session.inter_op.allow_spinning";

  @BeforeAll
  static void loadTheNativeLibrary() {
    // session options are native objects: load ONNX Runtime from the build's shared cache
    new OnnxNativeLibrary(
            Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache")).resolve("onnx"))
        .environment();
  }

  @Test
  void withNoParametersThreadsDoNotSpinAndTheRestIsOnnxRuntimesDefault() throws OrtException {
    OnnxSessionSettings settings = OnnxSessionSettings.from(ModelParameters.empty());

    assertThat(settings)
        .isEqualTo(
            new OnnxSessionSettings("all", Optional.empty(), Optional.empty(), true, false, false));
    try (SessionOptions options = settings.toSessionOptions()) {
      assertThat(options.getConfigEntries())
          .containsEntry(INTRA_OP_SPINNING, "0")
          .containsEntry(INTER_OP_SPINNING, "0");
    }
  }

  @Test
  void spinningCanBeTurnedBackOn() throws OrtException {
    OnnxSessionSettings settings =
        OnnxSessionSettings.from(new ModelParameters(Map.of("allow_spinning", "true")));

    assertThat(settings.allowSpinning()).isTrue();
    try (SessionOptions options = settings.toSessionOptions()) {
      assertThat(options.getConfigEntries())
          .containsEntry(INTRA_OP_SPINNING, "1")
          .containsEntry(INTER_OP_SPINNING, "1");
    }
  }

  @Test
  void everySettingIsRead() {
    OnnxSessionSettings settings =
        OnnxSessionSettings.from(
            new ModelParameters(
                Map.of(
                    "graph_optimization_level", "Basic",
                    "intra_op_threads", "6",
                    "inter_op_threads", "2",
                    "memory_arena", "false",
                    "execution_mode", "parallel",
                    "allow_spinning", "false")));

    assertThat(settings)
        .isEqualTo(
            new OnnxSessionSettings("basic", Optional.of(6), Optional.of(2), false, true, false));
  }

  @Test
  void aValueThatIsNotABooleanIsRefusedByName() {
    assertThatThrownBy(
            () -> OnnxSessionSettings.from(new ModelParameters(Map.of("allow_spinning", "often"))))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("parameter 'allow_spinning' must be true or false, got 'often'");
    assertThatThrownBy(
            () ->
                OnnxSessionSettings.from(
                    new ModelParameters(Map.of("intra_op_threads", "-1"), "models/m/config.yaml")))
        .hasMessage(
            "models/m/config.yaml: 'parameters.intra_op_threads' must be an integer from 0 to"
                + " 1024, got '-1'");
  }
}
