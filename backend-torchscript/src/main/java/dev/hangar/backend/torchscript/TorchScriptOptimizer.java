package dev.hangar.backend.torchscript;

import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.OptimizationReport.Refusal;
import dev.hangar.spi.OptimizationReport.Variant;
import dev.hangar.spi.Runs;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import dev.hangar.spi.TuningReport.Trial;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The TorchScript backend's {@link ModelOptimizer}. DJL has no API to freeze ({@code
 * torch.jit.freeze}) or quantize ({@code torch.ao.quantization.quantize_dynamic}) a loaded module,
 * so both are left to export time (see the module README); what this optimizer offers is the
 * settings the backend has, chosen by measurement: the intra-op thread count, the graph executor's
 * optimization and inference mode. It writes no model file; the chosen settings come back as
 * suggested {@code parameters:}.
 *
 * <p>libtorch's intra-op thread count is process-wide, so candidates are measured one thread count
 * after the other, and the count in force before is restored afterwards. Not for a serving process:
 * measuring changes the thread count under every other model while it runs.
 */
final class TorchScriptOptimizer implements ModelOptimizer {
  /** A candidate must beat the model's own settings by this factor to be chosen over them. */
  static final double NOISE_MARGIN = 1.03;

  private static final long SEED = 0x5EED_7041L;

  private final TorchScriptBackend backend;

  TorchScriptOptimizer(TorchScriptBackend backend) {
    this.backend = backend;
  }

  /**
   * Applies what the options can mean for TorchScript: level {@code none} runs the graph
   * unoptimized ({@code graph_executor_optimization: false}); the other levels leave libtorch's own
   * executor optimization on. int8 is refused: quantize at export.
   */
  @Override
  public ModelSource prepare(ModelSource source, OptimizationOptions options) {
    if (options.int8()) {
      throw new ModelLoadException(ErrorCategory.USER_ERROR, int8Refusal(source));
    }
    if (options.level() != Level.NONE) {
      return source;
    }
    Map<String, String> parameters = new HashMap<>(source.parameters().values());
    parameters.put(TorchScriptSettings.GRAPH_EXECUTOR_OPTIMIZATION, "false");
    return new ModelSource(
        source.name(),
        source.version(),
        source.file(),
        source.declaredSignature(),
        new ModelParameters(parameters));
  }

  private static String int8Refusal(ModelSource source) {
    return "model "
        + source.label()
        + ": the TorchScript backend cannot quantize a loaded module (DJL has no API for it);"
        + " quantize at export with torch.ao.quantization.quantize_dynamic (see the"
        + " backend-torchscript README) and remove int8 from the optimization block";
  }

  /** One candidate setting. */
  private record Candidate(String name, int threads, boolean optimizeGraph, boolean inferenceMode) {
    Map<String, String> parameters() {
      return Map.of(
          TorchScriptSettings.INTRA_OP_THREADS,
          Integer.toString(threads),
          TorchScriptSettings.GRAPH_EXECUTOR_OPTIMIZATION,
          Boolean.toString(optimizeGraph),
          TorchScriptSettings.INFERENCE_MODE,
          Boolean.toString(inferenceMode));
    }
  }

  /** A measured candidate. */
  private record Measured(Candidate candidate, Variant variant, double score) {}

