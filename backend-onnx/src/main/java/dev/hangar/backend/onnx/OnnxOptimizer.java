package dev.hangar.backend.onnx;

import static java.util.Objects.requireNonNull;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.hangar.backend.onnx.optimizer.CpuFeatures;
import dev.hangar.backend.onnx.optimizer.Digests;
import dev.hangar.backend.onnx.optimizer.Int8Quantizer;
import dev.hangar.backend.onnx.optimizer.LatencyHarness;
import dev.hangar.backend.onnx.optimizer.ModelFiles;
import dev.hangar.backend.onnx.optimizer.OptimizedModelCache;
import dev.hangar.backend.onnx.optimizer.OptimizedModelCache.Entry;
import dev.hangar.backend.onnx.optimizer.OptimizedModelCache.Key;
import dev.hangar.backend.onnx.optimizer.OutputComparison;
import dev.hangar.backend.onnx.optimizer.ProbeInputs;
import dev.hangar.backend.onnx.optimizer.StoppableRun;
import dev.hangar.backend.onnx.optimizer.Tuner;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.CacheFiles;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.OptimizationReport.Refusal;
import dev.hangar.spi.OptimizationReport.Variant;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ONNX backend's {@link ModelOptimizer}: ONNX Runtime's graph optimization done offline and
 * saved, int8 dynamic quantization of MatMul and Gemm weights ({@link Int8Quantizer}), both kept in
 * a cache under {@code <cache>/onnx/optimized/} and reused by later loads.
 *
 * <p>An entry's key is the source's SHA-256 (for a CoreML model, the {@code .mlmodel}'s, plus the
 * compiled graph's), the ONNX Runtime version, the options, the quantizer's version and, for level
 * {@code all} or int8, this CPU's features: an {@code all}-level graph holds layout changes for
 * this CPU, and int8's range and measured error depend on its instructions.
 *
 * <p>A model optimized offline at level {@code all} is served with graph optimization disabled,
 * since everything has been applied; at {@code basic} or {@code extended} it is served at the
 * model's own {@code graph_optimization_level} (default {@code all}), which re-runs the cheap
 * passes already applied and adds this machine's layout optimizations.
 *
 * <p>Thread-safe.
 */
public final class OnnxOptimizer implements ModelOptimizer {
  private static final System.Logger LOG = System.getLogger(OnnxOptimizer.class.getName());

  /** Changes whenever the quantizer writes a different graph for the same input. */
  static final String QUANTIZER_VERSION = "1";

  private final OnnxBackend backend;
  private final OnnxNativeLibrary nativeLibrary;
  private final OptimizedModelCache cache;
  private final CpuFeatures cpu;
  private final LongAdder builds = new LongAdder();
  // guards temporaryCache
  private final Object temporaryCacheLock = new Object();
  // where models are optimized when the cache directory cannot be written; deleted by close()
  private OptimizedModelCache temporaryCache;

  OnnxOptimizer(
      OnnxBackend backend, OnnxNativeLibrary nativeLibrary, Path cacheRoot, CpuFeatures cpu) {
    this.backend = requireNonNull(backend, "backend is null");
    this.nativeLibrary = requireNonNull(nativeLibrary, "nativeLibrary is null");
    this.cache = new OptimizedModelCache(cacheRoot.resolve("optimized"));
    this.cpu = requireNonNull(cpu, "cpu is null");
  }

  /** Returns how many cache entries this optimizer has built (a miss builds one). */
  public long builds() {
    return builds.sum();
  }

  /** Returns the directory optimized models are cached in. */
  public Path cacheDirectory() {
    return cache.directory();
  }

  /** Returns the CPU features the optimizer decided with. */
  public CpuFeatures cpu() {
    return cpu;
  }

  /** Where a model comes from: a file, or a graph compiled from another format. */
  private record Origin(
      String kind, String digest, String graphDigest, GraphSource graph, OriginalLoader loader) {}

  @FunctionalInterface
  private interface GraphSource {
    ModelProto read();
  }

  @FunctionalInterface
  private interface OriginalLoader {
    LoadedModel load();
  }

  private Origin fileOrigin(ModelSource source) {
    return new Origin(
        "onnx",
        ModelFiles.sha256(cache.digests(), source.file(), "model file"),
        "",
        () -> parse(source.file()),
        () -> backend.load(source));
  }

  private Origin graphOrigin(ModelSource source, ModelProto graph, String originDigest) {
    return new Origin(
        "compiled",
        originDigest,
        Digests.sha256(graph.toByteArray()),
        () -> graph,
        () -> backend.loadGraph(source, graph));
  }

  @Override
  public ModelSource prepare(ModelSource source, OptimizationOptions options) {
    if (options.isEmpty()) {
      return source;
    }
    return prepare(source, fileOrigin(source), options);
  }

  /**
   * Like {@link #prepare(ModelSource, OptimizationOptions)} for a graph compiled from another
   * format: the cache is keyed by {@code originDigest} (the digest of the file it was compiled
   * from) and the compiled graph's own digest. The returned source names the optimized {@code
   * .onnx} file; {@link #originOf} tells the file {@code source} named.
   *
   * @throws ModelLoadException when the graph cannot be optimized
   */
  public ModelSource prepareGraph(
      ModelSource source, ModelProto graph, String originDigest, OptimizationOptions options) {
    return prepare(source, graphOrigin(source, graph, originDigest), options);
  }

  /**
   * Returns the file a cached optimized model was compiled from, as recorded when it was built by
   * {@link #prepareGraph}; empty for anything else.
   */
  public Optional<Path> originOf(Path optimizedFile) {
    Path sidecar =
        optimizedFile.resolveSibling(
            optimizedFile.getFileName().toString().replaceFirst("\\.onnx$", ".properties"));
    if (!Files.isRegularFile(sidecar)) {
      return Optional.empty();
    }
    java.util.Properties properties = new java.util.Properties();
    try (var in = Files.newInputStream(sidecar)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.ofNullable(properties.getProperty("note.origin.file")).map(Path::of);
  }

  private ModelSource prepare(ModelSource source, Origin origin, OptimizationOptions options) {
    Key key = key(origin, options);
    Entry entry;
    try {
      // an intact entry is served without a lock or any write, so a read-only cache serves it
      Optional<Entry> intact = cache.find(key);
      if (intact.isPresent()) {
        LOG.log(
            System.Logger.Level.DEBUG,
            "model {0}: optimized model {1} reused from the cache",
            source.label(),
            intact.get().file());
        entry = intact.get();
      } else {
        entry = lookUpOrBuild(source, origin, key, options);
      }
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "cannot keep the optimized form of model "
              + source.label()
              + " in "
              + cache.directory()
              + ": "
              + CacheFiles.describe(e),
          e);
    }
    String refusal = entry.notes().get("refused.int8");
    if (refusal != null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "model {0} is served without int8: {1}",
          source.label(),
          refusal);
    }
    return served(source, entry.file(), options.level());
  }

  private Entry lookUpOrBuild(
      ModelSource source, Origin origin, Key key, OptimizationOptions options) throws IOException {
    try {
      return cache.locked(
          key,
          () -> {
            Optional<Entry> cached = cache.lookup(key);
            return cached.isPresent() ? cached.get() : build(source, origin, key, options, cache);
          });
    } catch (OptimizedModelCache.NotWritableException e) {
      return buildOutsideTheCache(source, origin, key, options, e);
    }
  }

  /**
   * Builds the entry in this process's temporary cache, for a cache directory that cannot be
   * written. The model is still served as its config asks, as Triton and TorchServe serve a model
   * whatever their caches allow: serving it unoptimized instead would change its outputs (int8),
   * its speed and the memory it takes under the budget.
   */
  private Entry buildOutsideTheCache(
      ModelSource source,
      Origin origin,
      Key key,
      OptimizationOptions options,
      OptimizedModelCache.NotWritableException notWritable)
      throws IOException {
    OptimizedModelCache temporary;
    try {
      temporary = temporaryCache();
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "cannot optimize model "
              + source.label()
              + ": the cache directory "
              + notWritable.getMessage()
              + ", and no temporary directory can be created in "
              + System.getProperty("java.io.tmpdir")
              + " ("
              + CacheFiles.describe(e)
              + "); make the cache directory writable, or remove the model's optimization: block",
          e);
    }
    return temporary.locked(
        key,
        () -> {
          Optional<Entry> cached = temporary.lookup(key);
          if (cached.isPresent()) {
            return cached.get();
          }
          Entry built = build(source, origin, key, options, temporary);
          LOG.log(
              System.Logger.Level.WARNING,
              "model {0}: the cache directory {1}, so the model was optimized into {2} in {3} ms,"
                  + " which this process deletes when it stops: every start optimizes it again",
              source.label(),
              notWritable.getMessage(),
              built.file(),
              built.notes().get("build.millis"));
          return built;
        });
  }

  /** Returns this process's temporary cache, creating it on first use. */
  private OptimizedModelCache temporaryCache() throws IOException {
    synchronized (temporaryCacheLock) {
      if (temporaryCache == null) {
        temporaryCache = new OptimizedModelCache(Files.createTempDirectory("hangar-optimized-"));
      }
      return temporaryCache;
    }
  }

  /**
   * Deletes the temporary cache models were optimized into when the cache directory could not be
   * written. Called by the backend's {@code close()}, after every model is closed.
   */
  void close() {
    synchronized (temporaryCacheLock) {
      if (temporaryCache == null) {
        return;
      }
      try {
        CacheFiles.delete(temporaryCache.directory());
      } catch (IOException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "cannot delete the temporary optimized models in {0}: {1}",
            temporaryCache.directory(),
            CacheFiles.describe(e));
      }
      temporaryCache = null;
    }
  }

  private Entry build(
      ModelSource source,
      Origin origin,
      Key key,
      OptimizationOptions options,
      OptimizedModelCache into)
      throws IOException {
    builds.increment();
    long start = System.nanoTime();
    ModelProto original = origin.graph().read();
    Map<String, String> notes = new LinkedHashMap<>();
    notes.put("model", source.name());
    notes.put("options", options.describe());
    if (origin.kind().equals("compiled")) {
      notes.put("origin.file", source.file().toAbsolutePath().toString());
    }
    Path target = into.temporaryFile(key);
    try {
      Candidate candidate = write(original, options, target);
      for (int i = 0; i < candidate.actions().size(); i++) {
        notes.put("action." + i, candidate.actions().get(i));
      }
      if (options.int8()) {
        Optional<String> refusal = candidate.int8Refusal();
        if (refusal.isEmpty()) {
          Accuracy accuracy;
          try (LoadedModel reference = origin.loader().load();
              LoadedModel variant = backend.load(served(source, target, options.level()))) {
            accuracy = compare(reference, variant);
          } catch (HangarException e) {
            throw new ModelLoadException(
                e.category(),
                "cannot measure the int8 error of model " + source.label() + ": " + e.getMessage(),
                e);
          }
          notes.put("int8.max_abs_error", Double.toString(accuracy.maxAbsoluteError()));
          notes.put("int8.mean_abs_error", Double.toString(accuracy.meanAbsoluteError()));
          refusal = toleranceRefusal(accuracy, options);
        }
        if (refusal.isPresent()) {
          notes.put("refused.int8", refusal.get());
          if (candidate.quantization().map(Int8Quantizer.Result::changed).orElse(false)) {
            // the quantized file goes; the same options without int8 take its place
            Files.deleteIfExists(target);
            target = into.temporaryFile(key);
            write(original, options.withoutInt8(), target);
          }
        }
      }
      notes.put("build.millis", Long.toString((System.nanoTime() - start) / 1_000_000));
      Entry entry = into.store(key, target, notes);
      LOG.log(
          System.Logger.Level.INFO,
          "model {0} optimized ({1}) in {2} ms into {3}",
          source.label(),
          options.describe(),
          notes.get("build.millis"),
          entry.file());
      return entry;
    } finally {
      Files.deleteIfExists(target);
    }
  }

  private static Optional<String> toleranceRefusal(Accuracy accuracy, OptimizationOptions options) {
    if (accuracy.maxAbsoluteError() <= options.int8Tolerance()) {
      return Optional.empty();
    }
    return Optional.of(
        String.format(
            Locale.ROOT,
            "int8 max abs error %.3g exceeds the tolerance %.3g (mean %.3g, over %d values of %d"
                + " input sets)",
            accuracy.maxAbsoluteError(),
            options.int8Tolerance(),
            accuracy.meanAbsoluteError(),
            accuracy.comparedValues(),
            accuracy.inputSets()));
  }

  /** What {@link #write} did. */
  private record Candidate(
      Path file, List<String> actions, Optional<Int8Quantizer.Result> quantization) {
    Optional<String> int8Refusal() {
      if (quantization.isEmpty()) {
        return Optional.empty();
      }
      Int8Quantizer.Result result = quantization.get();
      if (result.changed()) {
        return Optional.empty();
      }
      return Optional.of(
          "no MatMul or Gemm node has constant FP32 weights to quantize"
              + (result.skipped().isEmpty() ? "" : ": " + String.join("; ", result.skipped())));
    }
  }

  /** Writes the model the options describe to {@code target}: quantized, then ORT-optimized. */
  private Candidate write(ModelProto original, OptimizationOptions options, Path target)
      throws IOException {
    for (TensorProto initializer : original.getGraph().getInitializerList()) {
      if (initializer.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        // the optimized graph would point at side files it was not written beside, and the cache
        // could not tell a changed side file from the same one
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "a model whose weights are in side files (ONNX external data: initializer '"
                + initializer.getName()
                + "') cannot be optimized; serve it without optimization:, or save it with its"
                + " weights inside the .onnx file");
      }
    }
    List<String> actions = new ArrayList<>();
    ModelProto graph = original;
    Optional<Int8Quantizer.Result> quantization = Optional.empty();
    if (options.int8()) {
      Int8Quantizer.Result result = Int8Quantizer.quantize(original, int8Settings(options));
      quantization = Optional.of(result);
      if (result.changed()) {
        graph = result.model();
        actions.add(
            result.summary()
                + (int8Settings(options).reduceRange()
                    ? " (7-bit weights: this CPU has no VNNI)"
                    : ""));
      }
    }
    byte[] bytes = graph.toByteArray();
    if (options.level() == Level.NONE) {
      Files.write(target, bytes);
    } else {
      optimizeOffline(bytes, options.level(), target, quantization.isPresent());
      actions.add(
          "graph optimized by ONNX Runtime "
              + OnnxNativeLibrary.runtimeVersion()
              + " at level "
              + options.level().configName()
              + " and saved"
              + (options.level() == Level.ALL
                  ? " (served with graph optimization disabled; specific to this CPU)"
                  : ""));
    }
    return new Candidate(target, actions, quantization);
  }

  private Int8Quantizer.Settings int8Settings(OptimizationOptions options) {
    return new Int8Quantizer.Settings(
        options.granularity(), cpu.needsReducedRange(), Int8Quantizer.Form.FUSED);
  }

  private void optimizeOffline(byte[] graph, Level level, Path target, boolean rewritten) {
    OrtEnvironment environment = nativeLibrary.environment();
    try (SessionOptions options = new SessionOptions()) {
      options.setOptimizationLevel(
          switch (level) {
            case BASIC -> OptLevel.BASIC_OPT;
            case EXTENDED -> OptLevel.EXTENDED_OPT;
            default -> OptLevel.ALL_OPT;
          });
      options.setOptimizedModelFilePath(target.toString());
      try (OrtSession ignored = environment.createSession(graph, options)) {
        // creating the session writes the optimized graph
      }
    } catch (OrtException e) {
      throw new ModelLoadException(
          rewritten ? ErrorCategory.INTERNAL : ErrorCategory.USER_ERROR,
          (rewritten
                  ? "ONNX Runtime refused the int8 graph Hangar wrote (a bug in Hangar's quantizer): "
                  : "ONNX Runtime cannot optimize the model: ")
              + e.getMessage(),
          e);
    }
    if (!Files.isRegularFile(target)) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE, "ONNX Runtime wrote no optimized model to " + target);
    }
  }

  /** The source the backend serves an optimized file from, with the right load-time level. */
  private static ModelSource served(ModelSource source, Path file, Level offlineLevel) {
    Map<String, String> parameters = new HashMap<>(source.parameters().values());
    if (offlineLevel == Level.ALL) {
      parameters.put(OnnxSessionSettings.OPTIMIZATION_LEVEL, "disable");
    }
    return new ModelSource(
        source.name(),
        source.version(),
        file,
        source.declaredSignature(),
        new ModelParameters(parameters, source.parameters().source()));
  }

  private Key key(Origin origin, OptimizationOptions options) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("origin", origin.kind());
    fields.put("source.sha256", origin.digest());
    if (!origin.graphDigest().isEmpty()) {
      fields.put("graph.sha256", origin.graphDigest());
    }
    fields.put("engine", "onnxruntime " + OnnxNativeLibrary.runtimeVersion());
    fields.put("level", options.level().configName());
    fields.put("int8", Boolean.toString(options.int8()));
    if (options.int8()) {
      fields.put("int8.granularity", options.granularity().name());
      fields.put("int8.tolerance", Double.toString(options.int8Tolerance()));
      fields.put("int8.reduce_range", Boolean.toString(cpu.needsReducedRange()));
      fields.put("quantizer", QUANTIZER_VERSION);
      fields.put("int8.accuracy_sets", ProbeInputs.ACCURACY_SETS);
    }
    if (options.level() == Level.ALL || options.int8()) {
      fields.put("cpu", cpu.fingerprint());
    }
    return new Key(fields);
  }

  // ---------------------------------------------------------------- optimize (measured)

  @Override
  public OptimizationReport optimize(
      ModelSource source,
      OptimizationOptions options,
      MeasurementPlan measurement,
      Path outputDirectory) {
    return optimize(
        source,
        fileOrigin(source),
        ModelFiles.size(source.file(), "model file"),
        options,
        measurement,
        outputDirectory);
  }

  /**
   * Like {@link #optimize(ModelSource, OptimizationOptions, MeasurementPlan, Path)} for a graph
   * compiled from another format; {@code originalBytes} is the size of the file it came from.
   */
  public OptimizationReport optimizeGraph(
      ModelSource source,
      ModelProto graph,
      String originDigest,
      long originalBytes,
      OptimizationOptions options,
      MeasurementPlan measurement,
      Path outputDirectory) {
    return optimize(
        source,
        graphOrigin(source, graph, originDigest),
        originalBytes,
        options,
        measurement,
        outputDirectory);
  }

  /** One variant being measured. */
  private record Measured(
      String name,
      Path file,
      long bytes,
      Duration loadTime,
      LoadedModel model,
      Optional<Accuracy> accuracy) {}

  private OptimizationReport optimize(
      ModelSource source,
      Origin origin,
      long originalBytes,
      OptimizationOptions options,
      MeasurementPlan plan,
      Path outputDirectory) {
    backend.prepare();
    List<Measured> measured = new ArrayList<>();
    List<String> actions = new ArrayList<>();
    List<Refusal> refusals = new ArrayList<>();
    // its files in the output directory go when it ends, or when the process is stopped
    StoppableRun run = new StoppableRun();
    try {
      Files.createDirectories(outputDirectory);
      // the first session of a process pays one-time costs; no variant should be charged them
      origin.loader().load().close();
      long start = System.nanoTime();
      LoadedModel original = origin.loader().load();
      Duration originalLoad = Duration.ofNanos(System.nanoTime() - start);
      measured.add(
          new Measured(
              "original", source.file(), originalBytes, originalLoad, original, Optional.empty()));
      List<List<Tensor>> probes = ProbeInputs.accuracySets(original.signature());
      List<List<Tensor>> reference = new ArrayList<>();
      for (List<Tensor> inputs : probes) {
        reference.add(original.infer(inputs));
      }
      ModelProto graph = origin.graph().read();
      String stem = safeName(source.name());
      if (options.level() != Level.NONE) {
        Path file =
            outputDirectory.resolve(stem + ".level-" + options.level().configName() + ".tmp");
        Candidate candidate = run.write(file, () -> write(graph, options.withoutInt8(), file));
        actions.addAll(candidate.actions());
        measured.add(
            measure(
                source,
                "level " + options.level().configName(),
                file,
                options.level(),
                probes,
                reference));
      }
      String chosen = measured.get(measured.size() - 1).name();
      boolean int8Kept = false;
      if (options.int8()) {
        Path file = outputDirectory.resolve(stem + ".int8.tmp");
        Candidate candidate = run.write(file, () -> write(graph, options, file));
        Optional<String> refusal = candidate.int8Refusal();
        if (refusal.isPresent()) {
          refusals.add(new Refusal("int8", refusal.get()));
        } else {
          actions.add("int8 variant: " + candidate.actions().get(0));
          candidate
              .quantization()
              .orElseThrow()
              .skipped()
              .forEach(line -> actions.add("left in FP32: " + line));
          String name =
              (options.level() == Level.NONE ? "" : "level " + options.level().configName() + " + ")
                  + "int8 "
                  + (options.granularity() == Granularity.PER_CHANNEL
                      ? "per-channel"
                      : "per-tensor");
          Measured int8 = measure(source, name, file, options.level(), probes, reference);
          measured.add(int8);
          Optional<String> tooLarge = toleranceRefusal(int8.accuracy().orElseThrow(), options);
          if (tooLarge.isPresent()) {
            refusals.add(new Refusal("int8", tooLarge.get()));
          } else {
            chosen = name;
            int8Kept = true;
          }
        }
      }
      List<List<Latency>> latencies =
          LatencyHarness.measure(
              measured.stream().map(Measured::model).toList(), original.signature(), plan, run);
      List<Variant> variants = new ArrayList<>();
      for (int i = 0; i < measured.size(); i++) {
        Measured m = measured.get(i);
        variants.add(
            new Variant(m.name(), m.bytes(), m.loadTime(), latencies.get(i), m.accuracy()));
      }
      Optional<Path> output = Optional.empty();
      String chosenName = chosen;
      Measured chosenVariant =
          measured.stream().filter(m -> m.name().equals(chosenName)).findFirst().orElseThrow();
      if (chosenVariant != measured.get(0)) {
        Path target = outputDirectory.resolve(stem + ".optimized.onnx");
        Path partial = outputDirectory.resolve(stem + ".optimized.onnx.tmp");
        output =
            Optional.of(
                run.write(
                    partial,
                    () -> {
                      Files.copy(
                          chosenVariant.file(), partial, StandardCopyOption.REPLACE_EXISTING);
                      return Files.move(
                          partial,
                          target,
                          StandardCopyOption.REPLACE_EXISTING,
                          StandardCopyOption.ATOMIC_MOVE);
                    }));
        remember(source, origin, options, chosenVariant, refusals);
        if (options.int8() && !int8Kept) {
          // the suggestion turns int8 off: a load of it must find this file too, not build it
          remember(source, origin, options.withoutInt8(), chosenVariant, List.of());
        }
      } else {
        Path earlier = outputDirectory.resolve(stem + ".optimized.onnx");
        refusals.add(
            new Refusal(
                "all",
                "no variant was kept; the original stays as it is"
                    + (Files.exists(earlier)
                        ? " (the "
                            + earlier.getFileName()
                            + " in "
                            + outputDirectory
                            + " is an earlier run's, left as it was)"
                        : "")));
      }
      return new OptimizationReport(
          source.name(),
          backend.engineVersion() + " on " + cpu.describe(),
          options,
          variants,
          chosen,
          output,
          actions,
          refusals,
          chosenVariant == measured.get(0)
              ? Optional.empty()
              : Optional.of(int8Kept ? options : options.withoutInt8()),
          Map.of());
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "cannot write the optimized model of "
              + source.label()
              + " to "
              + outputDirectory
              + ": "
              + e.getMessage(),
          e);
    } finally {
      for (Measured m : measured) {
        m.model().close();
      }
      run.close();
    }
  }

  /** Stores what optimize chose in the cache, so that a load with the same options reuses it. */
  private void remember(
      ModelSource source,
      Origin origin,
      OptimizationOptions options,
      Measured chosen,
      List<Refusal> refusals)
      throws IOException {
    Key key = key(origin, options);
    try {
      cache.locked(
          key,
          () -> {
            Map<String, String> notes = new LinkedHashMap<>();
            notes.put("model", source.name());
            notes.put("options", options.describe());
            notes.put("built.by", "hangar optimize");
            if (origin.kind().equals("compiled")) {
              notes.put("origin.file", source.file().toAbsolutePath().toString());
            }
            refusals.stream()
                .filter(refusal -> refusal.optimization().equals("int8"))
                .findFirst()
                .ifPresent(refusal -> notes.put("refused.int8", refusal.reason()));
            return cache.store(key, cache.copyIn(key, chosen.file()), notes);
          });
    } catch (OptimizedModelCache.NotWritableException e) {
      // the chosen model is written to --out all the same; only later loads lose the shortcut
      LOG.log(
          System.Logger.Level.WARNING,
          "the optimized model of {0} is not kept for later loads: the cache directory {1}; a load"
              + " with these options optimizes it again",
          source.label(),
          e.getMessage());
    }
  }

  private Measured measure(
      ModelSource source,
      String name,
      Path file,
      Level level,
      List<List<Tensor>> probes,
      List<List<Tensor>> reference) {
    long start = System.nanoTime();
    LoadedModel model = backend.load(served(source, file, level));
    Duration loadTime = Duration.ofNanos(System.nanoTime() - start);
    try {
      OutputComparison comparison = new OutputComparison();
      for (int i = 0; i < probes.size(); i++) {
        comparison.add(reference.get(i), model.infer(probes.get(i)));
      }
      return new Measured(
          name,
          file,
          ModelFiles.size(file, "model file"),
          loadTime,
          model,
          Optional.of(comparison.result()));
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  private static Accuracy compare(LoadedModel reference, LoadedModel variant) {
    OutputComparison comparison = new OutputComparison();
    for (List<Tensor> inputs : ProbeInputs.accuracySets(reference.signature())) {
      comparison.add(reference.infer(inputs), variant.infer(inputs));
    }
    return comparison.result();
  }

  // ---------------------------------------------------------------- tune

  @Override
  public TuningReport tune(ModelSource source, TuningOptions options) {
    backend.prepare();
    return Tuner.tune(
        source.name(),
        backend.engineVersion() + " on " + cpu.describe(),
        OnnxSessionSettings.INTRA_OP_THREADS,
        threads -> backend.load(withThreads(source, threads)),
        options);
  }

  /** Returns the source with its intra-op thread count set. */
  public static ModelSource withThreads(ModelSource source, int threads) {
    Map<String, String> parameters = new HashMap<>(source.parameters().values());
    parameters.put(OnnxSessionSettings.INTRA_OP_THREADS, Integer.toString(threads));
    return new ModelSource(
        source.name(),
        source.version(),
        source.file(),
        source.declaredSignature(),
        new ModelParameters(parameters));
  }

  // ---------------------------------------------------------------- files

  private static ModelProto parse(Path file) {
    try {
      return ModelProto.parseFrom(Files.readAllBytes(file));
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, file + " is not a valid ONNX protobuf: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "cannot read model file " + file + ": " + e.getMessage(), e);
    }
  }

  private static String safeName(String name) {
    String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return safe.isEmpty() ? "model" : safe;
  }
}
