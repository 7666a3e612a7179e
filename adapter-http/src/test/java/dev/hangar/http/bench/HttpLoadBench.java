package dev.hangar.http.bench;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.core.CoreExecutors;
import dev.hangar.core.CoreModule;
import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.http.HttpModule;
import dev.hangar.http.HttpServer;
import dev.hangar.http.HttpSettings;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import io.javalin.Javalin;
import java.io.IOException;
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
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
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
 *       Hangar, one row per request, with its default config and again as {@code mlp_delay} with
 *       {@code max_queue_delay: 12ms}, against ONNX Runtime's own batch-64 throughput of the same
 *       file measured before and after in the same run.
 * </ul>
 *
 * Client and server share the JVM and the machine's cores. Run it with
 *
 * <pre>
 * ./mvnw -B -DskipTests -pl adapter-http -am verify -Dbench=http -Dbench.args="--seconds 8"
 * </pre>
 *
 * Options: {@code --seconds N} (measured time per run, default 8), {@code --warmup N} (default 5),
 * {@code --connections 1,16,64}, {@code --only ceiling,quality,mlp}, {@code --mlp-config YAML} (the
 * MLP's config.yaml, {@code \n} for new lines), {@code --client raw|jdk}: the client, by default
 * {@link RawHttpConnection} (a socket per connection, the request's bytes prepared once, as wrk
 * does), or the JDK's {@code HttpClient}, which costs several times more CPU per request, CPU the
 * server then lacks on a small machine.
 */
public final class HttpLoadBench {
  private static final String FEATURES = "[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]";
  private static final int MLP_IN = 64;
  private static final int MLP_HIDDEN = 3500;
  private static final int MLP_OUT = 8;
  private static final String MLP_CONFIG = "max_batch_size: 64\nload_at_startup: true\n";

  private final int seconds;
  private final int warmup;
  private final int[] connections;
  private final List<String> only;
  private final String mlpConfig;
  private final boolean rawClient;
  private final List<String> report = new ArrayList<>();

  private HttpLoadBench(
      int seconds,
      int warmup,
      int[] connections,
      List<String> only,
      String mlpConfig,
      boolean rawClient) {
    this.mlpConfig = mlpConfig;
    this.rawClient = rawClient;
    this.seconds = seconds;
    this.warmup = warmup;
    this.connections = connections;
    this.only = only;
  }

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    int seconds = 8;
    int warmup = 5;
    int[] connections = {1, 16, 64};
    List<String> only = List.of("ceiling", "quality", "mlp");
    String mlpConfig = MLP_CONFIG;
    boolean rawClient = true;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--connections" ->
            connections = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--only" -> only = List.of(args[++i].split(","));
        case "--mlp-config" -> mlpConfig = args[++i].replace("\\n", "\n");
        case "--client" -> rawClient = "raw".equals(args[++i]);
        default -> {
          System.out.println(
              "usage: HttpLoadBench [--seconds N] [--warmup N] [--connections 1,16,64]"
                  + " [--only ceiling,quality,mlp] [--mlp-config YAML] [--client raw|jdk]");
          return;
        }
      }
    }
    new HttpLoadBench(seconds, warmup, connections, only, mlpConfig, rawClient).run();
  }

  private void run() throws Exception {
    System.out.printf(
        Locale.ROOT,
        "JVM %s, %d processors; client (%s) and server share them%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        rawClient ? "raw sockets" : "JDK HttpClient");
    Path repository = Files.createTempDirectory("hangar-bench");
    Path cache = Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"));
    try {
      copySample(repository, "quality_predictor");
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
          }
          for (int count : connections) {
            if (ceiling != null) {
              measure("ceiling (bare Javalin, constant)", count, ceiling, json, null);
            }
            if (only.contains("quality")) {
              measure("quality_predictor JSON", count, infer, json, null);
              measure("quality_predictor binary", count, infer, binary.body, binary.headerLength);
            }
          }
        } finally {
          if (bare != null) {
            bare.stop();
          }
        }
        if (mlp != null) {
          // raw throughput drifts on a shared machine: measured before and after, the mean used
          double rawBefore = rawBatchThroughput(mlp, cache);
          int count = connections[connections.length - 1];
          Binary row = mlpBinary();
          List<double[]> served = new ArrayList<>();
          for (String model : List.of("mlp", "mlp_delay")) {
            double rate =
                measure(
                    model + " binary (1 row/request)",
                    count,
                    server.uri().resolve("/v2/models/" + model + "/infer"),
                    row.body,
                    row.headerLength);
            double batch =
                manager
                    .statistics(new ModelVersionKey(model, 1))
                    .map(s -> s.snapshot().averageBatchSize())
                    .orElse(Double.NaN);
            served.add(new double[] {rate, batch});
          }
          double rawAfter = rawBatchThroughput(mlp, cache);
          double raw = (rawBefore + rawAfter) / 2;
          report(
              String.format(
                  Locale.ROOT,
                  "%-34s %10.0f samples/s (before %.0f, after %.0f)",
                  "mlp raw ORT batch 64",
                  raw,
                  rawBefore,
                  rawAfter));
          String[] labels = {"default config", "max_queue_delay 12ms"};
          for (int k = 0; k < served.size(); k++) {
            report(
                String.format(
                    Locale.ROOT,
                    "mlp over HTTP (%s) / raw batch-64: %.2fx, average batch %.1f (target >= 0.7x)",
                    labels[k],
                    served.get(k)[0] / raw,
                    served.get(k)[1]));
          }
        }
      } finally {
        server.close();
        manager.close();
        injector.getInstance(BackendRegistry.class).close();
        injector.getInstance(CoreExecutors.class).close();
      }
    } finally {
      try (Stream<Path> files = Files.walk(repository)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
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
              config.routes.post(
                  "/v2/models/{model}/infer",
                  context -> {
                    context.bodyAsBytes();
                    context.contentType("application/json").result(constant);
                  });
            })
        .start("127.0.0.1", 0);
  }

  /** Gives the JIT a run at a server before anything is measured; prints but does not report. */
  private void warmUp(URI uri, byte[] body, Integer headerLength) throws Exception {
    measure("(JIT warm-up, not reported)", 16, uri, body, headerLength);
    report.remove(report.size() - 1);
  }

  /** Runs {@code count} closed-loop clients; returns requests per second. */
  private double measure(String name, int count, URI uri, byte[] body, Integer headerLength)
      throws Exception {
    String contentType = headerLength != null ? "application/octet-stream" : "application/json";
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
    Exchange jdk = () -> client.send(request, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
    ExecutorService clients = Executors.newFixedThreadPool(count);
    AtomicBoolean recording = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder completed = new LongAdder();
    LongAdder failed = new LongAdder();
    List<Histogram> histograms = new ArrayList<>();
    List<Future<?>> loops = new ArrayList<>();
    CountDownLatch started = new CountDownLatch(count);
    for (int i = 0; i < count; i++) {
      Histogram histogram = new Histogram(60_000_000_000L, 3);
      histograms.add(histogram);
      loops.add(
          clients.submit(
              () -> {
                RawHttpConnection connection =
                    rawClient ? RawHttpConnection.open(uri, body, contentType, headerLength) : null;
                Exchange exchange = rawClient ? connection::exchange : jdk;
                started.countDown();
                while (!stop.get()) {
                  long start = System.nanoTime();
                  try {
                    if (exchange.send() != 200) {
                      failed.increment();
                      continue;
                    }
                  } catch (IOException e) {
                    failed.increment();
                    if (rawClient) {
                      throw e; // a broken raw connection stays broken
                    }
                    continue;
                  } catch (InterruptedException e) {
                    return null;
                  }
                  if (recording.get()) {
                    histogram.recordValue(System.nanoTime() - start);
                    completed.increment();
                  }
                }
                if (connection != null) {
                  connection.close();
                }
                return null;
              }));
    }
    started.await();
    Thread.sleep(warmup * 1000L); // a benchmark's warmup period: time is the quantity measured
    long begin = System.nanoTime();
    recording.set(true);
    Thread.sleep(seconds * 1000L);
    recording.set(false);
    double elapsed = (System.nanoTime() - begin) / 1e9;
    stop.set(true);
    for (Future<?> loop : loops) {
      loop.get();
    }
    clients.shutdown();
    clientThreads.shutdown();
    Histogram all = new Histogram(60_000_000_000L, 3);
    histograms.forEach(all::add);
    double rate = completed.sum() / elapsed;
    String line =
        String.format(
            Locale.ROOT,
            "%-34s %3d conn %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms%s",
            name,
            count,
            rate,
            all.getValueAtPercentile(50) / 1e6,
            all.getValueAtPercentile(99) / 1e6,
            failed.sum() > 0 ? "  (" + failed.sum() + " failed)" : "");
    report(line);
    return rate;
  }

  private double rawBatchThroughput(Path file, Path cache) {
    try (Backend backend = new OnnxBackendProvider().create(new BackendContext(cache));
        LoadedModel model = backend.load(ModelSource.of("mlp", 1, file))) {
      float[] values = new float[64 * MLP_IN];
      fill(new Random(7), values);
      Tensor batch = Tensor.ofFloats("x", new long[] {64, MLP_IN}, values);
      long until = System.nanoTime() + warmup * 1_000_000_000L;
      while (System.nanoTime() < until) {
        model.infer(List.of(batch));
      }
      long runs = 0;
      long begin = System.nanoTime();
      long end = begin + seconds * 1_000_000_000L;
      while (System.nanoTime() < end) {
        model.infer(List.of(batch));
        runs++;
      }
      return runs * 64 / ((System.nanoTime() - begin) / 1e9);
    }
  }

  private record Binary(byte[] body, int headerLength) {}

  /** One request sent and its answer read; returns the status code. */
  @FunctionalInterface
  private interface Exchange {
    int send() throws IOException, InterruptedException;
  }

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

  private void report(String line) {
    report.add(line);
    System.out.println(line);
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
    // the same file served again with a queue delay: when the callers of one batch cannot send
    // their next requests before the next batch starts, 64 clients settle into two groups that
    // take turns and batches halve; the delay lets the groups merge
    Path delayed = Files.createDirectories(repository.resolve("mlp_delay").resolve("1"));
    Files.copy(file, delayed.resolve("model.onnx"));
    Files.writeString(
        repository.resolve("mlp_delay").resolve("config.yaml"),
        mlpConfig + "dynamic_batching: {max_queue_delay: 12ms}\n");
    System.out.printf(Locale.ROOT, "mlp: %d MB of weights%n", Files.size(file) >> 20);
    return file;
  }

  private static void copySample(Path repository, String model) throws IOException {
    Path source = Path.of(System.getProperty("hangar.models.dir", "../models")).resolve(model);
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path target = repository.resolve(model).resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    }
  }
}