  @Override
  public OptimizationReport optimize(
      ModelSource source, OptimizationOptions options, MeasurementPlan plan, Path outputDirectory) {
    backend.prepare();
    int threadsBefore = JniUtils.getNumThreads();
    TorchScriptSettings own = TorchScriptSettings.from(source.parameters());
    List<Refusal> refusals = new ArrayList<>();
    if (options.int8()) {
      refusals.add(new Refusal("int8", int8Refusal(source)));
    }
    refusals.add(
        new Refusal(
            "graph freezing",
            "DJL cannot freeze a loaded module; export with torch.jit.freeze (see the"
                + " backend-torchscript README)"));
    List<Loaded> loaded = new ArrayList<>();
    Map<String, List<String>> failures = new LinkedHashMap<>();
    try {
      Candidate original =
          new Candidate(
              "original (" + describe(own, threadsBefore) + ")",
              own.intraOpThreads().orElse(threadsBefore),
              own.graphExecutorOptimization(),
              own.inferenceMode());
      long fileBytes = Files.size(source.file());
      // the first load of a process pays one-time costs; no variant should be charged them
      load(source, original).close();
      loaded.add(loadTimed(source, original));
      ModelSignature signature = loaded.get(0).model().signature();
      List<List<Tensor>> probes = accuracyInputs(signature);
      List<List<Tensor>> reference = new ArrayList<>();
      for (List<Tensor> inputs : probes) {
        reference.add(loaded.get(0).model().infer(inputs));
      }
      for (Candidate candidate : candidates(options.level())) {
        try {
          loaded.add(loadTimed(source, candidate));
        } catch (HangarException e) {
          // a setting this model cannot run with (inference mode off on a module whose weights
          // are inference tensors, say) is reported, not chosen
          failures
              .computeIfAbsent(firstLine(e.getMessage()), reason -> new ArrayList<>())
              .add(candidate.name());
        }
      }
      failures.forEach(
          (reason, names) -> refusals.add(new Refusal(String.join("; ", names), reason)));
      if (loaded.size() == 1) {
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "model " + source.label() + " runs with none of the settings tried: " + refusals);
      }
      Map<Loaded, List<Latency>> latencies = measureGrouped(loaded, signature, plan);
      Variant originalVariant = variant(loaded.get(0), fileBytes, latencies, Optional.empty());
      List<Measured> measured = new ArrayList<>();
      for (Loaded candidate : loaded.subList(1, loaded.size())) {
        Variant variant =
            variant(
                candidate,
                fileBytes,
                latencies,
                Optional.of(compare(candidate.model(), probes, reference)));
        measured.add(new Measured(candidate.candidate(), variant, score(originalVariant, variant)));
      }
      Measured best =
          measured.stream().max(Comparator.comparingDouble(Measured::score)).orElseThrow();
      boolean keep = best.score() >= NOISE_MARGIN;
      List<Variant> variants = new ArrayList<>();
      variants.add(originalVariant);
      measured.forEach(m -> variants.add(m.variant()));
      Candidate chosen = keep ? best.candidate() : original;
      List<String> actions =
          List.of(
              "measured "
                  + measured.size()
                  + " settings (intra-op threads x graph executor optimization x inference mode),"
                  + " interleaved run by run with the original",
              keep
                  ? String.format(
                      Locale.ROOT,
                      "chose %s: %.2fx the original's speed (geometric mean over the batch sizes)",
                      chosen.name(),
                      best.score())
                  : String.format(
                      Locale.ROOT,
                      "kept the original settings: the best, %s, was only %.2fx as fast",
                      best.candidate().name(),
                      best.score()));
      return new OptimizationReport(
          source.name(),
          backend.engineVersion(),
          options,
          variants,
          chosen.name(),
          Optional.empty(),
          actions,
          refusals,
          Optional.empty(),
          chosen.parameters());
    } catch (java.io.IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "cannot read " + source.file() + ": " + e.getMessage(), e);
    } finally {
      for (Loaded model : loaded) {
        model.model().close();
      }
      JniUtils.setNumThreads(threadsBefore);
    }
  }

  /** A candidate loaded, and how long the load took. */
  private record Loaded(Candidate candidate, LoadedModel model, Duration loadTime) {}

  private Loaded loadTimed(ModelSource source, Candidate candidate) {
    long start = System.nanoTime();
    LoadedModel model = load(source, candidate);
    return new Loaded(candidate, model, Duration.ofNanos(System.nanoTime() - start));
  }

  private static Variant variant(
      Loaded loaded,
      long fileBytes,
      Map<Loaded, List<Latency>> latencies,
      Optional<Accuracy> accuracy) {
    return new Variant(
        loaded.candidate().name(), fileBytes, loaded.loadTime(), latencies.get(loaded), accuracy);
  }

  /**
   * Times every model at every batch size, all interleaved run by run so that a machine getting
   * busier (or a JVM still compiling) slows every setting alike. libtorch's thread count is
   * process-wide and a model's call sets it to the model's own, so each round visits the thread
   * counts one after the other and makes one untimed call after switching, which pays the switch.
   */
  private static Map<Loaded, List<Latency>> measureGrouped(
      List<Loaded> models, ModelSignature signature, MeasurementPlan plan) {
    Map<Loaded, List<Latency>> latencies = new HashMap<>();
    Map<Integer, List<Loaded>> byThreads = new LinkedHashMap<>();
    for (Loaded model : models) {
      byThreads.computeIfAbsent(model.candidate().threads(), t -> new ArrayList<>()).add(model);
      latencies.put(model, new ArrayList<>());
    }
    List<List<Loaded>> groups = new ArrayList<>(byThreads.values());
    for (int batchSize : signature.batched() ? plan.batchSizes() : List.of(0)) {
      List<Tensor> inputs = inputs(signature, Math.max(1, batchSize), new Random(SEED));
      Map<Loaded, long[]> nanos = new HashMap<>();
      models.forEach(model -> nanos.put(model, new long[plan.timed().count()]));
      long warmupStart = System.nanoTime();
      for (int round = 0; plan.warmup().another(round, System.nanoTime() - warmupStart); round++) {
        round(groups, round, inputs, Optional.empty());
      }
      long timedStart = System.nanoTime();
      int rounds = 0;
      while (plan.timed().another(rounds, System.nanoTime() - timedStart)) {
        round(groups, rounds, inputs, Optional.of(nanos));
        rounds++;
      }
      for (Loaded model : models) {
        latencies.get(model).add(latency(batchSize, Arrays.copyOf(nanos.get(model), rounds)));
      }
    }
    return latencies;
  }

  /**
   * One round of {@link #measureGrouped}: each group in turn, the order rotating, gets an untimed
   * call and then one call of each member; the calls' nanoseconds go to {@code timed} at {@code
   * round} unless the round is warmup.
   */
  private static void round(
      List<List<Loaded>> groups,
      int round,
      List<Tensor> inputs,
      Optional<Map<Loaded, long[]>> timed) {
    stopIfInterrupted();
    for (int g = 0; g < groups.size(); g++) {
      List<Loaded> members = groups.get(Math.floorMod(round + g, groups.size()));
      members.get(0).model().infer(inputs);
      for (int k = 0; k < members.size(); k++) {
        Loaded member = members.get(Math.floorMod(round + k, members.size()));
        long start = System.nanoTime();
        member.model().infer(inputs);
        long elapsed = System.nanoTime() - start;
        timed.ifPresent(nanos -> nanos.get(member)[round] = elapsed);
      }
    }
  }

  @Override
  public TuningReport tune(ModelSource source, TuningOptions options) {
    backend.prepare();
    int threadsBefore = JniUtils.getNumThreads();
    TorchScriptSettings own = TorchScriptSettings.from(source.parameters());
    List<Trial> trials = new ArrayList<>();
    try {
      for (int threads : options.threadCounts()) {
        Candidate candidate =
            new Candidate("", threads, own.graphExecutorOptimization(), own.inferenceMode());
        try (LoadedModel model = load(source, candidate)) {
          boolean batched = model.signature().batched();
          for (int batchSize : batched ? options.batchSizes() : List.of(0)) {
            List<Tensor> inputs =
                inputs(model.signature(), Math.max(1, batchSize), new Random(SEED));
            trials.add(
                Trial.measured(
                    threads,
                    latency(batchSize, time(model, inputs, options.warmup(), options.timed()))));
          }
        }
      }
    } finally {
      JniUtils.setNumThreads(threadsBefore);
    }
    return TuningReport.choose(
        source.name(),
        backend.engineVersion(),
        options.p99Target(),
        trials,
        TorchScriptSettings.INTRA_OP_THREADS);
  }

  private LoadedModel load(ModelSource source, Candidate candidate) {
    Map<String, String> parameters = new HashMap<>(source.parameters().values());
    parameters.putAll(candidate.parameters());
    return backend.load(
        new ModelSource(
            source.name(),
            source.version(),
            source.file(),
            source.declaredSignature(),
            new ModelParameters(parameters)),
        candidate.threads());
  }

  private static List<Candidate> candidates(Level level) {
    int cores = Runtime.getRuntime().availableProcessors();
    List<Integer> counts = new ArrayList<>();
    for (int count = 1; count < cores; count *= 2) {
      counts.add(count);
    }
    counts.add(cores);
    List<Candidate> candidates = new ArrayList<>();
    for (int threads : counts) {
      for (boolean optimizeGraph : level == Level.NONE ? List.of(false) : List.of(true, false)) {
        for (boolean inferenceMode : List.of(true, false)) {
          candidates.add(
              new Candidate(
                  "threads "
                      + threads
                      + ", graph optimization "
                      + (optimizeGraph ? "on" : "off")
                      + ", inference mode "
                      + (inferenceMode ? "on" : "off"),
                  threads,
                  optimizeGraph,
                  inferenceMode));
        }
      }
    }
    return candidates;
  }

  private static String describe(TorchScriptSettings settings, int threadsInForce) {
    return "threads "
        + settings.intraOpThreads().map(String::valueOf).orElse(threadsInForce + " (libtorch's)")
        + ", graph optimization "
        + (settings.graphExecutorOptimization() ? "on" : "off")
        + ", inference mode "
        + (settings.inferenceMode() ? "on" : "off");
  }

  /** The geometric mean over batch sizes of the original's p50 over the variant's. */
  private static double score(Variant original, Variant variant) {
    double logSum = 0;
    int count = 0;
    for (Latency latency : variant.latencies()) {
      Optional<Latency> before = original.latency(latency.batchSize());
      if (before.isPresent()) {
        logSum +=
            Math.log((double) before.get().p50().toNanos() / Math.max(1, latency.p50().toNanos()));
        count++;
      }
    }
    return count == 0 ? 1 : Math.exp(logSum / count);
  }

  private static long[] time(LoadedModel model, List<Tensor> inputs, Runs warmup, Runs timed) {
    long warmupStart = System.nanoTime();
    for (int i = 0; warmup.another(i, System.nanoTime() - warmupStart); i++) {
      stopIfInterrupted();
      model.infer(inputs);
    }
    long[] nanos = new long[timed.count()];
    long timedStart = System.nanoTime();
    int done = 0;
    while (timed.another(done, System.nanoTime() - timedStart)) {
      stopIfInterrupted();
      long start = System.nanoTime();
      model.infer(inputs);
      nanos[done++] = System.nanoTime() - start;
    }
    return Arrays.copyOf(nanos, done);
  }

  /** Ends a measurement whose thread was interrupted ({@code hangar optimize} on Ctrl-C). */
  private static void stopIfInterrupted() {
    if (Thread.interrupted()) {
      throw new ModelLoadException(ErrorCategory.UNAVAILABLE, "stopped before the run finished");
    }
  }

  private static Latency latency(int batchSize, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return new Latency(
        batchSize,
        Duration.ofNanos(percentile(sorted, 0.50)),
        Duration.ofNanos(percentile(sorted, 0.99)),
        sorted.length);
  }

  private static long percentile(long[] sorted, double fraction) {
    int rank = (int) Math.ceil(fraction * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  /** Warmup-like inputs at batch 1 and 8, and uniform ones in [-3, 3] at batch 8. */
  private static List<List<Tensor>> accuracyInputs(ModelSignature signature) {
    Random random = new Random(SEED);
    List<List<Tensor>> sets = new ArrayList<>();
    sets.add(inputs(signature, 1, random));
    sets.add(inputs(signature, 8, random));
    for (int i = 0; i < 4; i++) {
      sets.add(wide(inputs(signature, 8, random), random));
    }
    return sets;
  }

  private static List<Tensor> inputs(ModelSignature signature, int batchSize, Random random) {
    List<Tensor> tensors = new ArrayList<>();
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = spec.shape();
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = i == 0 && signature.batched() ? batchSize : 8;
        }
        count *= shape[i];
      }
      int elements = Math.toIntExact(count);
      ByteBuffer data =
          ByteBuffer.allocate(elements * spec.dataType().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < elements; i++) {
        switch (spec.dataType()) {
          case FP32 -> data.putFloat((float) random.nextGaussian());
          case FP64 -> data.putDouble(random.nextGaussian());
          case BOOL, UINT8, INT8 -> data.put((byte) random.nextInt(4));
          case INT16, FP16, BF16 -> data.putShort((short) random.nextInt(4));
          case INT32 -> data.putInt(random.nextInt(4));
          case INT64 -> data.putLong(random.nextInt(4));
          default -> throw new IllegalStateException(spec.dataType().name());
        }
      }
      data.flip();
      tensors.add(Tensor.of(spec.name(), spec.dataType(), shape, data));
    }
    return tensors;
  }

  /** Replaces FP32 and FP64 inputs with uniform values in [-3, 3]. */
  private static List<Tensor> wide(List<Tensor> inputs, Random random) {
    List<Tensor> widened = new ArrayList<>();
    for (Tensor input : inputs) {
      if (input.dataType() == DataType.FP32) {
        float[] values = new float[Math.toIntExact(input.elementCount())];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) (random.nextDouble() * 6 - 3);
        }
        widened.add(Tensor.ofFloats(input.name(), input.shape(), values));
      } else {
        widened.add(input);
      }
    }
    return widened;
  }

  private static Accuracy compare(
      LoadedModel model, List<List<Tensor>> probes, List<List<Tensor>> reference) {
    double maxError = 0;
    double sumError = 0;
    double maxReference = 0;
    long values = 0;
    for (int s = 0; s < probes.size(); s++) {
      List<Tensor> got = model.infer(probes.get(s));
      for (int o = 0; o < got.size(); o++) {
        double[] want = reference.get(s).get(o).toDoubleArray();
        double[] actual = got.get(o).toDoubleArray();
        for (int i = 0; i < want.length; i++) {
          double error =
              Double.isNaN(want[i]) || Double.isNaN(actual[i])
                  ? (Double.isNaN(want[i]) && Double.isNaN(actual[i])
                      ? 0
                      : Double.POSITIVE_INFINITY)
                  : Math.abs(want[i] - actual[i]);
          maxError = Math.max(maxError, error);
          sumError += error;
          if (!Double.isNaN(want[i])) {
            maxReference = Math.max(maxReference, Math.abs(want[i]));
          }
        }
        values += want.length;
      }
    }
    return new Accuracy(
        maxError, values == 0 ? 0 : sumError / values, maxReference, values, probes.size());
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "failed";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
