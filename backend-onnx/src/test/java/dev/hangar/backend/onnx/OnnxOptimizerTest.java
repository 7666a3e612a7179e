package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.optimizer.OutputComparison;
import dev.hangar.backend.onnx.optimizer.ProbeInputs;
import dev.hangar.backend.onnx.optimizer.TestGraphs;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.DataType;
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
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.Runs;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import dev.hangar.testkit.ReferenceCase;
import dev.hangar.testkit.ReferenceFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONNX optimizer: the optimized-model cache (built once, reused, invalidated, never serving a
 * corrupt entry), int8 refusals, the measured report and tuning.
 */
class OnnxOptimizerTest {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));
  private static final int[] SIZES = {64, 256, 256, 8};
  private static final OptimizationOptions INT8 =
      new OptimizationOptions(Level.ALL, true, 0.02, Granularity.PER_CHANNEL);

  @TempDir Path directory;
  private Backend backend;
  private OnnxOptimizer optimizer;

  @BeforeEach
  void createBackend() {
    // the native library from the build's shared cache; optimized models in this test's own
    System.setProperty(
        "onnxruntime.native.path",
        System.getProperty("onnxruntime.native.path", nativeDirectory().toString()));
    backend = new OnnxBackendProvider().create(new BackendContext(directory.resolve("cache")));
    optimizer = (OnnxOptimizer) backend.capability(ModelOptimizer.class).orElseThrow();
  }

  private static Path nativeDirectory() {
    OnnxNativeLibrary shared =
        new OnnxNativeLibrary(
            Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache")).resolve("onnx"));
    shared.environment();
    return shared.nativeDirectory();
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

  private ModelSource mlp(String name, long seed) throws IOException {
    Path file =
        TestGraphs.write(
            TestGraphs.mlp(name, SIZES, seed, false), directory.resolve(name), "model");
    return ModelSource.of(name, 1, file);
  }

  @Test
  void theBackendOffersTheOptimizer() {
    assertThat(backend.capability(ModelOptimizer.class)).containsSame(optimizer);
    assertThat(optimizer.cacheDirectory()).isEqualTo(directory.resolve("cache/onnx/optimized"));
  }

  @Test
  void prepareBuildsOnceAndLaterLoadsReuseTheFile() throws IOException {
    ModelSource source = mlp("reused", 1);

    ModelSource first = optimizer.prepare(source, INT8);
    FileTime written = Files.getLastModifiedTime(first.file());
    ModelSource second = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isEqualTo(1);
    assertThat(second.file()).isEqualTo(first.file());
    assertThat(Files.getLastModifiedTime(second.file())).isEqualTo(written);
    assertThat(first.file()).startsWith(optimizer.cacheDirectory());
    assertThat(first.name()).isEqualTo("reused");
    assertThat(first.parameters().string("graph_optimization_level")).contains("disable");
    assertThat(Files.size(first.file())).isLessThan(Files.size(source.file()) * 3 / 10);
    assertThat(error(source, first).maxAbsoluteError()).isPositive().isLessThan(0.02);
  }

  @Test
  void aChangedSourceOrChangedOptionsBuildAnotherEntry() throws IOException {
    ModelSource source = mlp("changing", 1);
    Path firstFile = optimizer.prepare(source, INT8).file();

    Path otherGranularity =
        optimizer
            .prepare(source, new OptimizationOptions(Level.ALL, true, 0.02, Granularity.PER_TENSOR))
            .file();
    Path otherLevel =
        optimizer
            .prepare(
                source,
                new OptimizationOptions(Level.EXTENDED, true, 0.02, Granularity.PER_CHANNEL))
            .file();
    Path noInt8 = optimizer.prepare(source, OptimizationOptions.graphOnly(Level.ALL)).file();
    assertThat(optimizer.builds()).isEqualTo(4);
    assertThat(List.of(firstFile, otherGranularity, otherLevel, noInt8)).doesNotHaveDuplicates();

    // new weights in the same file
    Files.write(source.file(), TestGraphs.mlp("changing", SIZES, 2, false).toByteArray());
    ModelSource rebuilt = optimizer.prepare(source, INT8);
    assertThat(optimizer.builds()).isEqualTo(5);
    assertThat(rebuilt.file()).isNotEqualTo(firstFile);
    assertThat(error(source, rebuilt).maxAbsoluteError()).isLessThan(0.02);
  }

  @Test
  void aTruncatedCachedModelIsRebuiltNotServed() throws IOException {
    ModelSource source = mlp("truncated", 1);
    Path cached = optimizer.prepare(source, INT8).file();
    try (FileChannel channel = FileChannel.open(cached, StandardOpenOption.WRITE)) {
      channel.truncate(Files.size(cached) / 2);
    }

    ModelSource again = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isEqualTo(2);
    assertThat(error(source, again).maxAbsoluteError()).isLessThan(0.02);
  }

  @Test
  void garbageOfTheRightSizeIsRebuiltNotServed() throws IOException {
    ModelSource source = mlp("garbage", 1);
    Path cached = optimizer.prepare(source, INT8).file();
    byte[] garbage = new byte[(int) Files.size(cached)];
    new SplittableRandom(1).nextBytes(garbage);
    Files.write(cached, garbage);

    ModelSource again = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isEqualTo(2);
    assertThat(error(source, again).maxAbsoluteError()).isLessThan(0.02);
  }

  @Test
  void aSidecarDigestMismatchOrAMissingSidecarIsRebuilt() throws IOException {
    ModelSource source = mlp("sidecar", 1);
    Path cached = optimizer.prepare(source, INT8).file();
    Path sidecar =
        cached.resolveSibling(cached.getFileName().toString().replace(".onnx", ".properties"));
    Properties properties = new Properties();
    try (var in = Files.newInputStream(sidecar)) {
      properties.load(in);
    }
    properties.setProperty("file.sha256", "0".repeat(64));
    try (var out = Files.newOutputStream(sidecar)) {
      properties.store(out, null);
    }

    optimizer.prepare(source, INT8);
    assertThat(optimizer.builds()).isEqualTo(2);

    Files.delete(sidecar);
    optimizer.prepare(source, INT8);
    assertThat(optimizer.builds()).isEqualTo(3);
    optimizer.prepare(source, INT8);
    assertThat(optimizer.builds()).isEqualTo(3);
  }

  @Test
  void int8AboveATinyToleranceIsRefusedAndTheModelServedInFp32() throws IOException {
    ModelSource source = mlp("tiny_tolerance", 1);
    OptimizationOptions strict =
        new OptimizationOptions(Level.ALL, true, 1e-9, Granularity.PER_CHANNEL);

    ModelSource prepared = optimizer.prepare(source, strict);

    assertThat(Files.size(prepared.file())).isGreaterThan(Files.size(source.file()) * 9 / 10);
    assertThat(sidecarOf(prepared.file()).getProperty("note.refused.int8"))
        .startsWith("int8 max abs error")
        .contains("exceeds the tolerance 1.00e-09");
    assertThat(error(source, prepared).maxAbsoluteError()).isLessThan(1e-4);
  }

  @Test
  void weightsThatQuantizeBadlyAreRefusedAtTheDefaultTolerance() throws IOException {
    // one huge weight per matrix: a per-tensor scale rounds every other weight to zero
    SplittableRandom random = new SplittableRandom(5);
    float[] weights = new float[32 * 16];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextDouble() - 0.5);
    }
    weights[0] = 5000;
    Path file =
        TestGraphs.write(
            new OnnxGraphBuilder("outlier")
                .input("x", DataType.FP32, new long[] {-1, 32})
                .initializer("w", new long[] {32, 16}, weights)
                .node("MatMul", List.of("x", "w"), List.of("y"))
                .output("y", DataType.FP32, new long[] {-1, 16})
                .build(),
            directory,
            "outlier");
    ModelSource source = ModelSource.of("outlier", 1, file);

    ModelSource prepared =
        optimizer.prepare(
            source,
            new OptimizationOptions(
                Level.BASIC,
                true,
                OptimizationOptions.DEFAULT_INT8_TOLERANCE,
                Granularity.PER_TENSOR));

    assertThat(sidecarOf(prepared.file()).getProperty("note.refused.int8"))
        .contains("exceeds the tolerance 0.0100");
    assertThat(error(source, prepared).maxAbsoluteError()).isLessThan(1e-3);
    // basic and extended graphs are served at the model's own level
    assertThat(prepared.parameters().string("graph_optimization_level")).isEmpty();
  }

  @Test
  void aModelWithNothingToQuantizeIsRefusedWithTheReason() throws IOException {
    Path file =
        TestGraphs.write(
            new OnnxGraphBuilder("relu")
                .input("x", DataType.FP32, new long[] {-1, 4})
                .node("Relu", List.of("x"), List.of("y"))
                .output("y", DataType.FP32, new long[] {-1, 4})
                .build(),
            directory,
            "relu");
    // an earlier run's result is in the output directory
    Path earlier = Files.createDirectories(directory.resolve("out")).resolve("relu.optimized.onnx");
    Files.writeString(earlier, "earlier");
    OptimizationReport report =
        optimizer.optimize(
            ModelSource.of("relu", 1, file),
            new OptimizationOptions(Level.NONE, true, 0.01, Granularity.PER_CHANNEL),
            new MeasurementPlan(Runs.exactly(1), Runs.exactly(3), List.of(1)),
            directory.resolve("out"));

    assertThat(report.refusals())
        .extracting(OptimizationReport.Refusal::reason)
        .anyMatch(reason -> reason.startsWith("no MatMul or Gemm node has constant FP32 weights"))
        .contains(
            "no variant was kept; the original stays as it is (the relu.optimized.onnx in "
                + directory.resolve("out")
                + " is an earlier run's, left as it was)");
    assertThat(report.output()).isEmpty();
    assertThat(report.chosen()).isEqualTo("original");
    assertThat(earlier).hasContent("earlier");
  }

  @Test
  void optimizeMeasuresEveryVariantAndWritesTheChosenOne() throws IOException {
    ModelSource source = mlp("measured", 3);
    Path out = directory.resolve("out");

    OptimizationReport report =
        optimizer.optimize(
            source,
            INT8,
            new MeasurementPlan(Runs.exactly(2), Runs.exactly(5), List.of(1, 32)),
            out);

    assertThat(report.variants())
        .extracting(OptimizationReport.Variant::name)
        .containsExactly("original", "level all", "level all + int8 per-channel");
    assertThat(report.chosen()).isEqualTo("level all + int8 per-channel");
    assertThat(report.refusals()).isEmpty();
    assertThat(report.actions())
        .anyMatch(action -> action.startsWith("int8 variant: 3 MatMul quantized to int8"))
        .anyMatch(action -> action.contains("at level all and saved"));
    assertThat(report.output()).contains(out.resolve("measured.optimized.onnx"));
    assertThat(out)
        .isDirectoryContaining(
            path -> path.getFileName().toString().equals("measured.optimized.onnx"));
    try (var files = Files.list(out)) {
      assertThat(files).hasSize(1);
    }
    for (OptimizationReport.Variant variant : report.variants()) {
      assertThat(variant.latencies())
          .extracting(OptimizationReport.Latency::batchSize)
          .containsExactly(1, 32);
      assertThat(variant.latencies())
          .allMatch(l -> l.p99().compareTo(l.p50()) >= 0 && l.runs() == 5);
      assertThat(variant.loadTime()).isPositive();
    }
    assertThat(report.original().accuracy()).isEmpty();
    assertThat(report.variants().get(1).accuracy().orElseThrow().maxAbsoluteError())
        .isLessThan(1e-4);
    Accuracy int8 = report.chosenVariant().accuracy().orElseThrow();
    assertThat(int8.maxAbsoluteError()).isPositive().isLessThan(0.02);
    assertThat(int8.meanAbsoluteError()).isLessThan(int8.maxAbsoluteError());
    assertThat(report.chosenVariant().fileBytes())
        .isLessThan(report.original().fileBytes() * 3 / 10);
    assertThat(report.engine()).startsWith("onnxruntime 1.24");

    // the chosen model is in the cache too: loading with the same options builds nothing
    ModelSource prepared = optimizer.prepare(source, INT8);
    assertThat(optimizer.builds()).isZero();
    assertThat(Files.mismatch(prepared.file(), report.output().orElseThrow())).isEqualTo(-1);
  }

  @Test
  void optimizeListsAnInt8RefusalAndKeepsTheGraphOptimizedVariant() throws IOException {
    ModelSource source = mlp("refused", 3);
    OptimizationReport report =
        optimizer.optimize(
            source,
            new OptimizationOptions(Level.EXTENDED, true, 1e-9, Granularity.PER_TENSOR),
            new MeasurementPlan(Runs.exactly(1), Runs.exactly(3), List.of(4)),
            directory.resolve("out"));

    assertThat(report.chosen()).isEqualTo("level extended");
    assertThat(report.variants()).hasSize(3);
    assertThat(report.refusals())
        .singleElement()
        .satisfies(refusal -> assertThat(refusal.optimization()).isEqualTo("int8"));
    assertThat(
            sidecarOf(
                    optimizer
                        .prepare(
                            source,
                            new OptimizationOptions(
                                Level.EXTENDED, true, 1e-9, Granularity.PER_TENSOR))
                        .file())
                .getProperty("note.refused.int8"))
        .isNotNull();
    assertThat(optimizer.builds()).isZero();

    OptimizationOptions suggested = report.suggestedOptimization().orElseThrow();
    assertThat(suggested.int8()).isFalse();
    assertThat(sidecarOf(optimizer.prepare(source, suggested).file()))
        .doesNotContainKey("note.refused.int8");
    assertThat(optimizer.builds()).as("the suggested config, served, builds nothing").isZero();
  }

  @Test
  void theSampleQualityPredictorQuantizedStaysNearThePyTorchReference() throws IOException {
    // a 10-32-1 network: activation quantization dominates, about 0.02 on the optimizer's wide
    // random inputs, so the default tolerance of 0.01 refuses it; 0.05 accepts it
    double tolerance = 0.05;
    ModelSource source =
        ModelSource.of("quality_predictor", 1, MODELS.resolve("quality_predictor/1/model.onnx"));
    ModelSource prepared =
        optimizer.prepare(
            source, new OptimizationOptions(Level.ALL, true, tolerance, Granularity.PER_CHANNEL));

    assertThat(sidecarOf(prepared.file()).getProperty("note.refused.int8")).isNull();
    assertThat(sidecarOf(prepared.file()).getProperty("note.action.0"))
        .contains("2 Gemm quantized");
    try (LoadedModel model = backend.load(prepared)) {
      for (ReferenceCase reference :
          ReferenceFile.read(MODELS.resolve("reference/quality_predictor.txt"))) {
        float[] got = model.infer(reference.inputs()).get(0).toFloatArray();
        float[] want = reference.expectedOutputs().get(0).toFloatArray();
        for (int i = 0; i < want.length; i++) {
          assertThat((double) Math.abs(got[i] - want[i])).isLessThan(tolerance);
        }
      }
    }
  }

  @Test
  void anUnreadableModelIsAUserError() throws IOException {
    Path file = Files.write(directory.resolve("broken.onnx"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> optimizer.prepare(ModelSource.of("broken", 1, file), INT8))
        .isInstanceOf(ModelLoadException.class)
        .satisfies(
            e ->
                assertThat(((ModelLoadException) e).category())
                    .isEqualTo(ErrorCategory.USER_ERROR));
  }

  @Test
  void tuneMeasuresEveryThreadCountAndBatchSize() throws IOException {
    ModelSource source = mlp("tuned", 4);
    TuningReport report =
        optimizer.tune(
            source,
            new TuningOptions(
                Duration.ofSeconds(5),
                List.of(1, 2),
                List.of(1, 8),
                Runs.exactly(1),
                Runs.exactly(3)));

    assertThat(report.trials()).hasSize(4);
    assertThat(report.trials())
        .extracting(TuningReport.Trial::threads, TuningReport.Trial::batchSize)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, 1),
            org.assertj.core.groups.Tuple.tuple(1, 8),
            org.assertj.core.groups.Tuple.tuple(2, 1),
            org.assertj.core.groups.Tuple.tuple(2, 8));
    assertThat(report.best()).isPresent();
    assertThat(report.suggestedParameters()).containsKey("intra_op_threads");
    assertThat(report.suggestedMaxBatchSize()).isEqualTo(report.best().orElseThrow().batchSize());

    TuningReport impossible =
        optimizer.tune(
            source,
            new TuningOptions(
                Duration.ofNanos(1), List.of(1), List.of(1, 2), Runs.exactly(0), Runs.exactly(2)));
    assertThat(impossible.best()).isEmpty();
    assertThat(impossible.note())
        .as("the target in the unit it was given, and what came nearest")
        .startsWith("no setting met the p99 target of 1 ns; the lowest p99 was ")
        .contains("(1 thread, batch ");
    assertThat(impossible.suggestedParameters()).as("a missed target suggests nothing").isEmpty();
    assertThat(impossible.suggestedMaxBatchSize()).isZero();
    assertThat(impossible.trials()).allSatisfy(trial -> assertThat(trial.runs()).isEqualTo(2));
  }

  private Accuracy error(ModelSource original, ModelSource prepared) {
    try (LoadedModel reference = backend.load(original);
        LoadedModel candidate = backend.load(prepared)) {
      OutputComparison comparison = new OutputComparison();
      for (List<Tensor> inputs : ProbeInputs.accuracySets(reference.signature())) {
        comparison.add(reference.infer(inputs), candidate.infer(inputs));
      }
      return comparison.result();
    }
  }

  private static Properties sidecarOf(Path model) throws IOException {
    Properties properties = new Properties();
    try (var in =
        Files.newInputStream(
            model.resolveSibling(model.getFileName().toString().replace(".onnx", ".properties")))) {
      properties.load(in);
    }
    return properties;
  }
}
