package dev.hangar.backend.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.Backend;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.Runs;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import dev.hangar.testkit.ReferenceCase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TorchScript optimizer: settings chosen by measurement and suggested as parameters, int8
 * refused with the export-time alternative, tuning over thread counts and batch sizes.
 */
class TorchScriptOptimizerTest {
  private static Backend backend;
  private static ModelOptimizer optimizer;

  @TempDir Path directory;

  @BeforeAll
  static void createBackend() {
    backend = TestBackends.create();
    optimizer = backend.capability(ModelOptimizer.class).orElseThrow();
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  private static ModelSource source() {
    return SampleModels.qualityPredictor().source();
  }

  @Test
  void optimizeMeasuresEverySettingAndSuggestsTheChosenOnes() {
    backend.prepare();
    int threadsBefore = JniUtils.getNumThreads();

    OptimizationReport report =
        optimizer.optimize(
            source(),
            OptimizationOptions.graphOnly(Level.ALL),
            new MeasurementPlan(Runs.exactly(3), Runs.exactly(10), List.of(1, 32)),
            directory);

    int cores = Runtime.getRuntime().availableProcessors();
    int threadCounts = 1; // 1, 2, 4, ... below the cores, then the cores
    for (int count = 1; count < cores; count *= 2) {
      threadCounts++;
    }
    // every setting is measured, or refused with the reason it cannot run
    List<String> tried =
        java.util.stream.Stream.concat(
                report.variants().stream().skip(1).map(OptimizationReport.Variant::name),
                report.refusals().stream()
                    .map(OptimizationReport.Refusal::optimization)
                    .filter(name -> name.startsWith("threads "))
                    .flatMap(names -> java.util.Arrays.stream(names.split("; "))))
            .toList();
    assertThat(tried).hasSize(threadCounts * 4).doesNotHaveDuplicates();
    assertThat(report.original().name()).startsWith("original (threads 1, graph optimization on");
    assertThat(report.variants().subList(1, report.variants().size()))
        .isNotEmpty()
        .allSatisfy(
            variant -> {
              assertThat(variant.accuracy().orElseThrow().maxAbsoluteError()).isLessThan(1e-5);
              assertThat(variant.latencies()).hasSize(2);
            });
    assertThat(report.output()).isEmpty();
    assertThat(report.suggestedOptimization()).isEmpty();
    assertThat(report.suggestedParameters())
        .containsKeys("intra_op_threads", "graph_executor_optimization", "inference_mode");
    assertThat(report.refusals())
        .extracting(OptimizationReport.Refusal::optimization)
        .contains("graph freezing");
    assertThat(report.actions().get(1)).matches("(chose|kept the original settings).*");
    assertThat(JniUtils.getNumThreads())
        .as("the thread count is restored")
        .isEqualTo(threadsBefore);
  }

  @Test
  void int8IsRefusedWithTheExportTimeAlternative() {
    OptimizationOptions int8 =
        new OptimizationOptions(Level.ALL, true, 0.01, Granularity.PER_TENSOR);
    assertThatThrownBy(() -> optimizer.prepare(source(), int8))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("torch.ao.quantization.quantize_dynamic")
        .satisfies(
            e ->
                assertThat(((ModelLoadException) e).category())
                    .isEqualTo(ErrorCategory.USER_ERROR));
    OptimizationReport report =
        optimizer.optimize(
            source(),
            int8,
            new MeasurementPlan(Runs.exactly(1), Runs.exactly(3), List.of(4)),
            directory);
    assertThat(report.refusals())
        .extracting(OptimizationReport.Refusal::optimization)
        .contains("int8");
  }

  @Test
  void levelNoneRunsTheGraphUnoptimizedAndOtherLevelsChangeNothing() throws Exception {
    ModelSource none = optimizer.prepare(source(), OptimizationOptions.graphOnly(Level.NONE));
    assertThat(none.parameters().bool("graph_executor_optimization")).contains(false);
    assertThat(optimizer.prepare(source(), OptimizationOptions.graphOnly(Level.ALL)))
        .isEqualTo(source());
    try (LoadedModel model = backend.load(none)) {
      for (ReferenceCase reference : SampleModels.qualityPredictor().cases()) {
        assertThat(model.infer(reference.inputs()).get(0).toFloatArray()[0])
            .isCloseTo(
                reference.expectedOutputs().get(0).toFloatArray()[0],
                org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
  }

  @Test
  void tuneMeasuresThreadCountsAndBatchSizes() {
    TuningReport report =
        optimizer.tune(
            source(),
            new TuningOptions(
                Duration.ofSeconds(1),
                List.of(1, 2),
                List.of(1, 16),
                Runs.exactly(2),
                Runs.exactly(5)));
    assertThat(report.trials()).hasSize(4);
    assertThat(report.best()).isPresent();
    assertThat(report.suggestedParameters()).containsKey("intra_op_threads");
    assertThat(report.suggestedMaxBatchSize()).isIn(1, 16);
  }
}
