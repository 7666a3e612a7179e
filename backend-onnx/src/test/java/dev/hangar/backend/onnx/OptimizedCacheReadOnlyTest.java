package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.optimizer.OutputComparison;
import dev.hangar.backend.onnx.optimizer.ProbeInputs;
import dev.hangar.backend.onnx.optimizer.TestGraphs;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.Tensor;
import dev.hangar.testkit.ReadOnlyTree;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The optimized-model cache in a directory that cannot be written (an intact entry is served
 * without a write; a missing or corrupt one is built in a temporary directory, with one warning),
 * and garbage where the cache keeps its files (deleted and rebuilt).
 */
class OptimizedCacheReadOnlyTest {
  private static final OptimizationOptions INT8 =
      new OptimizationOptions(Level.ALL, true, 0.1, Granularity.PER_CHANNEL);

  @TempDir Path directory;
  private Path cache;
  private final List<Backend> backends = new ArrayList<>();
  private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
  private final Logger optimizerLog = Logger.getLogger(OnnxOptimizer.class.getName());
  private final Handler recorder =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
            warnings.add(record);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private ReadOnlyTree readOnly;

  @BeforeEach
  void setUp() {
    // the native library from the build's shared cache; optimized models in this test's own
    System.setProperty(
        "onnxruntime.native.path",
        System.getProperty("onnxruntime.native.path", sharedNativeDirectory().toString()));
    cache = directory.resolve("cache");
    optimizerLog.addHandler(recorder);
  }

  @AfterEach
  void tearDown() throws IOException {
    optimizerLog.removeHandler(recorder);
    for (Backend backend : backends) {
      backend.close();
    }
    if (readOnly != null) {
      readOnly.close();
    }
  }

  private static Path sharedNativeDirectory() {
    OnnxNativeLibrary shared =
        new OnnxNativeLibrary(
            Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache")).resolve("onnx"));
    shared.environment();
    return shared.nativeDirectory();
  }

  /** A fresh backend on the test's cache, as a new process would have. */
  private OnnxOptimizer optimizer() {
    Backend backend = new OnnxBackendProvider().create(new BackendContext(cache));
    backends.add(backend);
    return (OnnxOptimizer) backend.capability(ModelOptimizer.class).orElseThrow();
  }

  private ModelSource mlp(String name) throws IOException {
    Path file =
        TestGraphs.write(
            TestGraphs.mlp(name, new int[] {16, 64, 4}, 1, false),
            directory.resolve("models"),
            name);
    return ModelSource.of(name, 1, file);
  }

  @Test
  void anIntactEntryIsServedFromAReadOnlyCacheWithoutAnyWrite() throws IOException {
    ModelSource source = mlp("intact");
    Path built = optimizer().prepare(source, INT8).file();
    var listing = ReadOnlyTree.listing(cache);
    readOnly = new ReadOnlyTree(cache);

    OnnxOptimizer reader = optimizer();
    ModelSource served = reader.prepare(source, INT8);

    assertThat(served.file()).isEqualTo(built);
    assertThat(reader.builds()).isZero();
    assertThat(maxError(source, served)).isLessThan(0.1);
    assertThat(warnings).isEmpty();
    assertThat(ReadOnlyTree.listing(cache)).isEqualTo(listing);
  }

  @Test
  void anEmptyReadOnlyCacheOptimizesIntoATemporaryDirectoryWithOneWarning() throws IOException {
    ModelSource source = mlp("empty");
    Files.createDirectories(cache);
    readOnly = new ReadOnlyTree(cache);

    OnnxOptimizer optimizer = optimizer();
    ModelSource served = optimizer.prepare(source, INT8);
    ModelSource again = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).as("built once, then reused in this process").isOne();
    assertThat(again.file()).isEqualTo(served.file());
    assertThat(served.file().startsWith(cache)).as("served from the cache").isFalse();
    assertThat(served.file()).isRegularFile();
    assertThat(served.parameters().string("graph_optimization_level")).contains("disable");
    assertThat(maxError(source, served)).isPositive().isLessThan(0.1);
    assertThat(warnings)
        .singleElement()
        .satisfies(
            warning ->
                assertThat(format(warning))
                    .startsWith("model 'empty' version 1 (")
                    .contains("the cache directory " + cache)
                    .contains("cannot be written")
                    .contains("every start optimizes it again"));
    try (var files = Files.list(cache)) {
      assertThat(files).as("nothing is written into the cache").isEmpty();
    }
    backends.get(0).close();
    assertThat(served.file()).doesNotExist();
  }

  @Test
  void aCorruptEntryInAReadOnlyCacheIsNotServed() throws IOException {
    ModelSource source = mlp("corrupt");
    Path built = optimizer().prepare(source, INT8).file();
    try (FileChannel channel = FileChannel.open(built, StandardOpenOption.WRITE)) {
      channel.truncate(Files.size(built) / 2);
    }
    readOnly = new ReadOnlyTree(cache);

    OnnxOptimizer optimizer = optimizer();
    ModelSource served = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isOne();
    assertThat(served.file().startsWith(cache)).as("served from the cache").isFalse();
    assertThat(maxError(source, served)).isLessThan(0.1);
    assertThat(warnings).hasSize(1);
  }

  @Test
  void aSidecarThatIsADirectoryIsDeletedAndTheEntryRebuilt() throws IOException {
    ModelSource source = mlp("sidecar_directory");
    Path built = optimizer().prepare(source, INT8).file();
    Path sidecar = sibling(built, ".properties");
    Files.delete(sidecar);
    Files.createDirectories(sidecar.resolve("junk"));

    OnnxOptimizer optimizer = optimizer();
    ModelSource served = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isOne();
    assertThat(served.file()).isEqualTo(built);
    assertThat(sidecar).isRegularFile();
    assertThat(maxError(source, served)).isLessThan(0.1);
  }

  @Test
  void aLockFileThatIsADirectoryIsReplacedWhenTheEntryIsBuilt() throws IOException {
    ModelSource source = mlp("lock_directory");
    Path built = optimizer().prepare(source, INT8).file();
    Path lock = sibling(built, ".lock");
    for (Path file : List.of(built, sibling(built, ".properties"), lock)) {
      Files.delete(file);
    }
    Files.createDirectories(lock.resolve("junk"));

    OnnxOptimizer optimizer = optimizer();
    ModelSource served = optimizer.prepare(source, INT8);

    assertThat(optimizer.builds()).isOne();
    assertThat(served.file()).isEqualTo(built).isRegularFile();
    assertThat(lock).isRegularFile();
  }

  private static Path sibling(Path model, String extension) {
    return model.resolveSibling(model.getFileName().toString().replace(".onnx", extension));
  }

  private static String format(LogRecord record) {
    return new SimpleFormatter().formatMessage(record);
  }

  private double maxError(ModelSource original, ModelSource prepared) {
    Backend backend = new OnnxBackendProvider().create(new BackendContext(directory));
    try (backend;
        LoadedModel reference = backend.load(original);
        LoadedModel candidate = backend.load(prepared)) {
      OutputComparison comparison = new OutputComparison();
      for (List<Tensor> inputs : ProbeInputs.accuracySets(reference.signature())) {
        comparison.add(reference.infer(inputs), candidate.infer(inputs));
      }
      return comparison.result().maxAbsoluteError();
    }
  }
}
