package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.Runs;
import dev.hangar.spi.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times {@link LoadedModel#infer} calls of several variants of one model, in process, on the same
 * inputs, interleaved in blocks (see {@link #time}) so that a machine that gets busier during the
 * measurement slows every variant alike.
 */
public final class LatencyHarness {
  private LatencyHarness() {}

  /**
   * Measures each model at each batch size of the plan and returns, per model, its latencies in the
   * plan's order. A signature without a batch dimension is timed once, at its own shape, and
   * reported as batch size 0. Each round of calls starts with {@code run}'s {@link
   * StoppableRun#check}.
   */
  public static List<List<Latency>> measure(
      List<LoadedModel> models, ModelSignature signature, MeasurementPlan plan, StoppableRun run) {
    List<List<Latency>> results = new ArrayList<>();
    for (int m = 0; m < models.size(); m++) {
      results.add(new ArrayList<>());
    }
    List<Integer> batchSizes = signature.batched() ? plan.batchSizes() : List.of(0);
    for (int batchSize : batchSizes) {
      List<Tensor> inputs = ProbeInputs.timing(signature, Math.max(1, batchSize));
      long[][] nanos = time(models, inputs, plan.warmup(), plan.timed(), run);
      for (int m = 0; m < models.size(); m++) {
        results.get(m).add(latency(batchSize, nanos[m]));
      }
    }
    return results;
  }

  /** How many consecutive timed runs one variant gets before the next variant's turn. */
  static final int BLOCK = 10;

  /**
   * Times the models on the inputs and returns each run's nanoseconds per model, every model with
   * as many runs. The warmup gives every model one run per round, for as many rounds as {@code
   * warmup} allows. Timed runs are interleaved in blocks: each variant in turn (the order rotating)
   * gets one untimed call, which brings its weights back into the CPU caches the other variants
   * evicted, then up to {@link #BLOCK} timed calls; after each such round {@code timed} decides
   * whether another follows. So a model is timed as it serves, warm in cache, and a machine that
   * gets busier during the measurement slows every variant alike. Each round starts with {@code
   * run}'s {@link StoppableRun#check}.
   */
  public static long[][] time(
      List<LoadedModel> models, List<Tensor> inputs, Runs warmup, Runs timed, StoppableRun run) {
    int count = models.size();
    long warmupStart = System.nanoTime();
    for (int w = 0; warmup.another(w, System.nanoTime() - warmupStart); w++) {
      run.check();
      for (LoadedModel model : models) {
        model.infer(inputs);
      }
    }
    long[][] nanos = new long[count][timed.count()];
    long timedStart = System.nanoTime();
    int done = 0;
    for (int round = 0; timed.another(done, System.nanoTime() - timedStart); round++) {
      run.check();
      int block = Math.min(BLOCK, timed.count() - done);
      for (int k = 0; k < count; k++) {
        int m = (round + k) % count;
        LoadedModel model = models.get(m);
        model.infer(inputs);
        for (int r = done; r < done + block; r++) {
          long start = System.nanoTime();
          model.infer(inputs);
          nanos[m][r] = System.nanoTime() - start;
        }
      }
      done += block;
    }
    for (int m = 0; m < count; m++) {
      nanos[m] = Arrays.copyOf(nanos[m], done);
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
