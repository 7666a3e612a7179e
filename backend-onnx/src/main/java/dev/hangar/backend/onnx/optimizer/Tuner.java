package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import dev.hangar.spi.TuningReport.Trial;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Measures a model at every intra-op thread count and batch size of {@link TuningOptions} and picks
 * the setting with the most rows per second whose p99 latency stays under the target (fewer threads
 * winning a tie). Each setting is timed for at most {@link #TRIAL_BUDGET} after its warmup, and at
 * least 10 runs.
 */
public final class Tuner {
  /** How long one setting's timed runs may take before they stop early. */
  public static final Duration TRIAL_BUDGET = Duration.ofSeconds(2);

  private Tuner() {}

  /**
   * Tunes a model.
   *
   * @param model the model name, for the report
   * @param engine the engine, for the report
   * @param threadParameter the backend's parameter name for the intra-op thread count
   * @param load loads the model with the given intra-op thread count; the tuner closes it
   * @param options what to measure
   */
  public static TuningReport tune(
      String model,
      String engine,
      String threadParameter,
      IntFunction<LoadedModel> load,
      TuningOptions options) {
    List<Trial> trials = new ArrayList<>();
    boolean batched = true;
    for (int threads : options.threadCounts()) {
      try (LoadedModel loaded = load.apply(threads)) {
        ModelSignature signature = loaded.signature();
        batched = signature.batched();
        List<Integer> sizes = batched ? options.batchSizes() : List.of(0);
        for (int batchSize : sizes) {
          List<Tensor> inputs = ProbeInputs.timing(signature, Math.max(1, batchSize));
          Latency latency =
              LatencyHarness.latency(
                  batchSize, time(loaded, inputs, options.warmupRuns(), options.timedRuns()));
          trials.add(
              new Trial(
                  threads,
                  batchSize,
                  latency.p50(),
                  latency.p99(),
                  Math.max(1, batchSize) * 1e9 / Math.max(1, latency.p50().toNanos())));
        }
      }
    }
    Optional<Trial> best =
        trials.stream()
            .filter(trial -> trial.p99().compareTo(options.p99Target()) <= 0)
            .max(
                Comparator.comparingDouble(Trial::rowsPerSecond)
                    .thenComparing(Comparator.comparingInt(Trial::threads).reversed()));
    Trial suggested =
        best.orElseGet(() -> trials.stream().min(Comparator.comparing(Trial::p99)).orElseThrow());
    String note =
        best.isPresent()
            ? "the most rows per second among the "
                + trials.stream().filter(t -> t.p99().compareTo(options.p99Target()) <= 0).count()
                + " of "
                + trials.size()
                + " settings whose p99 is under "
                + format(options.p99Target())
            : "no setting kept p99 under "
                + format(options.p99Target())
                + "; suggesting the one with the lowest p99 ("
                + format(suggested.p99())
                + ")";
    return new TuningReport(
        model,
        engine,
        options.p99Target(),
        trials,
        best,
        Map.of(threadParameter, Integer.toString(suggested.threads())),
        batched ? suggested.batchSize() : 0,
        note);
  }

  private static long[] time(LoadedModel model, List<Tensor> inputs, int warmup, int runs) {
    for (int i = 0; i < warmup; i++) {
      model.infer(inputs);
    }
    long[] nanos = new long[runs];
    long budget = TRIAL_BUDGET.toNanos();
    long spent = 0;
    int done = 0;
    while (done < runs && (done < 10 || spent < budget)) {
      long start = System.nanoTime();
      model.infer(inputs);
      nanos[done] = System.nanoTime() - start;
      spent += nanos[done];
      done++;
    }
    return java.util.Arrays.copyOf(nanos, done);
  }

  /** Formats a duration as milliseconds with two decimals, such as {@code 1.25 ms}. */
  public static String format(Duration duration) {
    return String.format(java.util.Locale.ROOT, "%.2f ms", duration.toNanos() / 1e6);
  }
}
