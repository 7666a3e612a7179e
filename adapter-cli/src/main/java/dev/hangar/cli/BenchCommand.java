package dev.hangar.cli;

import dev.hangar.cli.bench.BenchReport;
import dev.hangar.cli.bench.BenchTarget;
import dev.hangar.cli.bench.HtmlReport;
import dev.hangar.cli.bench.HttpTarget;
import dev.hangar.cli.bench.InProcessTarget;
import dev.hangar.cli.bench.LevelResult;
import dev.hangar.cli.bench.LoadGenerator;
import dev.hangar.cli.bench.LoadGenerator.Distribution;
import dev.hangar.cli.bench.LoadGenerator.Level;
import dev.hangar.cli.bench.LoadGenerator.Mode;
import dev.hangar.cli.bench.OutputCheck;
import dev.hangar.cli.remote.V2Client;
import dev.hangar.cli.remote.V2Codec;
import dev.hangar.cli.remote.V2Codec.Protocol;
import dev.hangar.core.config.Durations;
import dev.hangar.core.config.WarmupConfig;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.model.SyntheticInputs;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hangar bench}: latency and throughput of a model at several concurrencies or request
 * rates, in this process (through core's inference service, as the HTTP adapter calls it) or
 * against a running server over HTTP.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure a model's throughput and latency (p50/p90/p95/p99) at several concurrencies (closed"
          + " loop) or request rates (open loop, latency from each request's intended send time),"
          + " in this process or against a running server (--url).",
      "Each level runs a warmup, then measurement windows until the last 3 windows' throughputs"
          + " agree within --stability, or --max-windows have run; the numbers come from the last"
          + " 3 windows. Progress goes to stderr, the table to stdout."
    },
    footer = {
      "",
      "Examples:",
      "  hangar bench quality_predictor --repo models --concurrency 1,8,64",
      "  hangar bench quality_predictor --url http://127.0.0.1:8000 \\",
      "      --protocol binary --concurrency 1,8,64 --report bench.html",
      "  hangar bench routing_classifier --url http://127.0.0.1:8000 \\",
      "      --rate 500,1000,2000 --json bench.json --csv bench.csv",
      "  hangar bench quality_predictor --input-data request.json \\",
      "      --expect response.json --tolerance 1e-4"
    })
final class BenchCommand implements Callable<Integer> {
  /** Distinct synthesized input sets, sent round-robin (a response cache would still hit). */
  private static final int SYNTHESIZED_SETS = 16;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model name.")
  String model;

  @Option(
      names = "--concurrency",
      split = ",",
      splitSynopsisLabel = ",",
      paramLabel = "N",
      description =
          "Requests kept outstanding (closed loop), one measurement per value (default: 1).")
  List<Integer> concurrency;

  @Option(
      names = "--rate",
      split = ",",
      splitSynopsisLabel = ",",
      paramLabel = "R",
      description =
          "Requests per second on a fixed arrival schedule (open loop), one measurement per value.")
  List<Double> rates;

  @Option(
      names = "--distribution",
      paramLabel = "KIND",
      completionCandidates = CompletionCandidates.Distributions.class,
      defaultValue = "constant",
      description =
          "With --rate: constant intervals or poisson arrivals (default: ${DEFAULT-VALUE}).")
  Distribution distribution;

