package dev.hangar.backend.torchscript.bench;

import dev.hangar.backend.torchscript.TorchScriptBackendProvider;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The first model load of a fresh JVM (one measurement per fork): creating the backend, unpacking
 * libtorch when the cache is cold, loading libtorch through DJL, loading the module, and the probe
 * inference. Each fork also prints its resident memory before and after, what each further model
 * adds against the backend's {@link LoadedModel#memoryEstimateBytes()}, and the latency of the
 * first calls to a fresh model with the graph executor's optimization on and off.
 *
 * <pre>
 * ./mvnw -DskipTests -pl backend-torchscript -am verify -Dbench=torchscript \
 *     -Dbench.args="TorchScriptFirstLoad -f 3 -wi 0 -i 1"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(3)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
public class TorchScriptFirstLoadBenchmark {
  private static final int EXTRA_MODELS = 50;

  /** {@code cold}: an empty cache directory; {@code warm}: libtorch already unpacked there. */
  @Param({"cold", "warm"})
  public String cache;

  private Path cacheDirectory;
  private long residentBefore;
  private Backend backend;
  private LoadedModel model;

  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    if (cache.equals("cold")) {
      cacheDirectory = Files.createTempDirectory("hangar-cold-cache");
    } else {
      cacheDirectory =
          Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"), "bench-warm");
      // a load in another JVM leaves libtorch unpacked there
      Process process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  WarmCache.class.getName(),
                  cacheDirectory.toString())
              .inheritIO()
              .start();
      if (process.waitFor() != 0) {
        throw new IllegalStateException("warming the cache failed");
      }
    }
    residentBefore = BenchModels.residentKibibytes();
  }

  @Benchmark
  public LoadedModel firstLoad() {
    backend = new TorchScriptBackendProvider().create(new BackendContext(cacheDirectory));
    model = backend.load(BenchModels.qualityPredictor("quality_predictor_torchscript"));
    return model;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    long residentAfter = BenchModels.residentKibibytes();
    List<Tensor> input = List.of(Tensor.ofFloats("features", new long[] {1, 10}, new float[10]));
    List<LoadedModel> more = new ArrayList<>();
    for (int i = 0; i < EXTRA_MODELS; i++) {
      LoadedModel extra = backend.load(BenchModels.qualityPredictor("copy_" + i));
      // as Hangar's warmup does: the profiling executor keeps its optimized plan per model
      for (int call = 0; call < 3; call++) {
        extra.infer(input);
      }
      more.add(extra);
    }
    long residentWithMore = BenchModels.residentKibibytes();
    System.out.printf(
        "%nRSS %s cache: %d MiB before the first load, %d MiB after it; each further model adds"
            + " %d KiB after 3 inferences (over %d models), the backend estimates %d KiB%n",
        cache,
        residentBefore / 1024,
        residentAfter / 1024,
        (residentWithMore - residentAfter) / EXTRA_MODELS,
        EXTRA_MODELS,
        model.memoryEstimateBytes() / 1024);
    for (LoadedModel loaded : more) {
      loaded.close();
    }
    System.out.printf(
        "first calls after load, graph executor optimization on:  %s%n"
            + "first calls after load, graph executor optimization off: %s%n",
        firstCalls("true", input), firstCalls("false", input));
    model.close();
    backend.close();
    if (cache.equals("cold")) {
      try (Stream<Path> files = Files.walk(cacheDirectory)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
  }

  /** Returns the latencies of the first calls to a freshly loaded model (after its probe). */
  private String firstCalls(String optimization, List<Tensor> input) {
    ModelSource base = BenchModels.qualityPredictor("first_calls_" + optimization);
    ModelSource source =
        new ModelSource(
            base.name(),
            base.version(),
            base.file(),
            base.declaredSignature(),
            new ModelParameters(
                Map.of("intra_op_threads", "1", "graph_executor_optimization", optimization)));
    List<String> micros = new ArrayList<>();
    try (LoadedModel fresh = backend.load(source)) {
      for (int call = 0; call < 6; call++) {
        long start = System.nanoTime();
        fresh.infer(input);
        micros.add((System.nanoTime() - start) / 1000 + " us");
      }
    }
    return String.join(", ", micros);
  }

  /** Loads the model once with the given cache directory, so that libtorch is unpacked there. */
  public static final class WarmCache {
    private WarmCache() {}

    /** Argument: the cache directory. */
    public static void main(String[] args) {
      try (Backend backend =
              new TorchScriptBackendProvider().create(new BackendContext(Path.of(args[0])));
          LoadedModel model = backend.load(BenchModels.qualityPredictor("warm"))) {
        model.signature();
      }
    }
  }
}
