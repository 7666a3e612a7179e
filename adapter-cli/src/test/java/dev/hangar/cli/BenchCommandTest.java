package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hangar bench} in process and against a real server (the HTTP adapter in this JVM, on an
 * ephemeral port), with short bounded runs.
 */
class BenchCommandTest {
  /** Any control character but the newline: what plain (non-terminal) output must not hold. */
  static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}&&[^\\n]]");

  static final String[] SHORT = {"--warmup", "100ms", "--window", "200ms", "--max-windows", "2"};
  static final String ROW = "{\"features\": [[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]]}";

  private static RunningServer server;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temporary;

  @BeforeAll
  static void startServer() {
    server = RunningServer.start(Path.of(OneShotCommandsTest.MODELS));
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  static CliRunner.Result bench(String... args) {
    List<String> all = new ArrayList<>(List.of("bench"));
    all.addAll(List.of(args));
    all.addAll(List.of(SHORT));
    return CliRunner.run(all.toArray(String[]::new));
  }

  static CliRunner.Result benchInProcess(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of("--repo", OneShotCommandsTest.MODELS, "--cache-dir", OneShotCommandsTest.CACHE));
    return bench(all.toArray(String[]::new));
  }

  @Test
  void inProcessPrintsTheTableAndWritesJsonCsvAndASelfContainedPage() throws IOException {
    Path json = temporary.resolve("out/bench.json");
    Path csv = temporary.resolve("bench.csv");
    Path html = temporary.resolve("bench.html");
    CliRunner.Result result =
        benchInProcess(
            "quality_predictor",
            "--concurrency",
            "1,4",
            "--json",
            json.toString(),
            "--csv",
            csv.toString(),
            "--report",
            html.toString());

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("quality_predictor version 1, in process, batch 1, 16 synthesized input sets")
        .contains("client and server share this machine's")
        .containsPattern("concurrency +infer/s +p50 ms +p90 ms +p95 ms +p99 ms +avg batch +errors")
        .containsPattern("(?m)^ +1 +\\d+\\.\\d +\\d+\\.\\d{3} ")
        .containsPattern("(?m)^ +4 +\\d+\\.\\d ");
    // not a terminal: plain progress lines on stderr, no control characters anywhere
    assertThat(result.err())
        .contains("concurrency 1: warming up")
        .contains("concurrency 4: ")
        .contains("wrote " + json);
    assertThat(CONTROL.matcher(result.out()).find()).as("control characters in stdout").isFalse();
    assertThat(CONTROL.matcher(result.err()).find()).as("control characters in stderr").isFalse();

    JsonNode report = JSON.readTree(json.toFile());
    assertThat(report.get("model").asText()).isEqualTo("quality_predictor");
    assertThat(report.get("protocol").asText()).isEqualTo("in-process");
    assertThat(report.get("results")).hasSize(2);
    for (JsonNode level : report.get("results")) {
      assertThat(level.get("throughput_infer_per_sec").asDouble()).isPositive();
      assertThat(level.get("latency_ms").get("p50").asDouble()).isPositive();
      assertThat(level.get("latency_ms").get("p99").asDouble())
          .isGreaterThanOrEqualTo(level.get("latency_ms").get("p50").asDouble());
      assertThat(level.get("average_batch_size").asDouble()).isGreaterThanOrEqualTo(1);
      assertThat(level.get("errors")).isEmpty();
      assertThat(level.get("windows").asInt()).isEqualTo(2);
    }
    assertThat(report.get("results").get(1).get("concurrency").asInt()).isEqualTo(4);

    List<String> rows = Files.readAllLines(csv);
    assertThat(rows).hasSize(3);
    assertThat(rows.get(0)).startsWith("mode,level,throughput_infer_per_sec,requests_per_sec");
    assertThat(rows.get(2)).startsWith("concurrency,4,");

    String page = Files.readString(html);
    assertThat(page)
        .startsWith("<!DOCTYPE html>")
        .contains("<svg")
        .contains("throughput (infer/s)")
        .contains("latency (ms)")
        .contains(">p50<")
        .contains(">p99<")
        .contains("<table>")
        .contains("<th>concurrency</th>");
    // self-contained: no script, stylesheet, image or anything else fetched from elsewhere
    assertThat(page).doesNotContain("<script", "<link", "<img", "src=", "href=", "url(", "@import");
    assertThat(page.split("<circle", -1)).hasSize(5);
  }

  @Test
  void overHttpInJsonAndBinaryWithTheServersBatchStatistics() throws IOException {
    for (String protocol : List.of("json", "binary")) {
      Path json = temporary.resolve(protocol + ".json");
      CliRunner.Result result =
          bench(
              "routing_classifier",
              "--url",
              server.url(),
              "--protocol",
              protocol,
              "--concurrency",
              "1,4",
              "--json",
              json.toString());
      assertThat(result.exitCode()).as(result.err()).isZero();
      assertThat(result.out())
          .contains("routing_classifier version 1, " + server.url() + " (" + protocol + ")");
      JsonNode report = JSON.readTree(json.toFile());
      assertThat(report.get("target").asText()).isEqualTo(server.url());
      assertThat(report.get("protocol").asText()).isEqualTo(protocol);
      for (JsonNode level : report.get("results")) {
        assertThat(level.get("errors")).as(protocol).isEmpty();
        assertThat(level.get("requests").asLong()).isPositive();
        assertThat(level.get("average_batch_size").asDouble()).isGreaterThanOrEqualTo(1);
      }
      assertThat(CONTROL.matcher(result.err()).find()).isFalse();
    }
  }

  @Test
  void aServerThatGoesAwayDuringTheRunIsAFailureAfterTheTable() throws Exception {
    RunningServer leaving = RunningServer.start(Path.of(OneShotCommandsTest.MODELS));
    java.util.concurrent.CompletableFuture<CliRunner.Result> run;
    try {
      leaving
          .hangar()
          .manager()
          .load("routing_classifier", dev.hangar.core.config.LoadPriority.NORMAL)
          .join();
      String url = leaving.url();
      run =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () ->
                  CliRunner.run(
                      "bench",
                      "routing_classifier",
                      "--url",
                      url,
                      "--concurrency",
                      // levels enough to outlast the wait below however slow the machine
                      "1,2,3,4,5,6,7,8,9,10,11,12",
                      "--warmup",
                      "100ms",
                      "--window",
                      "200ms",
                      "--max-windows",
                      "2"));
      // the first level is measured against the server: it has answered a few (a sleep was too
      // short on a loaded machine, where the run had not begun when the server went)
      dev.hangar.core.model.ModelVersionKey key =
          new dev.hangar.core.model.ModelVersionKey("routing_classifier", 1);
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      while (leaving.hangar().manager().statistics(key).orElseThrow().snapshot().successes() < 20
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      Thread.sleep(700); // into the first level's measurement windows
    } finally {
      leaving.close();
    }
    CliRunner.Result result = run.get(120, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
    assertThat(result.out()).contains("connection_refused");
    assertThat(result.err())
        .contains("measured requests could not reach the server, which went away during the run");
  }

  @Test
  void rateModeReportsTheSenderAndLatencyFromTheSchedule() throws IOException {
    Path json = temporary.resolve("rate.json");
    CliRunner.Result result =
        bench(
            "quality_predictor",
            "--url",
            server.url(),
            "--rate",
            "100,200",
            "--distribution",
            "poisson",
            "--json",
            json.toString());
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out())
        .contains("open loop, poisson arrivals, latency from the intended send time")
        .containsPattern("rate/s +infer/s .* sender");
    JsonNode report = JSON.readTree(json.toFile());
    assertThat(report.get("mode").asText()).isEqualTo("rate");
    assertThat(report.get("results").get(0).get("rate").asInt()).isEqualTo(100);
    JsonNode sender = report.get("results").get(1).get("sender");
    assertThat(sender.get("kept_up").isBoolean()).isTrue();
    assertThat(sender.get("send_delay_p99_ms").asDouble()).isGreaterThanOrEqualTo(0);
    long requests = report.get("results").get(1).get("requests").asLong();
    if (sender.get("kept_up").asBoolean()) {
      // an open loop at 200/s over 2 windows of 200ms offers about 80 requests
      assertThat(requests).isBetween(30L, 130L);
    } else {
      // a machine too busy for the schedule (seen under a load average of 27): the report says
      // so, and the count is what it could send
      assertThat(requests).isPositive();
      assertThat(result.out()).containsPattern("behind by \\d+ ms|limit hit");
    }
  }

  @Test
  void expectedOutputsAreCheckedAndMismatchesCountedAsErrors() throws IOException {
    Path request = temporary.resolve("request.json");
    Files.writeString(request, ROW);
    CliRunner.Result infer =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            "@" + request,
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(infer.exitCode()).as(infer.err()).isZero();
    Path expected = temporary.resolve("expected.json");
    Files.writeString(expected, infer.out());

    CliRunner.Result matching =
        benchInProcess(
            "quality_predictor",
            "--input-data",
            request.toString(),
            "--batch",
            "3",
            "--expect",
            expected.toString());
    assertThat(matching.exitCode()).as(matching.err()).isZero();
    assertThat(matching.out()).contains("batch 3, inputs from " + request);
    assertThat(matching.out()).doesNotContain("mismatch");

    CliRunner.Result binary =
        bench(
            "quality_predictor",
            "--url",
            server.url(),
            "--protocol",
            "binary",
            "--input-data",
            request.toString(),
            "--expect",
            expected.toString());
    assertThat(binary.exitCode()).as(binary.err()).isZero();

    Path wrong = temporary.resolve("wrong.json");
    Files.writeString(wrong, "{\"ssim\": [[123.0]]}");
    // windows of a second: 200ms ones measured no response at all on a machine loaded 13 times over
    CliRunner.Result mismatching =
        CliRunner.run(
            "bench",
            "quality_predictor",
            "--input-data",
            request.toString(),
            "--expect",
            wrong.toString(),
            "--tolerance",
            "0.001",
            "--warmup",
            "100ms",
            "--window",
            "1s",
            "--max-windows",
            "2",
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(mismatching.exitCode()).isEqualTo(1);
    assertThat(mismatching.out()).containsPattern("\\d+ \\(mismatch \\d+\\)");
    assertThat(mismatching.err())
        .contains("warning: the first response differs from --expect: output 'ssim' element 0 is")
        .containsPattern(
            "(?m)^error: \\d+ measured responses differed from --expect; the first: output 'ssim'"
                + " element 0 is [0-9.]+, expected 123 \\(tolerance 0.001\\)$");
  }

  @Test
  void outputFilesAreCheckedBeforeAnythingIsMeasured() throws IOException {
    Path request = temporary.resolve("request.json");
    Files.writeString(request, "{\"features\": [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}");
    Path aFile = temporary.resolve("a-file");
    Files.writeString(aFile, "");
    Path out = temporary.resolve("out.json");
    // a repository of its own: were the check to fail, the run would overwrite its model
    Path models = Files.createDirectories(temporary.resolve("repo/quality_predictor/1"));
    Files.copy(
        Path.of(OneShotCommandsTest.MODELS, "quality_predictor/1/model.onnx"),
        models.resolve("model.onnx"));
    models = temporary.resolve("repo").toAbsolutePath().normalize();
    Map<List<String>, String> refusals =
        Map.of(
            List.of("--json", out.toString(), "--csv", out.toString()),
            "--csv " + out + " is the file --json names too; give each its own",
            List.of("--input-data", request.toString(), "--json", request.toString()),
            "--json " + request + " is the file --input-data names too; give each its own",
            List.of("--report", models.resolve("quality_predictor/1/model.onnx").toString()),
            "--report "
                + models.resolve("quality_predictor/1/model.onnx")
                + " is inside the model repository "
                + models
                + "; write it elsewhere",
            List.of("--csv", temporary.toString()),
            "--csv " + temporary + " is a directory; name a file",
            List.of("--json", aFile.resolve("out.json").toString()),
            "--json "
                + aFile.resolve("out.json")
                + " cannot be written: "
                + aFile
                + " is in the way (a file where a directory is needed)");
    String repository = models.toString();
    refusals.forEach(
        (options, error) -> {
          List<String> args = new ArrayList<>(List.of("quality_predictor", "--concurrency", "1"));
          args.addAll(options);
          args.addAll(List.of("--repo", repository, "--cache-dir", OneShotCommandsTest.CACHE));
          CliRunner.Result result = bench(args.toArray(String[]::new));
          assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
          assertThat(result.err()).startsWith("error: " + error + "\n");
          assertThat(result.out()).as("nothing measured").isEmpty();
        });
    // /proc's permission bits say writable to root, but no file can be created there: it was
    // found only after the whole run
    CliRunner.Result proc =
        bench(
            "quality_predictor",
            "--concurrency",
            "1",
            "--json",
            "/proc/x.json",
            "--repo",
            repository,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(proc.exitCode()).as(proc.err()).isEqualTo(2);
    assertThat(proc.err()).startsWith("error: --json /proc/x.json cannot be written: ");
    assertThat(proc.out()).as("nothing measured").isEmpty();
    assertThat(Files.readString(request)).startsWith("{\"features\"");
    assertThat(models.resolve("quality_predictor/1/model.onnx"))
        .hasSameBinaryContentAs(
            Path.of(OneShotCommandsTest.MODELS, "quality_predictor/1/model.onnx"));
  }

  @Test
  void usageErrorsExitWithTwo() {
    assertThat(benchInProcess("quality_predictor", "--concurrency", "1", "--rate", "5"))
        .satisfies(
            result -> {
              assertThat(result.exitCode()).isEqualTo(2);
              assertThat(result.err()).contains("--concurrency and --rate exclude each other");
            });
    assertThat(benchInProcess("quality_predictor", "--protocol", "binary").exitCode()).isEqualTo(2);
    assertThat(benchInProcess("quality_predictor", "--stability", "lots").exitCode()).isEqualTo(2);
    assertThat(benchInProcess("quality_predictor", "--concurrency", "0").exitCode()).isEqualTo(2);
    assertThat(benchInProcess("quality_predictor", "--shape", "pixels=3").exitCode()).isEqualTo(2);
    CliRunner.Result huge = benchInProcess("quality_predictor", "--batch", "100000000");
    assertThat(huge.exitCode()).isEqualTo(2);
    assertThat(huge.err())
        .contains(
            "input 'features' of shape [100000000, 10] would take more than the 2GB one tensor"
                + " can hold; choose a smaller --shape or --batch");
    CliRunner.Result both =
        bench("quality_predictor", "--url", server.url(), "--repo", OneShotCommandsTest.MODELS);
    assertThat(both.exitCode()).isEqualTo(2);
    assertThat(both.err()).contains("--repo applies in process only");
    assertThat(CliRunner.run("bench").exitCode()).isEqualTo(2);
    assertThat(CliRunner.run("bench", "m", "--url", "ftp://host").exitCode()).isEqualTo(2);
    assertThat(CliRunner.run("bench", "m", "--window", "1ms").exitCode()).isEqualTo(2);
    // the duration as it is written, not Java's PT0S
    CliRunner.Result zero =
        CliRunner.run(
            "bench", "quality_predictor", "--window", "0s", "--repo", OneShotCommandsTest.MODELS);
    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.err().strip())
        .isEqualTo("error: a window (--window) must be at least 10ms, got 0s");
  }

  @Test
  void anUnreachableServerIsOneLineNamingTheUrl() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;
    for (String command : List.of("bench", "infer", "models")) {
      List<String> args = new ArrayList<>(List.of(command));
      if (!command.equals("models")) {
        args.add("quality_predictor");
      }
      if (command.equals("infer")) {
        args.addAll(List.of("--input", ROW));
      }
      args.addAll(List.of("--url", url));
      CliRunner.Result result = CliRunner.run(args.toArray(String[]::new));
      assertThat(result.exitCode()).as(command).isEqualTo(1);
      assertThat(result.err().strip().lines().toList())
          .as(command)
          .containsExactly(
              "error: cannot connect to "
                  + url
                  + ": connection refused (is 'hangar serve' running there?)");
    }
  }

  @Test
  void anUnknownModelOnTheServerIsOneLineWithTheServersMessage() {
    CliRunner.Result result = bench("quality_predicter", "--url", server.url());
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err().strip().lines().toList()).hasSize(1);
    assertThat(result.err())
        .contains("unknown model 'quality_predicter'; did you mean 'quality_predictor'?")
        .contains("(HTTP 404 from " + server.url() + "/v2/models/quality_predicter)");
  }
}
