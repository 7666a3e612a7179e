package dev.hangar.backend.coreml;

import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.backend.coreml.SampleModelWriter.Sample;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.backend.onnx.OnnxOptimizer;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
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
import dev.hangar.testkit.ReferenceCase;
import dev.hangar.testkit.ReferenceFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CoreML models get the ONNX optimizations after compilation: cached by the .mlmodel's digest,
 * served by the CoreML backend in place of the original, measured like ONNX models.
 */
class CoreMlOptimizerTest {
  private static final Path MODELS = SampleModelFilesTest.MODELS;

  @TempDir Path directory;
  private CoreMlBackend backend;
  private ModelOptimizer optimizer;

  @BeforeEach
  void createBackend() {
    // load ONNX Runtime's native library from the build's cache, then cache optimized models here
    try (Backend shared = new OnnxBackendProvider().create(Runner.context())) {
      shared.prepare();
    }
    backend =
        (CoreMlBackend)
            new CoreMlBackendProvider().create(new BackendContext(directory.resolve("cache")));
    optimizer = backend.capability(ModelOptimizer.class).orElseThrow();
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

  private OnnxOptimizer onnxOptimizer() {
    return backend.onnx().optimizer();
  }

  private ModelSource copy(Sample sample) throws IOException {
    Path file = Files.createDirectories(directory.resolve(sample.name)).resolve("model.mlmodel");
    Files.copy(sample.coreMlFile(MODELS), file);
    return ModelSource.of(sample.name + "_coreml", 1, file);
  }

  private static List<ReferenceCase> reference(Sample sample) throws IOException {
    return ReferenceFile.read(MODELS.resolve("reference").resolve(sample.name + ".txt"));
  }

  @Test
  void aCompiledModelIsOptimizedOnceAndServedInPlaceOfTheOriginal() throws IOException {
    ModelSource source = copy(Sample.QUALITY_PREDICTOR);
    OptimizationOptions options = OptimizationOptions.graphOnly(Level.ALL);

    ModelSource prepared = optimizer.prepare(source, options);
    ModelSource again = optimizer.prepare(source, options);

    assertThat(onnxOptimizer().builds()).isEqualTo(1);
    assertThat(again.file()).isEqualTo(prepared.file());
    assertThat(prepared.file()).startsWith(directory.resolve("cache/onnx/optimized"));
    assertThat(prepared.file().getFileName().toString()).endsWith(".onnx");
    try (LoadedModel model = backend.load(prepared);
        LoadedModel original = backend.load(source)) {
      assertThat(model.signature()).isEqualTo(original.signature());
      for (ReferenceCase reference : reference(Sample.QUALITY_PREDICTOR)) {
        assertTensorsClose(model.infer(reference.inputs()), reference.expectedOutputs(), 1e-5);
      }
    }
  }

  @Test
  void int8WorksOnCompiledGraphsWithinTheTolerance() throws IOException {
    ModelSource source = copy(Sample.QUALITY_PREDICTOR);
    ModelSource prepared =
        optimizer.prepare(
            source, new OptimizationOptions(Level.BASIC, true, 0.05, Granularity.PER_CHANNEL));
    try (LoadedModel model = backend.load(prepared)) {
      for (ReferenceCase reference : reference(Sample.QUALITY_PREDICTOR)) {
        float want = reference.expectedOutputs().get(0).toFloatArray()[0];
        float got = model.infer(reference.inputs()).get(0).toFloatArray()[0];
        assertThat((double) Math.abs(got - want)).isLessThan(0.05);
      }
    }
    assertThat(
            dev.hangar.backend.onnx.proto.OnnxProto.ModelProto.parseFrom(
                    Files.readAllBytes(prepared.file()))
                .getGraph()
                .getNodeList())
        .extracting(node -> node.getOpType())
        .contains("DynamicQuantizeMatMul");
  }

  @Test
  void theCacheIsKeyedByTheMlmodelContent() throws IOException {
    ModelSource source = copy(Sample.QUALITY_PREDICTOR);
    OptimizationOptions options = OptimizationOptions.graphOnly(Level.EXTENDED);
    Path first = optimizer.prepare(source, options).file();

    Files.copy(
        Sample.ROUTING_CLASSIFIER.coreMlFile(MODELS),
        source.file(),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    ModelSource changed = optimizer.prepare(source, options);

    assertThat(onnxOptimizer().builds()).isEqualTo(2);
    assertThat(changed.file()).isNotEqualTo(first);
    try (LoadedModel model = backend.load(changed)) {
      assertThat(model.signature().inputs().get(0).shape()).containsExactly(-1, 15);
    }
  }

  @Test
  void optimizeReportsTheMlmodelAgainstItsOptimizedGraph() throws IOException {
    ModelSource source = copy(Sample.ROUTING_CLASSIFIER);
    OptimizationReport report =
        optimizer.optimize(
            source,
            new OptimizationOptions(Level.ALL, true, 0.5, Granularity.PER_TENSOR),
            new MeasurementPlan(Runs.exactly(1), Runs.exactly(5), List.of(1, 32)),
            directory.resolve("out"));

    assertThat(report.original().fileBytes()).isEqualTo(Files.size(source.file()));
    assertThat(report.variants())
        .extracting(OptimizationReport.Variant::name)
        .containsExactly("original", "level all", "level all + int8 per-tensor");
    assertThat(report.variants().get(1).accuracy().orElseThrow().maxAbsoluteError())
        .isLessThan(1e-5);
    assertThat(report.chosen()).isEqualTo("level all + int8 per-tensor");
    // the written file is plain ONNX: the ONNX backend serves it too
    try (Backend onnx = new OnnxBackendProvider().create(Runner.context());
        LoadedModel model =
            onnx.load(ModelSource.of("routing", 1, report.output().orElseThrow()))) {
      assertThat(model.signature().outputs().get(0).name()).isEqualTo("tier_probabilities");
    }
  }

  @Test
  void anOnnxFileOutsideTheOptimizerCacheIsRefused() {
    ModelSource stray = ModelSource.of("stray", 1, Sample.QUALITY_PREDICTOR.onnxFile(MODELS));
    assertThatThrownBy(() -> backend.load(stray))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("is not a CoreML model")
        .satisfies(
            e ->
                assertThat(((ModelLoadException) e).category())
                    .isEqualTo(ErrorCategory.USER_ERROR));
  }
}
