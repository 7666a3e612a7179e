package dev.hangar.cli;

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
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
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
          "The largest absolute output error int8 may cause; above it int8 is refused (default: "
              + OptimizationOptions.DEFAULT_INT8_TOLERANCE
              + ").")
  Double tolerance;

  @Option(
      names = "--per-channel",
      description = "One int8 scale per output channel instead of one per weight tensor.")
  boolean perChannel;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      defaultValue = "optimized",
      description =
          "Where the optimized model and the suggested config.yaml go (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--tune",
      description =
          "Measure intra-op thread counts (1, 2, 4, ... the cores) and batch sizes (1 to 64) and"
              + " suggest the fastest setting whose p99 stays under --p99. Alone it only tunes;"
              + " with --level or --int8 it tunes the optimized model.")
  boolean tune;

  @Option(
      names = "--p99",
      paramLabel = "DURATION",
      defaultValue = "50ms",
      description = "The p99 latency target of --tune, such as 20ms (default: ${DEFAULT-VALUE}).")
  String p99;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "100",
      description = "Timed runs per variant and batch size (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--warmup-runs",
      paramLabel = "N",
      defaultValue = "10",
      description = "Untimed runs before timing (default: ${DEFAULT-VALUE}).")
  int warmupRuns;

  @Option(
      names = "--batch-sizes",
      paramLabel = "N,N",
      split = ",",
      defaultValue = "1,32",
      description = "Batch sizes timed for each variant (default: ${DEFAULT-VALUE}).")
  List<Integer> batchSizes;

  @Option(
      names = "--threads",
      paramLabel = "N,N",
      split = ",",
      description = "Thread counts --tune tries (default: 1, 2, 4, ... up to the cores).")
  List<Integer> threads;

  @Option(names = "--json", description = "Print the reports as JSON instead of tables.")
  boolean json;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The model to optimize: its source, format and, for a repository model, its definition. */
  private record Target(ModelSource source, String format, Optional<ModelDefinition> definition) {}

  @Override
  public Integer call() {
    OptimizationOptions options = options();
    MeasurementPlan plan = plan();
    Duration p99Target = p99Target();
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
    try (HangarRuntime hangar = HangarRuntime.create(repository.settings(), repository.plugins)) {
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
      boolean optimizeAsked = !tune || level != null || int8;
      Optional<OptimizationReport> report = Optional.empty();
      if (optimizeAsked) {
        report = Optional.of(optimizer.optimize(model.source(), options, plan, out));
      }
      Optional<TuningReport> tuning = Optional.empty();
      if (tune) {
        ModelSource tuned = model.source();
        Optional<OptimizationOptions> kept =
            report.flatMap(OptimizationReport::suggestedOptimization);
        if (kept.isPresent()) {
          tuned = optimizer.prepare(tuned, kept.get());
        }
        tuning = Optional.of(optimizer.tune(tuned, tuningOptions(p99Target)));
      }
      String config = SuggestedConfig.yaml(model.definition(), report, tuning);
      Path configFile = writeConfig(config);
      PrintWriter printed = spec.commandLine().getOut();
      if (json) {
        printed.println(OptimizeOutput.json(report, tuning, config, configFile));
      } else {
        report.ifPresent(r -> printed.print(OptimizeOutput.table(r)));
        tuning.ifPresent(t -> printed.print(OptimizeOutput.table(t)));
        printed.println();
        printed.println("suggested config.yaml (written to " + configFile + "):");
        config.lines().forEach(line -> printed.println("  " + line));
      }
      printed.flush();
      return 0;
    }
  }

  private OptimizationOptions options() {
    Level chosen;
    try {
      chosen = level == null ? Level.ALL : Level.fromConfigName(level);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--level: " + e.getMessage());
    }
    double limit = tolerance == null ? OptimizationOptions.DEFAULT_INT8_TOLERANCE : tolerance;
    if (!(limit > 0)) {
      throw new UsageException("--tolerance must be a positive number, got " + limit);
    }
    if ((tolerance != null || perChannel) && !int8) {
      throw new UsageException("--tolerance and --per-channel apply to --int8; add --int8");
    }
    return new OptimizationOptions(
        chosen, int8, limit, perChannel ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR);
  }

  private MeasurementPlan plan() {
    try {
      return new MeasurementPlan(warmupRuns, runs, batchSizes);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private Duration p99Target() {
    try {
      Duration target = Durations.parse(p99);
      if (target.isZero() || target.isNegative()) {
        throw new UsageException("--p99 must be positive, got " + p99);
      }
      return target;
    } catch (IllegalArgumentException e) {
      throw new UsageException("--p99: " + e.getMessage());
    }
  }

  private TuningOptions tuningOptions(Duration target) {
    TuningOptions defaults =
        TuningOptions.defaults(Runtime.getRuntime().availableProcessors(), target);
    return new TuningOptions(
        target,
        threads == null ? defaults.threadCounts() : threads,
        defaults.batchSizes(),
        Math.min(warmupRuns, defaults.warmupRuns()),
        Math.min(runs, defaults.timedRuns()));
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

  private Path writeConfig(String config) {
    try {
      Files.createDirectories(out);
      Path file = out.resolve("config.yaml");
      Files.writeString(file, config);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the suggested config to " + out, e);
    }
  }
}
