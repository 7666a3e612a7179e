package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.Durations;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelNotFoundException;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.repository.ModelVersionFile;
import dev.hangar.core.repository.RepositoryEntry;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.Runs;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hangar optimize}: optimizes a model through its backend's {@link ModelOptimizer}, measures
 * the original and every variant, writes the chosen model and a suggested {@code config.yaml}, and
 * with {@code --tune} measures thread counts and batch sizes against a p99 target.
 */
@Command(
    name = "optimize",
    mixinStandardHelpOptions = true,
    description = {
      "Optimize a model (graph optimization, int8 weights), measure size, latency and error"
          + " before and after, and write the result and a suggested config.yaml.",
      "With --tune, measure intra-op thread counts and batch sizes and suggest the fastest under a"
          + " p99 target."
    },
    footer = {
      "",
      "Examples:",
      "  hangar optimize quality_predictor --repo models --int8 --per-channel",
      "  hangar optimize models/routing_classifier/1/model.onnx --level extended --json",
      "  hangar optimize quality_predictor --tune --p99 20ms --out tuned/"
    })
final class OptimizeCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "MODEL|FILE",
      description = "The name of a model in the repository, or a model file.")
  String target;

  @Mixin RepositoryOptions repository;

  @Option(
      names = "--level",
      paramLabel = "LEVEL",
      completionCandidates = CompletionCandidates.Levels.class,
      description = "Graph optimization level: none, basic, extended or all (default: all).")
  String level;

  @Option(
      names = "--int8",
      description = "Quantize MatMul and Gemm weights to int8 (activations quantized per call).")
  boolean int8;

  @Option(
      names = "--tolerance",
      paramLabel = "X",
      description =
          "With --int8: the largest absolute output error int8 may cause; above it int8 is refused"
              + " (default: "
              + OptimizationOptions.DEFAULT_INT8_TOLERANCE
              + ").")
  Double tolerance;

  @Option(
      names = "--per-channel",
      description = "With --int8: one int8 scale per output channel instead of one per tensor.")
  boolean perChannel;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      defaultValue = "optimized",
      description =
          "The directory the optimized model and the suggested config.yaml go to, created when"
              + " missing; checked before anything is measured (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--tune",
      description =
          "Measure intra-op thread counts (1, 2, 4, ... the cores) and batch sizes (1 to 64) and"
              + " suggest the fastest setting whose p99 is within --p99; when none is, exit 1"
              + " after the results. Alone it only tunes (the model as its config.yaml serves"
              + " it); with --level or --int8 it tunes the optimized model.")
  boolean tune;

  @Option(
      names = "--p99",
      paramLabel = "DURATION",
      description = "With --tune: the p99 latency target, such as 20ms (default: 50ms).")
  String p99;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "" + Runs.DEFAULT_TIMED_COUNT,
      description =
          "Timed runs per variant and batch size, and per --tune setting. p50 and p99 are taken"
              + " over them, so a p99 rests on N samples: of 1000 it is the 11th slowest, of 100"
              + " the 2nd slowest, of fewer the slowest. Given, every run is made (unless"
              + " --max-time is given too); by default fewer when --max-time runs out first"
              + " (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--max-time",
      paramLabel = "DURATION",
      defaultValue = "3s",
      description =
          "The longest the timed runs of a batch size (or a --tune setting) go on once "
              + Runs.TIMED_MINIMUM
              + " are made: a model that takes milliseconds a call gets fewer runs than --runs,"
              + " and the tables say how many (default: ${DEFAULT-VALUE}).")
  String maxTime;

  @Option(
      names = "--warmup-runs",
      paramLabel = "N",
      defaultValue = "" + Runs.DEFAULT_WARMUP_COUNT,
      description =
          "Untimed runs before each batch size or --tune setting is timed, fewer when"
              + " --warmup-time runs out first: the JVM needs thousands of calls before it has"
              + " compiled the code around the engine (default: ${DEFAULT-VALUE}).")
  int warmupRuns;

  @Option(
      names = "--warmup-time",
      paramLabel = "DURATION",
      defaultValue = "1s",
      description =
          "The longest each warmup goes on: a small model gets its --warmup-runs, a large one"
              + " stops early (default: ${DEFAULT-VALUE}).")
  String warmupTime;

  @Option(
      names = "--batch-sizes",
      paramLabel = "N,N",
      split = ",",
      description =
          "Batch sizes timed for each variant of --level and --int8 (default: 1,32); --tune"
              + " tries 1 to 64.")
  List<Integer> batchSizes;

  @Option(
      names = "--threads",
      paramLabel = "N,N",
      split = ",",
      description =
          "With --tune: the thread counts to try (default: 1, 2, 4, ... up to the cores).")
  List<Integer> threads;

  @Option(names = "--json", description = "Print the reports as JSON instead of tables.")
  boolean json;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The model to optimize: its source, format and, for a repository model, its definition. */
  private record Target(ModelSource source, String format, Optional<ModelDefinition> definition) {}

  @Override
  public Integer call() {
    // every usage error before anything is loaded or measured: a mistake found at the end of a
    // run loses the run
    boolean optimizeAsked = !tune || level != null || int8;
    OptimizationOptions options = options();
    Runs warmup = warmup();
    Runs timed = timed();
    MeasurementPlan plan = plan(warmup, timed, optimizeAsked);
    Optional<TuningOptions> tuningOptions = tuningOptions(warmup, timed);
    checkOut();
    AtomicBoolean stopping = new AtomicBoolean();
    // a signal interrupts the run, which stops at its next step: its finally blocks remove its
    // files, and the process never exits inside ONNX Runtime, whose own shutdown hook would tear
    // it down under a running call (a crash); a second signal quits at once
    try (Signals.Handling signals =
        Signals.interruptOnTermination(
            Thread.currentThread(),
            stopping,
            spec.commandLine().getErr(),
            "stopping at the run's next step (a second Ctrl-C quits at once)",
            1)) {
      return run(optimizeAsked, options, plan, tuningOptions, warmup);
    } catch (RuntimeException e) {
      if (stopping.get()) {
        throw new HangarException(
            ErrorCategory.UNAVAILABLE,
            "stopped by a signal before the run finished; its temporary files are removed",
            e);
      }
      throw e;
    }
  }

  private int run(
      boolean optimizeAsked,
      OptimizationOptions options,
      MeasurementPlan plan,
      Optional<TuningOptions> tuningOptions,
      Runs warmup) {
    // a model file needs no repository; a model's name does
    ServerSettings settings =
        Files.isRegularFile(Path.of(target))
            ? repository.settings()
            : repository.repositorySettings();
    try (HangarRuntime hangar = HangarRuntime.create(settings, repository.plugins)) {
      Target model = resolve(hangar);
      ModelOptimizer optimizer =
          hangar
              .backends()
              .backend(model.format())
              .capability(ModelOptimizer.class)
              .orElseThrow(
                  () ->
                      new HangarException(
                          ErrorCategory.USER_ERROR,
                          "the " + model.format() + " backend has no optimizer"));
      Optional<OptimizationReport> report = Optional.empty();
      if (optimizeAsked) {
        report = Optional.of(optimizer.optimize(model.source(), options, plan, out));
      }
      Optional<TuningReport> tuning = Optional.empty();
      if (tuningOptions.isPresent()) {
        tuning = Optional.of(optimizer.tune(tuned(optimizer, model, report), tuningOptions.get()));
      }
      String config = SuggestedConfig.yaml(model.definition(), report, tuning);
      Optional<String> notWritten = Optional.empty();
      try {
        writeConfig(config);
      } catch (IOException e) {
        // the measurements are printed anyway: they took the run's time
        notWritten = Optional.of(IoProblems.describe(e));
      }
      print(report, tuning, config, notWritten, warmup);
      if (notWritten.isPresent()) {
        throw new HangarException(
            ErrorCategory.USER_ERROR,
            "cannot write the suggested config to "
                + configFile()
                + ": "
                + notWritten.get()
                + " (it is printed above)");
      }
      // a missed target is a failure a script sees in the exit code, as with 'bench --expect':
      // whether --json was given or not, and without parsing anything
      if (tuning.isPresent() && tuning.get().best().isEmpty()) {
        throw new HangarException(
            ErrorCategory.USER_ERROR,
            tuning.get().note() + "; the suggested config.yaml has no tuned setting");
      }
      return 0;
    }
  }

  /**
   * The model --tune measures: the optimized variant kept, or, when nothing was asked to be
   * optimized, the model as its config.yaml's optimization: block serves it.
   */
  private static ModelSource tuned(
      ModelOptimizer optimizer, Target model, Optional<OptimizationReport> report) {
    Optional<OptimizationOptions> served =
        report.isPresent()
            ? report.get().suggestedOptimization()
            : model.definition().flatMap(definition -> definition.config().optimization());
    return served.isPresent() ? optimizer.prepare(model.source(), served.get()) : model.source();
  }

  private void print(
      Optional<OptimizationReport> report,
      Optional<TuningReport> tuning,
      String config,
      Optional<String> notWritten,
      Runs warmup) {
    PrintWriter printed = spec.commandLine().getOut();
    if (json) {
      printed.println(
          OptimizeOutput.json(
              report,
              tuning,
              config,
              notWritten.isEmpty() ? Optional.of(configFile()) : Optional.empty()));
    } else {
      report.ifPresent(r -> printed.print(OptimizeOutput.table(r, warmup)));
      tuning.ifPresent(t -> printed.print(OptimizeOutput.table(t, warmup)));
      printed.println();
      printed.println(
          "suggested config.yaml ("
              + notWritten
                  .map(reason -> "not written: " + reason)
                  .orElse("written to " + configFile())
              + "):");
      config.lines().forEach(line -> printed.println("  " + line));
    }
    printed.flush();
  }

  private OptimizationOptions options() {
    Level chosen;
    try {
      chosen = level == null ? Level.ALL : Level.fromConfigName(level);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--level: " + e.getMessage());
    }
    for (String option : List.of("--tolerance", "--per-channel")) {
      if (given(option) && !int8) {
        throw new UsageException(option + " applies to --int8; add --int8");
      }
    }
    double limit = tolerance == null ? OptimizationOptions.DEFAULT_INT8_TOLERANCE : tolerance;
    if (!(limit > 0) || Double.isInfinite(limit)) {
      throw new UsageException("--tolerance must be a positive number, got " + limit);
    }
    return new OptimizationOptions(
        chosen, int8, limit, perChannel ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR);
  }

  private Runs warmup() {
    if (warmupRuns < 0) {
      throw new UsageException("--warmup-runs must not be negative, got " + warmupRuns);
    }
    return Runs.warmup(warmupRuns, positiveDuration("--warmup-time", warmupTime));
  }

  private Runs timed() {
    if (runs < 1) {
      throw new UsageException("--runs must be at least 1, got " + runs);
    }
    Duration limit = positiveDuration("--max-time", maxTime);
    // a count the user wrote is what they get; the default count is a budget
    return given("--runs") && !given("--max-time") ? Runs.exactly(runs) : Runs.timed(runs, limit);
  }

  private MeasurementPlan plan(Runs warmup, Runs timed, boolean optimizeAsked) {
    if (batchSizes != null && !optimizeAsked) {
      throw new UsageException(
          "--batch-sizes applies to the variants of --level and --int8; --tune alone tries batch"
              + " sizes 1 to 64");
    }
    List<Integer> sizes = batchSizes == null ? MeasurementPlan.DEFAULTS.batchSizes() : batchSizes;
    if (sizes.stream().anyMatch(size -> size < 1)) {
      throw new UsageException("--batch-sizes must each be at least 1, got " + sizes);
    }
    return new MeasurementPlan(warmup, timed, sizes);
  }

  private Optional<TuningOptions> tuningOptions(Runs warmup, Runs timed) {
    for (String option : List.of("--p99", "--threads")) {
      if (given(option) && !tune) {
        throw new UsageException(option + " applies to --tune; add --tune");
      }
    }
    if (!tune) {
      return Optional.empty();
    }
    Duration target =
        p99 == null ? TuningOptions.DEFAULT_P99_TARGET : positiveDuration("--p99", p99);
    if (threads != null && threads.stream().anyMatch(count -> count < 1)) {
      throw new UsageException("--threads must each be at least 1, got " + threads);
    }
    TuningOptions defaults =
        TuningOptions.defaults(Runtime.getRuntime().availableProcessors(), target);
    return Optional.of(
        new TuningOptions(
            target,
            threads == null ? defaults.threadCounts() : threads,
            defaults.batchSizes(),
            warmup,
            timed));
  }

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  private static Duration positiveDuration(String option, String text) {
    Duration duration;
    try {
      duration = Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException(option + ": " + e.getMessage());
    }
    if (duration.isZero() || duration.isNegative()) {
      throw new UsageException(option + " must be positive, got " + text);
    }
    return duration;
  }

  /**
   * Refuses, before anything is measured, an --out that would land in a model repository or that
   * this process cannot write a directory and files in.
   */
  private void checkOut() {
    // the optimized file and config.yaml in a repository would be taken for a model's, or overwrite
    // one: --repo's, and for a FILE in a version directory, the repository it lies in
    List<Path> repositories = new ArrayList<>(List.of(repository.settings().repository()));
    ModelFiles.repositoryOf(Path.of(target)).ifPresent(repositories::add);
    Path written = ModelFiles.realPath(out);
    for (Path models : repositories) {
      if (written.startsWith(ModelFiles.realPath(models))) {
        throw new UsageException(
            "--out "
                + out
                + " is inside the model repository "
                + models.toAbsolutePath().normalize()
                + "; write the optimized model elsewhere and copy what you keep");
      }
    }
    Path existing = out.toAbsolutePath().normalize();
    while (!Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (!Files.isDirectory(existing)) {
      throw new UsageException(
          "--out "
              + out
              + (existing.equals(out.toAbsolutePath().normalize())
                  ? " is a file; name a directory (it is created when missing)"
                  : " cannot be created: " + existing + " is a file, not a directory"));
    }
    try {
      // a file written and deleted: permission bits do not tell (root, read-only mounts, ACLs);
      // in the nearest directory that exists, so that a mistake found later leaves no directory
      Files.delete(Files.createTempFile(existing, ".hangar-write-check", ".tmp"));
    } catch (IOException e) {
      throw new UsageException(
          "--out " + out + " is not a directory Hangar can write in: " + IoProblems.describe(e));
    }
  }

  private Target resolve(HangarRuntime hangar) {
    Path file = Path.of(target);
    if (Files.isRegularFile(file)) {
      BackendProvider provider = hangar.providerFor(file);
      String name = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
      // a file in a model's version directory: the suggestion starts from that model's config
      Optional<ModelDefinition> model =
          ModelFiles.modelDirectoryOf(file)
              .flatMap(
                  directory ->
                      new ModelRepository(directory.getParent(), hangar.backends())
                          .scan(directory.getFileName().toString()))
              .flatMap(RepositoryEntry::definition);
      return new Target(ModelFiles.source(name, file), provider.format(), model);
    }
    ModelManager manager = hangar.manager();
    manager.start(false);
    List<ModelStatus> statuses = manager.status(target);
    ModelDefinition definition =
        manager
            .definition(target)
            .orElseThrow(
                () ->
                    new ModelNotFoundException(
                        "model '"
                            + target
                            + "' cannot be served: "
                            + statuses.get(0).reason().orElse("unknown problem")));
    long version =
        definition.servedVersions().stream()
            .findFirst()
            .orElseThrow(
                () -> new ModelNotFoundException("model '" + target + "' has no version to serve"));
    ModelVersionFile versionFile = definition.version(version).orElseThrow();
    return new Target(definition.source(versionFile), definition.format(), Optional.of(definition));
  }

  private Path configFile() {
    return out.resolve("config.yaml");
  }

  /**
   * Writes config.yaml whole or not at all: into a temporary file moved into place, which a
   * shutdown hook removes when the process is stopped before the move.
   */
  private void writeConfig(String config) throws IOException {
    Files.createDirectories(out); // checked writable before the work began
    Path partial = out.resolve("config.yaml." + ProcessHandle.current().pid() + ".tmp");
    Thread cleanup = new Thread(() -> deleteQuietly(partial), "hangar-optimize-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      Files.writeString(partial, config);
      Files.move(
          partial,
          configFile(),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } finally {
      deleteQuietly(partial);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs, and deletes the same file
      }
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // nothing better to do on the way out; the file is named .tmp
    }
  }
}
