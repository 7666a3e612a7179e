package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times {@link LoadedModel#infer} calls of several variants of one model, in process, on the same
 * inputs. Runs are interleaved (variant A, B, C, then B, C, A, ...) so that a machine that gets
 * busier during the measurement slows every variant alike.
 */
public final class LatencyHarness {
  private LatencyHarness() {}

  /**
   * Measures each model at each batch size of the plan and returns, per model, its latencies in the
   * plan's order. A signature without a batch dimension is timed once, at its own shape, and
   * reported as batch size 0.
   */
  public static List<List<Latency>> measure(
      List<LoadedModel> models, ModelSignature signature, MeasurementPlan plan) {
    List<List<Latency>> results = new ArrayList<>();
    for (int m = 0; m < models.size(); m++) {
      results.add(new ArrayList<>());
    }
    List<Integer> batchSizes = signature.batched() ? plan.batchSizes() : List.of(0);
    for (int batchSize : batchSizes) {
      List<Tensor> inputs = ProbeInputs.timing(signature, Math.max(1, batchSize));
      long[][] nanos = time(models, inputs, plan.warmupRuns(), plan.timedRuns());
      for (int m = 0; m < models.size(); m++) {
        results.get(m).add(latency(batchSize, nanos[m]));
      }
    }
    return results;
  }

  /** Times the models on the inputs, interleaved, and returns each run's nanoseconds per model. */
  public static long[][] time(List<LoadedModel> models, List<Tensor> inputs, int warmup, int runs) {
    int count = models.size();
    for (int w = 0; w < warmup; w++) {
      for (LoadedModel model : models) {
        model.infer(inputs);
      }
    }
    long[][] nanos = new long[count][runs];
    for (int r = 0; r < runs; r++) {
      for (int k = 0; k < count; k++) {
        int m = (r + k) % count;
        long start = System.nanoTime();
        models.get(m).infer(inputs);
        nanos[m][r] = System.nanoTime() - start;
      }
    }
    return nanos;
  }

  /** Returns the latency percentiles of the runs. */
  public static Latency latency(int batchSize, long[] runNanos) {
    long[] sorted = runNanos.clone();
    Arrays.sort(sorted);
    return new Latency(
        batchSize,
        Duration.ofNanos(percentile(sorted, 0.50)),
        Duration.ofNanos(percentile(sorted, 0.99)),
        sorted.length);
  }

  /** The nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, double fraction) {
    int rank = (int) Math.ceil(fraction * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }
}
