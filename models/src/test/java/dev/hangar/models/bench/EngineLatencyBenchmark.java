package dev.hangar.models.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.models.ServingCore;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batch-1 latency of {@code InferenceService} on the sample {@code quality_predictor} against a raw
 * ONNX Runtime call on the same file with the same session settings, in the same JVM; and the
 * latency of a response-cache hit. SampleTime mode reports p50 and p99.
 *
 * <pre>
 * ./mvnw -DskipTests -pl models -am verify -Dbench=models -Dbench.args="EngineLatency -f 1 -wi 3 -i 5"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx512m"})
public class EngineLatencyBenchmark {
  private static final float[] FEATURES = {
    0.2f, 0.1f, 0.5f, 0.3f, 0.1f, 0.6f, 0.8f, 0.4f, 0.5f, 0.2f
  };

  private Path repository;
  private ServingCore server;
  private OrtEnvironment environment;
  private OrtSession session;
  private InferenceRequest request;
  private InferenceRequest cachedRequest;

  @Setup(Level.Trial)
  public void start() throws IOException, OrtException {
    Path models = Path.of(System.getProperty("hangar.models.dir", "models"));
    Path onnx = models.resolve("quality_predictor/1/model.onnx").toAbsolutePath();
    repository = Files.createTempDirectory("hangar-latency");
    String config = Files.readString(models.resolve("quality_predictor/config.yaml"));
    ServingCore.model(repository, "quality_predictor", onnx, config);
    ServingCore.model(
        repository, "quality_predictor_cached", onnx, config + "response_cache: {enabled: true}\n");
    server = new ServingCore(repository, DataSize.ofMegabytes(500));
    request =
        InferenceRequest.of(
            "quality_predictor",
            List.of(Tensor.ofFloats("features", new long[] {1, 10}, FEATURES)));
    cachedRequest = InferenceRequest.of("quality_predictor_cached", request.inputs());
    server.inference.infer(request);
    server.inference.infer(cachedRequest);
    // the raw call: the same file and settings (intra_op_threads 1, as the sample's config.yaml)
    environment = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      session = environment.createSession(onnx.toString(), options);
    }
  }

  @TearDown(Level.Trial)
  public void stop() throws IOException, OrtException {
    session.close();
    server.close();
    try (Stream<Path> files = Files.walk(repository)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }

  /** ONNX Runtime alone: tensor in, run, copy the output out. */
  @Benchmark
  public FloatBuffer rawOnnxRuntime() throws OrtException {
    try (OnnxTensor input =
            OnnxTensor.createTensor(environment, FloatBuffer.wrap(FEATURES), new long[] {1, 10});
        OrtSession.Result result = session.run(Map.of("features", input))) {
      return ((OnnxTensor) result.get(0)).getFloatBuffer();
    }
  }

  /** The same request through Hangar: lease, validation, scheduler, backend, statistics. */
  @Benchmark
  public InferenceResponse inferenceService() {
    return server.inference.infer(request);
  }

  /** A request answered from the response cache. */
  @Benchmark
  public InferenceResponse cacheHit() {
    return server.inference.infer(cachedRequest);
  }
}
