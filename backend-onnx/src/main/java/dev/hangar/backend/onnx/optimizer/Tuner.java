package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import dev.hangar.spi.TuningReport.Trial;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Measures a model at every intra-op thread count and batch size of {@link TuningOptions}, each
 * setting with its own warmup and timed runs, and chooses as {@link TuningReport#choose} does. A
 * process stop ends it at its next round of calls ({@link StoppableRun}).
 */
public final class Tuner {
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
    try (StoppableRun run = new StoppableRun()) {
      for (int threads : options.threadCounts()) {
        run.check();
        try (LoadedModel loaded = load.apply(threads)) {
          ModelSignature signature = loaded.signature();
          List<Integer> sizes = signature.batched() ? options.batchSizes() : List.of(0);
          for (int batchSize : sizes) {
            List<Tensor> inputs = ProbeInputs.timing(signature, Math.max(1, batchSize));
            long[] nanos =
                LatencyHarness.time(
                    List.of(loaded), inputs, options.warmup(), options.timed(), run)[0];
            trials.add(Trial.measured(threads, LatencyHarness.latency(batchSize, nanos)));
          }
        }
      }
    }
    return TuningReport.choose(model, engine, options.p99Target(), trials, threadParameter);
  }
}
