package dev.hangar.models.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.models.ServingCore;
import dev.hangar.models.WriteMlp;
import dev.hangar.spi.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Recorder;

/**
 * Throughput and p99 of {@code InferenceService} on a compute-heavy MLP (64-3500-3500-8, about 50
 * MB) at 1, 8, 64 and 256 concurrent callers each sending one row, with dynamic batching on ({@code
 * max_batch_size: 64}) and off ({@code max_batch_size: 0}), beside raw ONNX Runtime on the same
 * file at batch 1 and batch 64 in the same JVM: raw batch 64 is the most batching can give.
 *
 * <pre>
 * ./mvnw -DskipTests -pl models -am verify -Dbench=models \
 *     -Dbench.main=dev.hangar.models.bench.BatchingThroughputHarness -Dbench.args="2 6"
 * </pre>
 *
 * Arguments: warmup seconds and measured seconds per point (default 2 and 6).
 */
public final class BatchingThroughputHarness {
  private static final int[] CALLERS = {1, 8, 64, 256};

  private BatchingThroughputHarness() {}

  public static void main(String[] args) throws Exception {
    long warmupNanos = (long) (Double.parseDouble(args.length > 0 ? args[0] : "2") * 1e9);
    long measureNanos = (long) (Double.parseDouble(args.length > 1 ? args[1] : "6") * 1e9);
    Path work = Files.createTempDirectory("hangar-batching");
    Path mlp = WriteMlp.inChildJvm(work.resolve("weights"));
    Path repository = work.resolve("repository");
    ServingCore.model(
        repository, "mlp_batched", mlp, "max_batch_size: 64\nload_at_startup: true\n");
    ServingCore.model(
        repository, "mlp_unbatched", mlp, "max_batch_size: 0\nload_at_startup: true\n");
    // ONNX Runtime's own default, which Hangar's is not: threads that spin between parallel
    // sections
    ServingCore.model(
        repository,
        "mlp_batched_spinning",
        mlp,
        "max_batch_size: 64\nload_at_startup: true\nparameters: {allow_spinning: true}\n");
    System.out.printf(
        Locale.ROOT,
        "CPU cores: %d; model %s (%.1f MB)%n",
        Runtime.getRuntime().availableProcessors(),
        mlp,
        Files.size(mlp) / 1e6);

    double rawBatch1 = rawSamplesPerSecond(mlp, 1, warmupNanos, measureNanos);
    double rawBatch64 = rawSamplesPerSecond(mlp, 64, warmupNanos, measureNanos);
    System.out.printf(
        Locale.ROOT,
        "raw ONNX Runtime: batch 1 %.0f samples/s, batch 64 %.0f samples/s (%.1fx)%n",
        rawBatch1,
        rawBatch64,
        rawBatch64 / rawBatch1);

    try (ServingCore server = new ServingCore(repository, DataSize.ofMegabytes(1024))) {
      System.out.printf(
          "%-21s %8s %12s %10s %10s %10s %12s%n",
          "model", "callers", "samples/s", "p50 ms", "p99 ms", "avg batch", "vs raw b64");
      for (String model : List.of("mlp_batched", "mlp_batched_spinning", "mlp_unbatched")) {
        for (int callers : CALLERS) {
          Point point = measure(server, model, callers, warmupNanos, measureNanos);
          System.out.printf(
              Locale.ROOT,
              "%-21s %8d %12.0f %10.2f %10.2f %10.1f %11.2fx%n",
              model,
              callers,
              point.samplesPerSecond,
              point.p50Millis,
              point.p99Millis,
              point.averageBatch,
              point.samplesPerSecond / rawBatch64);
        }
      }
    }
    double rawAgain = rawSamplesPerSecond(mlp, 64, warmupNanos, measureNanos);
    System.out.printf(
        Locale.ROOT,
        "raw ONNX Runtime batch 64 again, after the service runs: %.0f samples/s (ratios above use the first)%n",
        rawAgain);
  }

  private record Point(
      double samplesPerSecond, double p50Millis, double p99Millis, double averageBatch) {}

  private static Point measure(
      ServingCore server, String model, int callers, long warmupNanos, long measureNanos)
      throws InterruptedException {
    Recorder latencies = new Recorder(3);
    AtomicBoolean measuring = new AtomicBoolean(false);
    AtomicBoolean running = new AtomicBoolean(true);
    long[] completed = new long[callers];
    CountDownLatch done = new CountDownLatch(callers);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      int index = i;
      Thread thread =
          new Thread(
              () -> {
                Random random = new Random(index);
                float[] values = new float[64];
                try {
                  while (running.get()) {
                    for (int j = 0; j < values.length; j++) {
                      values[j] = (float) random.nextGaussian();
                    }
                    InferenceRequest request =
                        InferenceRequest.of(
                            model, List.of(Tensor.ofFloats("x", new long[] {1, 64}, values)));
                    long start = System.nanoTime();
                    server.inference.infer(request);
                    if (measuring.get()) {
                      latencies.recordValue(System.nanoTime() - start);
                      completed[index]++;
                    }
                  }
                } finally {
                  done.countDown();
                }
              },
              "caller-" + i);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    Thread.sleep(warmupNanos / 1_000_000);
    StatisticsSnapshot before =
        server.manager.statistics(new ModelVersionKey(model, 1)).orElseThrow().snapshot();
    latencies.reset();
    measuring.set(true);
    long start = System.nanoTime();
    Thread.sleep(measureNanos / 1_000_000);
    measuring.set(false);
    long elapsed = System.nanoTime() - start;
    StatisticsSnapshot after =
        server.manager.statistics(new ModelVersionKey(model, 1)).orElseThrow().snapshot();
    running.set(false);
    done.await();
    long total = 0;
    for (long count : completed) {
      total += count;
    }
    var histogram = latencies.getIntervalHistogram();
    long executions = after.executions() - before.executions();
    long inferences = after.inferences() - before.inferences();
    return new Point(
        total / (elapsed / 1e9),
        histogram.getValueAtPercentile(50) / 1e6,
        histogram.getValueAtPercentile(99) / 1e6,
        executions == 0 ? 0 : inferences / (double) executions);
  }

  private static double rawSamplesPerSecond(
      Path model, int batch, long warmupNanos, long measureNanos) throws OrtException {
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = environment.createSession(model.toString(), options)) {
      float[] values = new float[batch * 64];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) Math.sin(i);
      }
      long deadline = System.nanoTime() + warmupNanos;
      while (System.nanoTime() < deadline) {
        run(environment, session, values, batch);
      }
      long start = System.nanoTime();
      long samples = 0;
      while (System.nanoTime() - start < measureNanos) {
        run(environment, session, values, batch);
        samples += batch;
      }
      return samples / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static void run(OrtEnvironment environment, OrtSession session, float[] values, int batch)
      throws OrtException {
    try (OnnxTensor input =
            OnnxTensor.createTensor(environment, FloatBuffer.wrap(values), new long[] {batch, 64});
        OrtSession.Result result = session.run(Map.of("x", input))) {
      result.get(0);
    }
  }
}
