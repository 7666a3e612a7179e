package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 71 ONNX backend node tests ({@link ConformanceCases}) run through the ONNX backend and
 * compared the way ONNX's own runner compares.
 */
class OnnxConformanceTest {
  private static Backend backend;

  @BeforeAll
  static void createBackend() {
    backend =
        new OnnxBackendProvider()
            .create(
                new BackendContext(
                    Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))));
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  static List<String> cases() throws IOException {
    return ConformanceCases.names();
  }

  @Test
  void allSeventyOneCasesArePresent() throws IOException {
    assertThat(cases()).hasSize(71);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheExpectedOutputs(String name) throws IOException {
    List<Tensor> expected = ConformanceCases.expectedOutputs(name);
    try (LoadedModel model = backend.load(ModelSource.of(name, 1, ConformanceCases.model(name)))) {
      List<Tensor> actual = model.infer(ConformanceCases.inputs(name));
      assertThat(actual).hasSameSizeAs(expected);
      for (Tensor want : expected) {
        Tensor got =
            actual.stream()
                .filter(t -> t.name().equals(want.name()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no output " + want.name()));
        ConformanceCases.assertMatches(got, want);
      }
    }
  }
}
