package dev.hangar.backend.torchscript.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtEngineProvider;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.backend.torchscript.TorchScriptBackendProvider;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Latency of one call through {@link LoadedModel#infer} against the same forward done with DJL
 * directly, on the same module file in the same JVM: percentiles from JMH's SampleTime mode.
 *
 * <p>Both sides copy the input into direct memory, run forward without autograd in a DJL
 * sub-manager and copy the output into a heap buffer; the backend adds input validation, the
 * mapping of outputs to the signature and the output checks.
 *
 * <pre>
 * ./mvnw -DskipTests -pl backend-torchscript -am verify -Dbench=torchscript \
 *     -Dbench.args="TorchScriptLatency -f 1 -wi 3 -i 5"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TorchScriptLatencyBenchmark {
  @Param({"1", "32"})
  public int batch;

  private Backend backend;
  private LoadedModel model;
  private List<Tensor> inputs;

  private NDManager rawManager;
  private PtSymbolBlock rawModule;
  private float[] rawInput;
  private Shape rawShape;

  @Setup
  public void setUp() {
    String cache = System.getProperty("hangar.cache.dir", "target/hangar-cache");
    backend = new TorchScriptBackendProvider().create(new BackendContext(Path.of(cache)));
    model = backend.load(BenchModels.qualityPredictor("quality_predictor_torchscript"));
    rawInput = new float[batch * 10];
    Random random = new Random(7);
    for (int i = 0; i < rawInput.length; i++) {
      rawInput[i] = random.nextFloat();
    }
    inputs = List.of(Tensor.ofFloats("features", new long[] {batch, 10}, rawInput));
    rawShape = new Shape(batch, 10);

    // the engine the backend started: DJL keeps one per process
    Engine engine = new PtEngineProvider().getEngine();
    rawManager = engine.newBaseManager();
    rawModule =
        JniUtils.loadModule(
            (PtNDManager) rawManager,
            BenchModels.qualityPredictorFile(),
            true,
            new String[0],
            new String[0],
            false);
    JniUtils.enableInferenceMode(rawModule);
    System.out.printf(
        "%nRSS after loading (libtorch, the backend's model and the raw module): %d MiB%n",
        BenchModels.residentKibibytes() / 1024);
  }

  @TearDown
  public void tearDown() {
    rawModule.close();
    rawManager.close();
    model.close();
    backend.close();
  }

  /** The backend: validation, conversion both ways, forward, output checks. */
  @Benchmark
  public List<Tensor> backendInfer() {
    return model.infer(inputs);
  }

  /** DJL on its own: create the input, forward without autograd, copy the output out. */
  @Benchmark
  public ByteBuffer rawDjlForward() {
    try (NDManager request = rawManager.newSubManager()) {
      NDArray input = request.create(rawInput, rawShape);
      try (IValue argument = IValue.from((PtNDArray) input);
          IValue result = rawModule.forward(argument)) {
        return result.toTensor((PtNDManager) request).toByteBuffer();
      }
    }
  }
}
