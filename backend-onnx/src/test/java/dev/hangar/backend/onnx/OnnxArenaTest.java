package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.optimizer.TestGraphs;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What ONNX Runtime's arena keeps after a run far larger than warmup's is asked back. */
class OnnxArenaTest extends OnnxFilesTestBase {
  private static List<Tensor> rows(int count) {
    return List.of(Tensor.ofFloats("x", new long[] {count, 10}, new float[count * 10]));
  }

  @Test
  void onlyARunFarLargerThanWarmupsShrinksTheArena() throws IOException {
    Path file = write("m", TestGraphs.mlp("m", new int[] {10, 16, 1}, 7, false));
    try (OnnxLoadedModel model = (OnnxLoadedModel) backend.load(ModelSource.of("m", 1, file))) {
      model.infer(rows(10_000)); // before warmup ends nothing is out of the ordinary
      model.infer(rows(1));
      model.infer(rows(64));
      assertThat(model.shrunkRuns()).isZero();
      model.warmedUp();
      model.infer(rows(64));
      model.infer(rows(10_000));
      assertThat(model.shrunkRuns()).as("up to twice warmup's largest input").isZero();
      assertThat(model.infer(rows(50_000)).get(0).dimension(0)).isEqualTo(50_000);
      assertThat(model.shrunkRuns()).isEqualTo(1);
      model.infer(rows(64));
      assertThat(model.shrunkRuns()).isEqualTo(1);
    }
  }
}