  @Option(
      names = "--max-outstanding",
      paramLabel = "N",
      defaultValue = "256",
      description =
          "With --rate: the most requests in flight (over HTTP also the most connections); beyond"
              + " it the sender waits and the result says the limit was hit (default:"
              + " ${DEFAULT-VALUE}).")
  int maxOutstanding;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      defaultValue = "2s",
      converter = ServeCommand.DurationConverter.class,
      description =
          "Load before each level's measurement, not measured (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--window",
      paramLabel = "DURATION",
      defaultValue = "2s",
      converter = ServeCommand.DurationConverter.class,
      description = "The length of one measurement window (default: ${DEFAULT-VALUE}).")
  Duration window;

  @Option(
      names = "--stability",
      paramLabel = "PERCENT",
      defaultValue = "10%",
      converter = PercentConverter.class,
      description =
          "How close the last 3 windows' throughputs must be to their mean (default: ${DEFAULT-VALUE}).")
  double stability;

  @Option(
      names = "--max-windows",
      paramLabel = "N",
      defaultValue = "10",
      description = "The most windows per level (default: ${DEFAULT-VALUE}).")
  int maxWindows;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "1",
      description = "Rows per request on a batched model (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--shape",
      paramLabel = "INPUT=D1,D2",
      description =
          "The shape of a synthesized input with free dimensions, without the batch dimension of a"
              + " batched model (other free dimensions are 8).")
  Map<String, String> shapes = new LinkedHashMap<>();

  @Option(
      names = "--input-data",
      paramLabel = "FILE",
      description =
          "The request's inputs as JSON, in the forms 'hangar infer --input' takes, instead of"
              + " synthesized ones; one row is repeated --batch times.")
  Path inputData;

  @Option(
      names = "--expect",
      paramLabel = "FILE",
      description =
          "Expected outputs as JSON ('hangar infer' output, or {\"<output>\": [...]}); every"
              + " response is compared, and differences count as 'mismatch' errors (exit 1).")
  Path expect;

  @Option(
      names = "--tolerance",
      paramLabel = "ABS",
      defaultValue = "1e-5",
      description =
          "With --expect: the absolute difference allowed in floating-point outputs (default:"
              + " ${DEFAULT-VALUE}).")
  double tolerance;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the results as JSON.")
  Path json;

  @Option(names = "--csv", paramLabel = "FILE", description = "Write the results as CSV.")
  Path csv;

  @Option(
      names = "--report",
      paramLabel = "FILE",
      description =
          "Write a self-contained HTML page: a latency-against-throughput chart and the table.")
  Path report;

  @Option(
      names = "--protocol",
      paramLabel = "json|binary",
      completionCandidates = CompletionCandidates.Protocols.class,
      description = "With --url: JSON tensors or binary tensors (default: json).")
  Protocol protocol;

  @Option(
      names = "--model-version",
      paramLabel = "N",
      description = "The model version (default: the one served by default).")
  Long version;

  @Mixin ProgressOption progressOption;

  @Mixin RemoteOptions remote;

  @Mixin RepositoryOptions repository;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    remote.checkExclusive(spec);
    List<Level> levels = levels();
    checkOutputs();
    if (protocol != null && !remote.isRemote()) {
      throw new UsageException("--protocol applies with --url; in process there is no protocol");
    }
    if (tolerance < 0 || Double.isNaN(tolerance)) {
      throw new UsageException("--tolerance must be zero or more");
    }
    atLeastOne("--batch", batch);
    atLeastOne("--max-windows", maxWindows);
    atLeastOne("--max-outstanding", maxOutstanding);
    VersionOption.check(version);
    LoadGenerator.Settings settings;
    try {
      settings =
          new LoadGenerator.Settings(
              warmup,
              window,
              stability,
              maxWindows,
              batch,
              maxOutstanding,
              distribution,
              remote.timeout);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    OptionalLong requested = version == null ? OptionalLong.empty() : OptionalLong.of(version);
    if (remote.isRemote()) {
      try (V2Client client = remote.client()) {
        ModelSignature signature = client.model(model, requested).signature();
        List<List<Tensor>> inputs = inputSets(signature);
        OutputCheck check = check(signature);
        Protocol chosen = protocol == null ? Protocol.JSON : protocol;
        InferenceResponse first =
            client.infer(model, requested, V2Codec.encode(inputs.get(0), List.of(), chosen));
        try (BenchTarget target = new HttpTarget(client, model, requested, inputs, chosen, check)) {
          return measure(
              target,
              levels,
              settings,
              first,
              check,
              client.address(),
              chosen.name().toLowerCase(Locale.ROOT),
              isLoopback(client.base().getHost()));
        }
      }
    }
    try (HangarRuntime hangar =
        HangarRuntime.create(repository.repositorySettings(), repository.plugins)) {
      ModelManager manager = hangar.manager();
      manager.start(false);
      ModelSignature signature;
      ModelVersionKey served;
      try (ModelLease lease = manager.acquire(model, requested).join()) {
        signature = lease.version().signature();
        served = lease.version().key();
      }
      List<List<Tensor>> inputs = inputSets(signature);
      OutputCheck check = check(signature);
      InferenceRequest request = InferenceRequest.of(model, inputs.get(0));
      InferenceResponse first =
          hangar.inference().infer(version == null ? request : request.withVersion(version));
      try (BenchTarget target =
          new InProcessTarget(
              hangar.inference(), manager, served, requested, inputs, check, remote.timeout)) {
        return measure(target, levels, settings, first, check, "in process", "in-process", true);
      }
    }
  }

  private int measure(
      BenchTarget target,
      List<Level> levels,
      LoadGenerator.Settings settings,
      InferenceResponse first,
      OutputCheck check,
      String where,
      String protocolName,
      boolean sharedMachine)
      throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Progress progress = progressOption.on(err);
    if (check != null) {
      check
          .mismatch(first.outputs())
          .ifPresent(
              difference ->
                  progress.milestone(
                      "warning: the first response differs from --expect: " + difference));
    }
    Instant started = Instant.now();
    LoadGenerator generator = new LoadGenerator(target, settings);
    List<LevelResult> results = new ArrayList<>();
    progress.start("bench " + model, (long) levels.size() * settings.maxWindows());
    // Ctrl-C or SIGTERM stops the level in progress; the levels measured are still reported
    AtomicBoolean stopping = new AtomicBoolean();
    try (Signals.Handling signals =
        Signals.interruptOnTermination(
            Thread.currentThread(),
            stopping,
            err,
            "stopping: the levels measured so far are reported (a second Ctrl-C quits at once)",
            130)) {
      for (int i = 0; i < levels.size(); i++) {
        long before = (long) i * settings.maxWindows();
        LevelResult result =
            generator.run(
                levels.get(i),
                new LoadGenerator.Listener() {
                  @Override
                  public void warmingUp(Level level) {
                    progress.update(
                        before,
                        level.label() + ": warming up for " + Durations.format(settings.warmup()));
                  }

                  @Override
                  public void window(Level level, int index, double throughput) {
                    progress.update(
                        before + index,
                        String.format(
                            Locale.ROOT,
                            "%s: window %d/%d, %.1f infer/s",
                            level.label(),
                            index,
                            settings.maxWindows(),
                            throughput));
                  }
                });
        results.add(result);
        progress.milestone(summary(result));
      }
    } catch (InterruptedException e) {
      if (!stopping.get()) {
        throw e;
      }
    }
    progress.finish();
    if (stopping.get() && results.isEmpty()) {
      throw new HangarException(
          ErrorCategory.UNAVAILABLE, "stopped by a signal before any level was measured");
    }

    List<String> notes = new ArrayList<>();
    int processors = Runtime.getRuntime().availableProcessors();
    if (sharedMachine) {
      notes.add(
          "client and server share this machine's "
              + processors
              + " processors"
              + (protocolName.equals("in-process")
                  ? " (in process: core's inference service without HTTP)"
                  : ""));
    }
    notes.add(
        "avg batch: rows per model execution (the server's inference_count / execution_count)");
    BenchReport bench =
        new BenchReport(
            model,
            first.version(),
            where,
            protocolName,
            levels.get(0).mode(),
            inputDescription(target.requests()),
            settings,
            machine(),
            started,
            notes,
            results);
    out.print(bench.table());
    out.flush();
    write(json, bench.json(), err);
    write(csv, bench.csv(), err);
    write(report, HtmlReport.render(bench), err);

    if (stopping.get()) {
      throw new HangarException(
          ErrorCategory.UNAVAILABLE,
          "stopped by a signal after "
              + results.size()
              + " of "
              + levels.size()
              + " levels; the table holds the levels measured");
    }
    long mismatches = errors(results, "mismatch");
    if (mismatches > 0) {
      String example = firstExample(results, "mismatch");
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          mismatches + " measured responses differed from --expect; the first: " + example);
    }
    long unreachable = errors(results, "connection_refused", "connection_error");
    if (unreachable > 0 && !results.stream().allMatch(result -> result.requests() == 0)) {
      // the server went away during the run: the numbers above are not the server's
      String example = firstExample(results, "connection_refused", "connection_error");
      throw new HangarException(
          ErrorCategory.UNAVAILABLE,
          unreachable
              + " measured requests could not reach the server, which went away during the run: "
              + example);
    }
    if (results.stream().allMatch(result -> result.requests() == 0)) {
      String example =
          results.stream()
              .flatMap(result -> result.errorExamples().values().stream())
              .findFirst()
              .orElse("no request completed within a window");
      throw new HangarException(
          ErrorCategory.UNAVAILABLE, "no measured request succeeded: " + example);
    }
    return 0;
  }

  private static String summary(LevelResult result) {
    return String.format(
        Locale.ROOT,
        "%s: %.1f infer/s, p50 %s ms, p99 %s ms, errors %s, %d windows%s",
        result.level().label(),
        result.throughput(),
        millis(result.latency().p50()),
        millis(result.latency().p99()),
        result.errorCount(),
        result.windowsRun(),
        result.stable() ? " (stable)" : " (not stable)");
  }

  private static String millis(double value) {
    return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.3f", value);
  }

  private List<Level> levels() {
    if (concurrency != null && rates != null) {
      throw new UsageException(
          "--concurrency and --rate exclude each other: measure a closed or an open loop");
    }
    List<Level> levels = new ArrayList<>();
    try {
      if (rates != null) {
        rates.forEach(rate -> levels.add(new Level(Mode.RATE, rate)));
      } else {
        (concurrency == null ? List.of(1) : concurrency)
            .forEach(count -> levels.add(new Level(Mode.CONCURRENCY, count)));
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (levels.isEmpty()) {
      throw new UsageException("name at least one concurrency or rate");
    }
    return levels;
  }

  private List<List<Tensor>> inputSets(ModelSignature signature) {
    if (batch > 1 && !signature.batched()) {
      throw new UsageException("model '" + model + "' has no batch dimension; --batch must be 1");
    }
    if (inputData != null) {
      if (!shapes.isEmpty()) {
        throw new UsageException("--shape applies to synthesized inputs, not to --input-data");
      }
      // the file's mistake, as with hangar infer
      List<Tensor> parsed =
          UsageException.forRefusedInputs(
              () -> RequestInputs.parse(RequestInputs.read(inputData, "--input-data"), signature));
      if (batch == 1) {
        return List.of(parsed);
      }
      List<Tensor> batched = new ArrayList<>();
      for (Tensor tensor : parsed) {
        if (tensor.rank() == 0 || tensor.dimension(0) != 1) {
          throw new UsageException(
              "--batch "
                  + batch
                  + " repeats one row of --input-data, but input '"
                  + tensor.name()
                  + "' has "
                  + (tensor.rank() == 0 ? "no rows" : tensor.dimension(0) + " rows"));
        }
        batched.add(Tensor.concatenateRows(tensor.name(), Collections.nCopies(batch, tensor)));
      }
      return List.of(batched);
    }
    Map<String, long[]> chosen = new LinkedHashMap<>();
    for (TensorSpec input : signature.inputs()) {
      chosen.put(input.name(), shapeOf(input, signature.batched()));
    }
    for (String name : shapes.keySet()) {
      if (!chosen.containsKey(name)) {
        throw new UsageException(
            "--shape names input '"
                + name
                + "', which the model does not have; its inputs are "
                + chosen.keySet());
      }
    }
    List<List<Tensor>> sets = new ArrayList<>();
    for (int set = 0; set < SYNTHESIZED_SETS; set++) {
      Random random = new Random(1000L + set);
      List<Tensor> tensors = new ArrayList<>();
      for (TensorSpec input : signature.inputs()) {
        tensors.add(
            SyntheticInputs.tensor(
                input.name(), input.dataType(), chosen.get(input.name()), random));
      }
      sets.add(tensors);
    }
    return sets;
  }

  /** The shape synthesized for an input: --shape, else free dimensions at their defaults. */
  private long[] shapeOf(TensorSpec input, boolean batched) {
    long[] declared = input.shape();
    int offset = batched ? 1 : 0;
    String given = shapes.get(input.name());
    long[] shape = declared.clone();
    if (given != null) {
      long[] dims;
      try {
        dims =
            Arrays.stream(given.split(",")).map(String::strip).mapToLong(Long::parseLong).toArray();
      } catch (NumberFormatException e) {
        throw new UsageException(
            "--shape " + input.name() + "=" + given + ": write sizes such as 3,224,224");
      }
      if (dims.length != declared.length - offset) {
        throw new UsageException(
            "--shape "
                + input.name()
                + "="
                + given
                + " has "
                + dims.length
                + " dimensions; the input's shape "
                + input.shapeString()
                + (batched ? " without its batch dimension" : "")
                + " has "
                + (declared.length - offset));
      }
      for (int i = 0; i < dims.length; i++) {
        long fixed = declared[i + offset];
        if (dims[i] < 1 || (fixed >= 0 && fixed != dims[i])) {
          throw new UsageException(
              "--shape "
                  + input.name()
                  + "="
                  + given
                  + " does not fit the input's shape "
                  + input.shapeString());
        }
        shape[i + offset] = dims[i];
      }
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = i == 0 && batched ? batch : WarmupConfig.DEFAULTS.freeDimensionSize();
      }
    }
    // a tensor lives in one buffer: past 2GB the synthesized input cannot be built
    long bytes = input.dataType() == DataType.BYTES ? 1 : input.dataType().byteSize();
    for (long dimension : shape) {
      bytes = dimension != 0 && bytes > Integer.MAX_VALUE / dimension ? -1 : bytes * dimension;
      if (bytes < 0) {
        throw new UsageException(
            "input '"
                + input.name()
                + "' of shape "
                + Arrays.toString(shape)
                + " would take more than the 2GB one tensor can hold; choose a smaller --shape"
                + (batched ? " or --batch" : ""));
      }
    }
    return shape;
  }

  private OutputCheck check(ModelSignature signature) {
    if (expect == null) {
      return null;
    }
    List<Tensor> expected =
        UsageException.forRefusedInputs(
            () -> RequestInputs.parseOutputs(RequestInputs.read(expect, "--expect"), signature));
    if (expected.isEmpty()) {
      throw new UsageException("--expect " + expect + " names no output");
    }
    return new OutputCheck(expected, tolerance);
  }

  private String inputDescription(int sets) {
    if (inputData != null) {
      return "inputs from " + inputData;
    }
    return sets + " synthesized input sets";
  }

  private static String machine() {
    return String.format(
        Locale.ROOT,
        "%d processors, %s %s, Java %s (%s)",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"));
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * Refuses, before anything is measured, output files that cannot be written or that would
   * overwrite an input, the model repository or one another: a run's results are written at its
   * end, and a mistake found then loses the run.
   */
  private void checkOutputs() {
    Map<Path, String> named = new LinkedHashMap<>();
    if (inputData != null) {
      named.put(ModelFiles.realPath(inputData), "--input-data");
    }
    if (expect != null) {
      named.put(ModelFiles.realPath(expect), "--expect");
    }
    Optional<Path> models =
        remote.isRemote()
            ? Optional.empty()
            : Optional.of(ModelFiles.realPath(repository.repositorySettings().repository()));
    Map<String, Path> outputs = new LinkedHashMap<>();
    outputs.put("--json", json);
    outputs.put("--csv", csv);
    outputs.put("--report", report);
    for (Map.Entry<String, Path> output : outputs.entrySet()) {
      if (output.getValue() == null) {
        continue;
      }
      String option = output.getKey() + " " + output.getValue();
      Path file = ModelFiles.realPath(output.getValue());
      String other = named.putIfAbsent(file, output.getKey());
      if (other != null) {
        throw new UsageException(
            option + " is the file " + other + " names too; give each its own");
      }
      if (models.isPresent() && file.startsWith(models.get())) {
        throw new UsageException(
            option + " is inside the model repository " + models.get() + "; write it elsewhere");
      }
      if (Files.isDirectory(file)) {
        throw new UsageException(option + " is a directory; name a file");
      }
      try {
        // a missing parent directory is created, as the README says
        Files.createDirectories(file.getParent());
        checkWritable(file);
      } catch (IOException e) {
        throw new UsageException(option + " cannot be written: " + IoProblems.describe(e));
      }
    }
  }

  /**
   * Opens {@code file} for writing without changing it, or creates and deletes it: permission bits
   * do not tell for root, read-only mounts or /proc.
   */
  private static void checkWritable(Path file) throws IOException {
    if (Files.exists(file)) {
      Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND).close();
      return;
    }
    Files.createFile(file);
    Files.delete(file);
  }

  private static void write(Path file, String content, PrintWriter err) {
    if (file == null) {
      return;
    }
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new HangarException(
          ErrorCategory.USER_ERROR, "cannot write " + file + ": " + IoProblems.describe(e), e);
    }
    err.println("wrote " + file);
    err.flush();
  }

  /** Parses {@code 10%} or {@code 10}. */
  static final class PercentConverter implements CommandLine.ITypeConverter<Double> {
    @Override
    public Double convert(String value) {
      String number = value.strip();
      if (number.endsWith("%")) {
        number = number.substring(0, number.length() - 1).strip();
      }
      try {
        double percent = Double.parseDouble(number);
        if (!(percent > 0)) {
          throw new NumberFormatException();
        }
        return percent;
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a positive percentage such as 10%");
      }
    }
  }

  /** The measured errors of these kinds over every level. */
  private static long errors(List<LevelResult> results, String... kinds) {
    long count = 0;
    for (LevelResult result : results) {
      for (String kind : kinds) {
        count += result.errors().getOrDefault(kind, 0L);
      }
    }
    return count;
  }

  /** The first example of an error of these kinds, level by level; empty when none. */
  private static String firstExample(List<LevelResult> results, String... kinds) {
    for (LevelResult result : results) {
      for (String kind : kinds) {
        String example = result.errorExamples().get(kind);
        if (example != null) {
          return example;
        }
      }
    }
    return "";
  }

  private static void atLeastOne(String option, int value) {
    if (value < 1) {
      throw new UsageException(option + " must be at least 1, got " + value);
    }
  }
}
