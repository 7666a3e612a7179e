package dev.hangar.http.bench;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.core.CoreExecutors;
import dev.hangar.core.CoreModule;
import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.http.HttpModule;
import dev.hangar.http.HttpServer;
import dev.hangar.http.HttpSettings;
import dev.hangar.http.Repositories;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The HTTP load harness (a benchmark, not a test): closed-loop clients on keep-alive connections,
 * one request in flight each, against
 *
 * <ul>
 *   <li>{@code ceiling}: a bare Javalin endpoint that reads the body and returns a constant v2
 *       response (what HTTP alone costs on this machine);
 *   <li>{@code quality_predictor} through Hangar, JSON and binary;
 *   <li>{@code mlp}: a ~50MB MLP (64-3500-3500-8, random weights, max_batch_size 64) through
 *       Hangar, one row per request, with its default config, and again as {@code mlp_variant} with
 *       ONNX Runtime's own default of intra-op threads that spin ({@code allow_spinning: true}),
 *       against ONNX Runtime's own batch-64 throughput of the same file, measured in each round
 *       next to the HTTP runs (and once, before the rounds, at 1, 16 and 32 rows per call); with
 *       {@code quality} in the same run, also the most the MLP could reach if CPU were all that
 *       limits it.
 * </ul>
 *
 * <p>First each kind of request is driven, unrecorded, until the JIT has gone quiet (at most {@code
 * --jit-warmup} seconds), so that C2 has compiled its code before anything is measured. Then for
 * each connection count, {@code --rounds} rounds each run the ceiling, JSON and binary one after
 * the other ({@code --warmup} seconds unrecorded, {@code --seconds} measured). The summary gives
 * the run of median rate of each series, and the median of the round-by-round ratios: runs next to
 * each other share whatever else the machine does at the time.
 *
 * <p>Client and server share the JVM and the machine's cores; each line says how much CPU the
 * process used (in cores), how much of it the client, and (on Linux) how the cores were shared
 * among the process's groups of threads, ONNX Runtime's native ones included. Run it with
 *
 * <pre>
 * ./mvnw -B -DskipTests -pl adapter-http -am verify -Dbench=http
 * </pre>
 *
 * Options: {@code --seconds N} (default 5), {@code --warmup N} (default 2), {@code --jit-warmup N}
 * (default 60), {@code --rounds N} (default 3), {@code --connections 1,16,64}, {@code --only
 * ceiling,quality,mlp}, {@code --mlp-config YAML} (the MLP's config.yaml, {@code \n} for new
 * lines), {@code --mlp-variant YAML} ({@code mlp_variant}'s config.yaml; given again, {@code
 * mlp_variant_2}'s and so on, each measured in every round), {@code --raw-threads 4,8} (ONNX
 * Runtime alone at batch 64 with these intra-op thread counts, once), {@code --client loop|jdk}:
 * the client, by default {@link EventLoopClient} (one thread, a selector over every connection, the
 * request's bytes prepared once, as wrk does), or the JDK's {@code HttpClient} with a thread per
 * connection, which costs several times more CPU per request, CPU the server then lacks on a small
 * machine.
 */
public final class HttpLoadBench {
  private static final String FEATURES = "[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]";
  private static final int MLP_IN = 64;
  private static final int MLP_HIDDEN = 3500;
  private static final int MLP_OUT = 8;
  private static final String MLP_CONFIG = "max_batch_size: 64\nload_at_startup: true\n";
  // ONNX Runtime's own default, which Hangar's is not: threads that spin between parallel sections
  private static final String MLP_VARIANT =
      "max_batch_size: 64\nparameters: {allow_spinning: true}\nload_at_startup: true\n";

  // the raw baseline is ONNX Runtime as it comes, whose threads spin (Hangar's do not by default)
  private static final ModelParameters ORT_DEFAULTS =
      new ModelParameters(Map.of("allow_spinning", "true"));

  private final int seconds;
  private final int warmup;
  private final int jitWarmup;
  private final int rounds;
  private final int[] connections;
  private final List<String> only;
  private final String mlpConfig;
  private final List<String> mlpVariants;
  private final int[] rawThreads;
  private final Client client;
  private final List<String> report = new ArrayList<>();
  // quality_predictor binary at the last connection count: HTTP's CPU per request, for the bound
  private Run binaryHttp;

  private HttpLoadBench(Options options) {
    this.seconds = options.seconds();
    this.warmup = options.warmup();
    this.jitWarmup = options.jitWarmup();
    this.rounds = options.rounds();
    this.connections = options.connections();
    this.only = options.only();
    this.mlpConfig = options.mlpConfig();
    this.mlpVariants = options.mlpVariants();
    this.rawThreads = options.rawThreads();
    this.client = options.client();
  }

  /** The command line's options. */
  private record Options(
      int seconds,
      int warmup,
      int jitWarmup,
      int rounds,
      int[] connections,
      List<String> only,
      String mlpConfig,
      List<String> mlpVariants,
      int[] rawThreads,
      Client client) {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int seconds = 5;
    int warmup = 2;
    int jitWarmup = 60;
    int rounds = 3;
    int[] connections = {1, 16, 64};
    List<String> only = List.of("ceiling", "quality", "mlp");
    String mlpConfig = MLP_CONFIG;
    List<String> mlpVariants = new ArrayList<>();
    int[] rawThreads = {};
    Client client = Client.LOOP;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--jit-warmup" -> jitWarmup = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--connections" ->
            connections = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--only" -> only = List.of(args[++i].split(","));
        case "--mlp-config" -> mlpConfig = args[++i].replace("\\n", "\n");
        case "--mlp-variant" -> mlpVariants.add(args[++i].replace("\\n", "\n"));
        case "--raw-threads" ->
            rawThreads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--client" -> client = Client.valueOf(args[++i].toUpperCase(Locale.ROOT));
        default -> {
          System.out.println(
              "usage: HttpLoadBench [--seconds N] [--warmup N] [--jit-warmup N] [--rounds N]"
                  + " [--connections 1,16,64] [--only ceiling,quality,mlp] [--mlp-config YAML]"
                  + " [--mlp-variant YAML ...] [--raw-threads 4,8] [--client loop|jdk]");
          return;
        }
      }
    }
    new HttpLoadBench(
            new Options(
                seconds,
                warmup,
                jitWarmup,
                rounds,
                connections,
                only,
                mlpConfig,
                mlpVariants.isEmpty() ? List.of(MLP_VARIANT) : List.copyOf(mlpVariants),
                rawThreads,
                client))
        .run();
  }

  private void run() throws Exception {
    System.out.printf(
        Locale.ROOT,
        "JVM %s, %d processors; client (%s) and server share them; answers handed to up to %d"
            + " other workers%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        client == Client.LOOP ? "one event-loop thread" : "JDK HttpClient, a thread each",
        InferenceService.answerHelpersForThisMachine());
    Path repository = Files.createTempDirectory("hangar-bench");
    Path cache = Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"));
    try {
      Repositories.copySample(repository, "quality_predictor");
      Path mlp = only.contains("mlp") ? writeMlp(repository) : null;
      ServerSettings settings =
          ServerSettings.defaults(repository)
              .withMemoryBudget(DataSize.ofMegabytes(2048))
              .withCacheDirectory(cache);
      Injector injector =
          Guice.createInjector(
              new CoreModule(settings, HttpLoadBench.class.getClassLoader()),
              new HttpModule(HttpSettings.defaults().withAddress("127.0.0.1", 0)));
      ModelManager manager = injector.getInstance(ModelManager.class);
      manager.start().join();
      // a variant whose config is refused would otherwise be measured as minutes of failures
      List<String> unserved = new ArrayList<>(manager.notReady());
      if (only.contains("mlp")) {
        mlpModels().stream().filter(m -> manager.definition(m).isEmpty()).forEach(unserved::add);
      }
      if (!unserved.isEmpty()) {
        manager.close();
        throw new IllegalStateException("not served (see the log above): " + unserved);
      }
      HttpServer server = injector.getInstance(HttpServer.class).start();
      try {
        URI infer = server.uri().resolve("/v2/models/quality_predictor/infer");
        byte[] json = qualityJson().getBytes(StandardCharsets.UTF_8);
        Binary binary = qualityBinary();
        // runs for one connection count follow each other, so that whatever else the machine
        // does at the time weighs on the ceiling and on Hangar alike
        Javalin bare = only.contains("ceiling") ? bareServer() : null;
        try {
          URI ceiling =
              bare == null
                  ? null
                  : URI.create(
                      "http://127.0.0.1:" + bare.port() + "/v2/models/quality_predictor/infer");
          if (ceiling != null) {
            warmUp(ceiling, json, null);
          }
          if (only.contains("quality")) {
            warmUp(infer, json, null);
            warmUp(infer, binary.body, binary.headerLength);
          }
          for (int count : connections) {
            List<Run> ceilings = new ArrayList<>();
            List<Run> jsons = new ArrayList<>();
            List<Run> binaries = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
              if (ceiling != null) {
                ceilings.add(
                    measure("ceiling (bare Javalin, constant)", count, ceiling, json, null));
              }
              if (only.contains("quality")) {
                jsons.add(measure("quality_predictor JSON", count, infer, json, null));
                binaries.add(
                    measure(
                        "quality_predictor binary",
                        count,
                        infer,
                        binary.body,
                        binary.headerLength));
              }
            }
            summarize("ceiling (bare Javalin, constant)", count, ceilings);
            summarize("quality_predictor JSON", count, jsons);
            summarize("quality_predictor binary", count, binaries);
            binaryHttp = binaries.isEmpty() ? null : median(binaries);
            if (!ceilings.isEmpty() && !jsons.isEmpty()) {
              report(ratio("  JSON / ceiling", jsons, ceilings, "(target >= 0.60 at 64)"));
              report(ratio("  binary / ceiling", binaries, ceilings, "(target >= 0.60 at 64)"));
            }
          }
        } finally {
          if (bare != null) {
            bare.stop();
          }
        }
        if (mlp != null) {
          int count = connections[connections.length - 1];
          Binary row = mlpBinary();
          List<Run> raws = new ArrayList<>();
          Map<String, List<Run>> served = new LinkedHashMap<>();
          for (String model : mlpModels()) {
            served.put(model, new ArrayList<>());
            warmUp(
                server.uri().resolve("/v2/models/" + model + "/infer"), row.body, row.headerLength);
          }
          // how much rows per call matter to this model on this machine, once
          for (int rows : new int[] {1, 16, 32}) {
            // printed as it ran; kept for the summary
            report.add(
                rawBatchThroughput(mlp, cache, rows, ORT_DEFAULTS).describe(rawLabel(rows), 0));
          }
          for (int threads : rawThreads) {
            String label = rawLabel(64) + ", " + threads + " intra-op threads";
            report.add(
                rawBatchThroughput(
                        mlp,
                        cache,
                        64,
                        new ModelParameters(
                            Map.of(
                                "allow_spinning",
                                "true",
                                "intra_op_threads",
                                String.valueOf(threads))))
                    .describe(label, 0));
          }
          for (int round = 1; round <= rounds; round++) {
            // raw throughput drifts on a shared machine: measured in each round, next to HTTP
            raws.add(rawBatchThroughput(mlp, cache, 64, ORT_DEFAULTS));
            for (var model : served.entrySet()) {
              model
                  .getValue()
                  .add(
                      measure(
                          model.getKey() + " binary (1 row/request)",
                          count,
                          server.uri().resolve("/v2/models/" + model.getKey() + "/infer"),
                          row.body,
                          row.headerLength));
            }
          }
          summarize(rawLabel(64), 0, raws);
          served.forEach(
              (model, runs) -> summarize(model + " binary (1 row/request)", count, runs));
          for (String model : served.keySet()) {
            StatisticsSnapshot statistics =
                manager.statistics(new ModelVersionKey(model, 1)).orElseThrow().snapshot();
            long executions = 0;
            long computeNanos = 0;
            for (var batch : statistics.batches().values()) {
              executions += batch.count();
              computeNanos += batch.computeTime().toNanos();
            }
            report(
                ratio(
                    "  " + model + " over HTTP / raw batch 64",
                    served.get(model),
                    raws,
                    String.format(
                        Locale.ROOT,
                        "(target >= 0.70; average batch %.1f, %.2f ms per execution, queue p50"
                            + " %.2f ms)",
                        statistics.averageBatchSize(),
                        computeNanos / 1e6 / executions,
                        statistics.queueTime().p50().toNanos() / 1e6)));
          }
          if (binaryHttp != null) {
            report(cpuBound(median(raws), binaryHttp));
          }
        }
      } finally {
        server.close();
        manager.close();
        injector.getInstance(BackendRegistry.class).close();
        injector.getInstance(CoreExecutors.class).close();
      }
    } finally {
      Repositories.delete(repository);
    }
    System.out.println();
    System.out.println("summary");
    report.forEach(System.out::println);
  }

  /** A bare Javalin endpoint that reads the body and answers a constant v2 response. */
  private static Javalin bareServer() {
    byte[] constant =
        ("{\"model_name\":\"quality_predictor\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"ssim\","
                + "\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[0.9427973]}]}")
            .getBytes(StandardCharsets.UTF_8);
    return Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              // as Hangar, which leaves Javalin's compression off and compresses what it writes
              config.http.compressionStrategy = CompressionStrategy.NONE;
              config.routes.post(
                  "/v2/models/{model}/infer",
                  context -> {
                    context.bodyAsBytes();
                    // written as Hangar writes its answers (not through result(), which copies)
                    context.contentType("application/json").outputStream().write(constant);
                  });
            })
        .start("127.0.0.1", 0);
  }

  /**
   * Gives the JIT a run at one kind of request before anything is measured, at the most connections
   * measured, until it has gone quiet: windows of 3 seconds until one in which the compilers worked
   * less than 3% of the time (at most {@code --jit-warmup} seconds; unrecorded, only printed).
   * Every kind measured needs one: on a small machine C2 takes tens of seconds for a new kind, and
   * the cores it takes meanwhile are the server's.
   */
  private void warmUp(URI uri, byte[] body, Integer headerLength) throws Exception {
    int count = connections[connections.length - 1];
    java.lang.management.CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
    long start = System.nanoTime();
    while (true) {
      long compiled = compiler.getTotalCompilationTime();
      Run run = drive(count, uri, body, headerLength, 0, 3);
      long compiling = compiler.getTotalCompilationTime() - compiled;
      long spent = (System.nanoTime() - start) / 1_000_000_000L;
      System.out.println(
          run.describe("(JIT warm-up, not reported)", count)
              + String.format(Locale.ROOT, "  compiling %d ms of 3000", compiling));
      if (compiling < 90 || spent >= jitWarmup) {
        return;
      }
    }
  }

  /** Runs {@code count} closed-loop clients for one measured period and prints the run. */
  private Run measure(String name, int count, URI uri, byte[] body, Integer headerLength)
      throws Exception {
    Run run = drive(count, uri, body, headerLength, warmup, seconds);
    System.out.println(run.describe(name, count));
    return run;
  }

  /**
   * Runs {@code count} closed-loop clients: {@code unrecorded} seconds first, then {@code recorded}
   * seconds measured.
   */
  private Run drive(
      int count, URI uri, byte[] body, Integer headerLength, int unrecorded, int recorded)
      throws Exception {
    String contentType = headerLength != null ? "application/octet-stream" : "application/json";
    AtomicBoolean recording = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch started = new CountDownLatch(1);
    ExecutorService runner =
        Executors.newSingleThreadExecutor(work -> new Thread(work, "load-client"));
    Future<EventLoopClient.Counts> load =
        runner.submit(
            () -> {
              if (client == Client.LOOP) {
                EventLoopClient loop =
                    new EventLoopClient(uri, body, contentType, headerLength, count);
                return loop.run(recording, stop, started::countDown);
              }
              started.countDown();
              return jdkClients(count, uri, body, contentType, headerLength, recording, stop);
            });
    started.await();
    Thread.sleep(unrecorded * 1000L); // a benchmark's warmup period: time is what it measures
    long cpuBegin = processCpuNanos();
    ThreadCpu threadsBegin = ThreadCpu.sample();
    long begin = System.nanoTime();
    recording.set(true);
    Thread.sleep(recorded * 1000L);
    recording.set(false);
    double elapsed = (System.nanoTime() - begin) / 1e9;
    double processCpu = (processCpuNanos() - cpuBegin) / 1e9 / elapsed;
    String threads = ThreadCpu.sample().coresSince(threadsBegin, elapsed);
    stop.set(true);
    EventLoopClient.Counts counts = load.get();
    runner.shutdown();
    return new Run(
        counts.completed() / elapsed,
        counts.latency().getValueAtPercentile(50) / 1e6,
        counts.latency().getValueAtPercentile(99) / 1e6,
        processCpu,
        counts.clientCpuNanos() < 0 ? Double.NaN : counts.clientCpuNanos() / 1e9 / elapsed,
        counts.failed(),
        threads);
  }

  /**
   * One measured period: requests (or samples) per second, latency percentiles in ms, the CPU the
   * process used (in cores) and of that the client's, the failures, and the cores by thread group.
   */
  private record Run(
      double rate,
      double p50,
      double p99,
      double cpu,
      double clientCpu,
      long failed,
      String threads) {
    String describe(String name, int count) {
      return String.format(
          Locale.ROOT,
          "%-34s %3s %9.0f /s  p50 %7.2f ms  p99 %7.2f ms  cpu %.2f%s%s%s",
          name,
          count > 0 ? Integer.toString(count) : "",
          rate,
          p50,
          p99,
          cpu,
          Double.isNaN(clientCpu) ? "" : String.format(Locale.ROOT, " (client %.2f)", clientCpu),
          failed > 0 ? "  (" + failed + " failed)" : "",
          threads.isEmpty() ? "" : "\n      threads: " + threads);
    }
  }

  private static Run median(List<Run> runs) {
    List<Run> sorted =
        runs.stream().sorted(java.util.Comparator.comparingDouble(Run::rate)).toList();
    return sorted.get(sorted.size() / 2);
  }

  /**
   * The most the MLP can do over HTTP against raw batch 64 if CPU is all that limits it: every core
   * busy, each sample costing the CPU it costs ONNX Runtime alone at batch 64, and each request the
   * CPU a binary {@code quality_predictor} request costs client and server (its model costs next to
   * nothing).
   */
  private static String cpuBound(Run raw, Run http) {
    double modelMicros = raw.cpu() / raw.rate() * 1e6;
    double httpMicros = http.cpu() / http.rate() * 1e6;
    int cores = Runtime.getRuntime().availableProcessors();
    double bound = cores / ((modelMicros + httpMicros) / 1e6) / raw.rate();
    return String.format(
        Locale.ROOT,
        "  mlp CPU bound on this machine: %.2fx of raw batch 64 (ORT alone %.0f us of CPU per"
            + " sample, a binary request %.0f us client and server; every core busy, every batch"
            + " at raw speed)",
        bound,
        modelMicros,
        httpMicros);
  }

  /** Reports the run of median rate among {@code runs}, and the range of the rates. */
  private void summarize(String name, int count, List<Run> runs) {
    if (runs.isEmpty()) {
      return;
    }
    List<Run> sorted =
        runs.stream().sorted(java.util.Comparator.comparingDouble(Run::rate)).toList();
    Run median = median(runs);
    String range =
        String.format(
            Locale.ROOT,
            "  [%.0f to %.0f over %d]",
            sorted.get(0).rate(),
            sorted.get(sorted.size() - 1).rate(),
            runs.size());
    String[] lines = median.describe(name, count).split("\n", 2);
    report(lines[0] + range + (lines.length > 1 ? "\n" + lines[1] : ""));
  }

  /**
   * The median of the round-by-round ratios of two series: each ratio compares runs made one after
   * the other, so that a machine that drifts weighs on both.
   */
  private static String ratio(String name, List<Run> runs, List<Run> baselines, String note) {
    double[] ratios = new double[runs.size()];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = runs.get(i).rate() / baselines.get(i).rate();
    }
    Arrays.sort(ratios);
    return String.format(
        Locale.ROOT,
        "%-42s %.2f (rounds %.2f to %.2f) %s",
        name,
        ratios[ratios.length / 2],
        ratios[0],
        ratios[ratios.length - 1],
        note);
  }

  /** {@code count} threads, each sending through the JDK's HttpClient, one request at a time. */
  private static EventLoopClient.Counts jdkClients(
      int count,
      URI uri,
      byte[] body,
      String contentType,
      Integer headerLength,
      AtomicBoolean recording,
      AtomicBoolean stop)
      throws Exception {
    ExecutorService clientThreads = Executors.newFixedThreadPool(2);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(clientThreads)
            .build();
    HttpRequest.Builder template =
        HttpRequest.newBuilder(uri)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", contentType);
    if (headerLength != null) {
      template.header("Inference-Header-Content-Length", Integer.toString(headerLength));
    }
    HttpRequest request = template.build();
    ExecutorService clients = Executors.newFixedThreadPool(count);
    LongAdder completed = new LongAdder();
    LongAdder failed = new LongAdder();
    List<Histogram> histograms = new ArrayList<>();
    List<Future<?>> loops = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Histogram histogram = new Histogram(60_000_000_000L, 3);
      histograms.add(histogram);
      loops.add(
          clients.submit(
              () -> {
                while (!stop.get()) {
                  long start = System.nanoTime();
                  try {
                    if (client.send(request, HttpResponse.BodyHandlers.ofByteArray()).statusCode()
                        != 200) {
                      failed.increment();
                      continue;
                    }
                  } catch (IOException e) {
                    failed.increment();
                    continue;
                  }
                  if (recording.get()) {
                    histogram.recordValue(System.nanoTime() - start);
                    completed.increment();
                  }
                }
                return null;
              }));
    }
    for (Future<?> loop : loops) {
      loop.get();
    }
    clients.shutdown();
    clientThreads.shutdown();
    Histogram all = new Histogram(60_000_000_000L, 3);
    histograms.forEach(all::add);
    return new EventLoopClient.Counts(completed.sum(), failed.sum(), all, -1);
  }

  /** ONNX Runtime's own throughput of the MLP file at {@code rows} per call; prints the run. */
  private Run rawBatchThroughput(Path file, Path cache, int rows, ModelParameters parameters) {
    try (Backend backend = new OnnxBackendProvider().create(new BackendContext(cache));
        LoadedModel model =
            backend.load(new ModelSource("mlp", 1, file, Optional.empty(), parameters))) {
      float[] values = new float[rows * MLP_IN];
      fill(new Random(7), values);
      Tensor batch = Tensor.ofFloats("x", new long[] {rows, MLP_IN}, values);
      long until = System.nanoTime() + warmup * 1_000_000_000L;
      while (System.nanoTime() < until) {
        model.infer(List.of(batch));
      }
      Histogram latency = new Histogram(60_000_000_000L, 3);
      long cpuBegin = processCpuNanos();
      ThreadCpu threadsBegin = ThreadCpu.sample();
      long begin = System.nanoTime();
      long end = begin + seconds * 1_000_000_000L;
      for (long now = begin; now < end; ) {
        model.infer(List.of(batch));
        long done = System.nanoTime();
        latency.recordValue(done - now);
        now = done;
      }
      double elapsed = (System.nanoTime() - begin) / 1e9;
      Run run =
          new Run(
              latency.getTotalCount() * rows / elapsed,
              latency.getValueAtPercentile(50) / 1e6,
              latency.getValueAtPercentile(99) / 1e6,
              (processCpuNanos() - cpuBegin) / 1e9 / elapsed,
              Double.NaN,
              0,
              ThreadCpu.sample().coresSince(threadsBegin, elapsed));
      System.out.println(run.describe(rawLabel(rows), 0));
      return run;
    }
  }

  private static String rawLabel(int rows) {
    return "mlp raw ORT batch " + rows + " (samples/s)";
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private record Binary(byte[] body, int headerLength) {}

  private static String qualityJson() {
    return "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": "
        + FEATURES
        + "}]}";
  }

  private static Binary qualityBinary() {
    float[] values = {0.2f, 0.1f, 0.5f, 0.3f, 0.1f, 0.6f, 0.8f, 0.4f, 0.5f, 0.2f};
    return binary("features", 10, values, "ssim");
  }

  private static Binary mlpBinary() {
    float[] values = new float[MLP_IN];
    fill(new Random(3), values);
    return binary("x", MLP_IN, values, "y");
  }

  private static Binary binary(String input, int width, float[] values, String output) {
    String header =
        "{\"inputs\": [{\"name\": \""
            + input
            + "\", \"datatype\": \"FP32\", \"shape\": [1, "
            + width
            + "], \"parameters\": {\"binary_data_size\": "
            + (width * 4)
            + "}}], \"outputs\": [{\"name\": \""
            + output
            + "\", \"parameters\": {\"binary_data\": true}}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(json.length + width * 4).order(ByteOrder.LITTLE_ENDIAN);
    body.put(json);
    for (float value : values) {
      body.putFloat(value);
    }
    return new Binary(body.array(), json.length);
  }

  private static void fill(Random random, float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat();
    }
  }

  /** The load generator: {@link EventLoopClient}, or the JDK's HttpClient with a thread each. */
  private enum Client {
    LOOP,
    JDK
  }

  private void report(String line) {
    report.add(line);
    System.out.println(line);
  }

  /** {@code mlp}, then {@code mlp_variant}, {@code mlp_variant_2}, ... one per --mlp-variant. */
  private List<String> mlpModels() {
    List<String> models = new ArrayList<>(List.of("mlp"));
    for (int i = 1; i <= mlpVariants.size(); i++) {
      models.add(i == 1 ? "mlp_variant" : "mlp_variant_" + i);
    }
    return models;
  }

  private Path writeMlp(Path repository) throws IOException {
    Random random = new Random(42);
    OnnxGraphBuilder graph = new OnnxGraphBuilder("mlp");
    graph.input("x", DataType.FP32, new long[] {-1, MLP_IN});
    graph.output("y", DataType.FP32, new long[] {-1, MLP_OUT});
    int[] widths = {MLP_IN, MLP_HIDDEN, MLP_HIDDEN, MLP_OUT};
    String current = "x";
    for (int layer = 0; layer < 3; layer++) {
      int in = widths[layer];
      int out = widths[layer + 1];
      float[] weights = new float[in * out];
      float scale = (float) Math.sqrt(2.0 / in);
      for (int i = 0; i < weights.length; i++) {
        weights[i] = (float) random.nextGaussian() * scale;
      }
      float[] bias = new float[out];
      graph.initializer("w" + layer, new long[] {in, out}, weights);
      graph.initializer("b" + layer, new long[] {out}, bias);
      String product = "m" + layer;
      String sum = layer == 2 ? "y" : "a" + layer;
      graph.node("MatMul", List.of(current, "w" + layer), List.of(product));
      graph.node("Add", List.of(product, "b" + layer), List.of(sum));
      if (layer < 2) {
        graph.node("Relu", List.of(sum), List.of("r" + layer));
        current = "r" + layer;
      }
    }
    Path directory = Files.createDirectories(repository.resolve("mlp").resolve("1"));
    Path file = directory.resolve("model.onnx");
    Files.write(file, graph.build().toByteArray());
    Files.writeString(repository.resolve("mlp").resolve("config.yaml"), mlpConfig);
    // the same file served again under other configs, measured in the same rounds
    List<String> models = mlpModels();
    for (int i = 0; i < mlpVariants.size(); i++) {
      Path variant = repository.resolve(models.get(i + 1));
      Files.copy(file, Files.createDirectories(variant.resolve("1")).resolve("model.onnx"));
      Files.writeString(variant.resolve("config.yaml"), mlpVariants.get(i));
      System.out.printf(
          Locale.ROOT, "%s: %s%n", models.get(i + 1), mlpVariants.get(i).replace("\n", "; "));
    }
    System.out.printf(Locale.ROOT, "mlp: %d MB of weights%n", Files.size(file) >> 20);
    return file;
  }
}
