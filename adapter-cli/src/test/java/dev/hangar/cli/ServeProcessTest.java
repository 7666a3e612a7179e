package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code hangar serve} in a child JVM: it serves, and SIGTERM drains, unloads and exits 0. */
class ServeProcessTest {

  @Test
  void anEmptyRepositoryIsServedWithAWarning(@org.junit.jupiter.api.io.TempDir Path empty)
      throws Exception {
    Process process = serve(empty.toString());
    ServeOutput output = ServeOutput.of(process);
    try {
      output.awaitUrl();
      assertThat(output.lines())
          .anyMatch(
              line ->
                  line.contains("WARN ServeCommand - the repository " + empty + " holds no models")
                      && line.contains("(name/1/model.onnx)"));
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  /** Starts {@code hangar serve} in a child JVM on {@code repository}, with {@code options}. */
  private static Process serve(String repository, String... options) throws java.io.IOException {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.hangar.cli.Main",
                "serve",
                "--repo",
                repository,
                "--cache-dir",
                OneShotCommandsTest.CACHE));
    if (!List.of(options).contains("--port")) {
      command.addAll(List.of("--port", "0"));
    }
    command.addAll(List.of(options));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  @Test
  void servesTheRepositoryAndExitsZeroOnSigterm() throws Exception {
    Process process = serve(OneShotCommandsTest.MODELS);
    ServeOutput output = ServeOutput.of(process);
    try {
      URI base = URI.create(output.awaitUrl());
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> ready =
          client.send(
              HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(200);
      HttpResponse<String> infer =
          client.send(
              HttpRequest.newBuilder(base.resolve("/v2/models/quality_predictor/infer"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
                              + " \"data\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(infer.statusCode()).as(infer.body()).isEqualTo(200);
      assertThat(infer.body()).contains("\"model_name\":\"quality_predictor\"");

      // SIGTERM; through the handle, which (unlike Process.destroy) leaves the output open to read
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
      List<String> lines = output.awaitEnd();
      assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
      assertThat(lines)
          .anyMatch(line -> line.contains("shutting down: draining requests in flight"))
          .anyMatch(line -> line.contains("quality_predictor version 1: UNLOADING -> UNLOADED"))
          .anyMatch(line -> line.contains("Hangar stopped"));
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void aServerWhoseStartUpModelsCannotLoadSaysItIsNotReady(
      @org.junit.jupiter.api.io.TempDir Path root) throws Exception {
    // a start-up model whose file is no model
    Path version = java.nio.file.Files.createDirectories(root.resolve("broken/1"));
    java.nio.file.Files.writeString(version.resolve("model.onnx"), "not a model");
    java.nio.file.Files.writeString(root.resolve("broken/config.yaml"), "load_at_startup: true\n");
    Process process = serve(root.toString());
    ServeOutput output = ServeOutput.of(process);
    try {
      URI base = URI.create(output.awaitUrl());
      HttpResponse<String> ready =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(output.lines())
          .noneMatch(line -> line.contains("Hangar is ready"))
          .anyMatch(
              line ->
                  line.contains("WARN ServeCommand - Hangar is serving at " + base)
                      && line.contains("but is not ready: broken (FAILED: ")
                      && line.contains("/v2/health/ready answers 503 until they load"));
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
      assertThat(process.exitValue()).as(String.join("\n", output.awaitEnd())).isZero();
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void aBudgetTheServerAloneFillsIsAUsageErrorBeforeAnyModelLoads() {
    // it served nothing, with a warning: every model was refused
    CliRunner.Result result =
        CliRunner.run("serve", "--repo", "../models", "--memory", "1KB", "--port", "0");

    assertThat(result.exitCode()).as(result.err()).isEqualTo(2);
    assertThat(result.err().strip())
        .matches(
            "error: the server alone holds [0-9.]+MB of the 1\\.0KB memory budget \\(--memory\\):"
                + " raise it .*");
  }

  @Test
  void aHostThatIsNotThisMachinesIsAUsageErrorFoundBeforeAnyModelLoads() {
    CliRunner.Result unresolvable =
        CliRunner.run("serve", "--repo", "../models", "--host", "999.1.1.1", "--port", "0");
    CliRunner.Result elsewhere =
        CliRunner.run("serve", "--repo", "../models", "--host", "192.0.2.1", "--port", "0");

    assertThat(unresolvable.exitCode()).as(unresolvable.err()).isEqualTo(2);
    assertThat(unresolvable.err())
        .contains(
            "error: cannot listen on 999.1.1.1:0: '999.1.1.1' is neither an address nor a host"
                + " name this machine can resolve");
    assertThat(elsewhere.exitCode()).as(elsewhere.err()).isEqualTo(2);
    assertThat(elsewhere.err())
        .contains(
            "error: cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine");
  }

  @Test
  void onEveryAddressTheReadyLineSaysSoAndTheLoadEndpointsAreSaidToBeOff(
      @org.junit.jupiter.api.io.TempDir Path empty) throws Exception {
    Process process = serve(empty.toString(), "--host", "0.0.0.0");
    ServeOutput output = ServeOutput.of(process);
    try {
      String url = output.awaitUrl();
      assertThat(url).matches("http://0\\.0\\.0\\.0:[0-9]+");
      assertThat(output.lines())
          .anyMatch(
              line ->
                  line.contains("Hangar is ready at " + url + " (every address of this machine;"))
          .anyMatch(
              line ->
                  line.contains(
                      "INFO ServeCommand - the repository's load and unload endpoints are off"
                          + " (they answer 403): the server listens beyond loopback, on 0.0.0.0,"
                          + " and no admin token is set; set --admin-token"));
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void optionValuesOutOfRangeAreUsageErrorsNamingTheOption() {
    CliRunner.Result threads = CliRunner.run("serve", "--repo", "../models", "--http-threads", "5");
    CliRunner.Result idle = CliRunner.run("serve", "--repo", "../models", "--idle-timeout", "0s");
    CliRunner.Result port = CliRunner.run("serve", "--repo", "../models", "--port", "70000");
    CliRunner.Result header =
        CliRunner.run("serve", "--repo", "../models", "--header-timeout", "0s");
    CliRunner.Result connections =
        CliRunner.run("serve", "--repo", "../models", "--max-connections", "0");
    CliRunner.Result bodies = CliRunner.run("serve", "--repo", "../models", "--body-memory", "0");
    CliRunner.Result pastTheHeap =
        CliRunner.run("serve", "--repo", "../models", "--body-memory", "100GB");
    CliRunner.Result rate =
        CliRunner.run("serve", "--repo", "../models", "--min-body-rate", "-1KB");
    CliRunner.Result poll = CliRunner.run("serve", "--repo", "../models", "--poll", "0s");
    CliRunner.Result busyPoll = CliRunner.run("serve", "--repo", "../models", "--poll", "1ms");
    CliRunner.Result spinningHeader =
        CliRunner.run("serve", "--repo", "../models", "--header-timeout", "1ns");
    CliRunner.Result blankToken =
        CliRunner.run("serve", "--repo", "../models", "--admin-token", "");
    CliRunner.Result spacedToken =
        CliRunner.run("serve", "--repo", "../models", "--admin-token", "s3cret ");
    CliRunner.Result wideToken =
        CliRunner.run("serve", "--repo", "../models", "--admin-token", "s3cr\u00e9t");

    assertThat(threads.exitCode()).isEqualTo(2);
    assertThat(threads.err())
        .contains("the request thread count (--http-threads) must be from 8 to 10000, got 5");
    assertThat(idle.exitCode()).isEqualTo(2);
    assertThat(idle.err())
        .contains("the idle timeout (--idle-timeout) must be at least 100ms, got 0s");
    assertThat(port.exitCode()).isEqualTo(2);
    assertThat(port.err()).contains("the port (--port) must be from 0 to 65535, got 70000");
    assertThat(bodies.exitCode()).isEqualTo(2);
    assertThat(bodies.err())
        .contains("the memory for request bodies (--body-memory) must be at least 1 byte");
    assertThat(pastTheHeap.exitCode()).isEqualTo(2);
    assertThat(pastTheHeap.err())
        .contains("and the memory for request bodies (--body-memory, 100.0GB) together pass three")
        .contains("lower them, or give the heap more (a larger --memory, or HANGAR_HEAP)");
    assertThat(connections.exitCode()).isEqualTo(2);
    assertThat(connections.err())
        .contains("the connection limit (--max-connections) must be at least 1, got 0");
    assertThat(rate.exitCode()).isEqualTo(2);
    assertThat(rate.err()).contains("--min-body-rate").contains("'-1KB' is not a size");
    assertThat(poll.exitCode()).isEqualTo(2);
    assertThat(poll.err())
        .contains("the poll interval (--poll, poll_interval) must be at least 100ms, got 0s");
    assertThat(busyPoll.exitCode()).isEqualTo(2);
    assertThat(busyPoll.err()).contains("must be at least 100ms, got 1ms");
    assertThat(blankToken.exitCode()).isEqualTo(2);
    assertThat(blankToken.err())
        .contains(
            "the admin token (--admin-token or HANGAR_ADMIN_TOKEN) is blank; set one, or leave"
                + " both unset");
    assertThat(spacedToken.exitCode()).isEqualTo(2);
    assertThat(spacedToken.err())
        .contains("begins or ends with a space, which no Authorization header can carry")
        .doesNotContain("s3cret");
    assertThat(wideToken.exitCode()).isEqualTo(2);
    assertThat(wideToken.err())
        .contains("holds a character an HTTP header cannot carry as it is")
        .doesNotContain("s3cr");
    assertThat(header.exitCode()).isEqualTo(2);
    assertThat(header.err())
        .contains("the header timeout (--header-timeout) must be at least 100ms, got 0s");
    assertThat(spinningHeader.exitCode()).isEqualTo(2);
    assertThat(spinningHeader.err()).contains("--header-timeout").contains("got 1ns");
  }

  @Test
  void aPortInUseIsARuntimeErrorOfOneLineNamingIt() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      CliRunner.Result result =
          CliRunner.run("serve", "--repo", "../models", "--port", Integer.toString(port));

      assertThat(result.exitCode()).isEqualTo(1);
      assertThat(result.err())
          .contains(
              "error: cannot listen on 127.0.0.1:"
                  + port
                  + ": another process is listening on port "
                  + port
                  + " there; stop it, or choose another port (--port)")
          .doesNotContain("JavalinBindException")
          .doesNotContain("Port already in use");
    }
  }

  /**
   * A repository whose one start-up model warms up for minutes: 1000 runs at batch sizes 1 and
   * 200000.
   */
  private static Path slowWarmupRepository(Path root) throws java.io.IOException {
    Path version = java.nio.file.Files.createDirectories(root.resolve("slow/1"));
    java.nio.file.Files.copy(
        Path.of(OneShotCommandsTest.MODELS, "quality_predictor/1/model.onnx"),
        version.resolve("model.onnx"));
    java.nio.file.Files.writeString(
        root.resolve("slow/config.yaml"),
        "max_batch_size: 200000\nload_at_startup: true\nwarmup: {iterations: 1000}\n");
    return root;
  }

  @Test
  void sigtermDuringAStartUpWarmupStopsItAndExitsZero(@org.junit.jupiter.api.io.TempDir Path root)
      throws Exception {
    Process process = serve(slowWarmupRepository(root).toString());
    ServeOutput output = ServeOutput.of(process);
    try {
      output.awaitLine("model slow version 1: LOADING -> WARMING");

      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
      List<String> lines = output.awaitEnd();
      assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
      assertThat(lines)
          .anyMatch(
              line ->
                  line.contains(
                      "model slow version 1: WARMING -> AVAILABLE (not loaded: the server is"
                          + " shutting down: warmup stopped after "))
          .anyMatch(line -> line.contains("Hangar stopped"))
          .noneMatch(line -> line.contains("Hangar is ready"));
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void aPortInUseFailsBeforeAnyModelLoads(@org.junit.jupiter.api.io.TempDir Path root)
      throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String port = Integer.toString(taken.getLocalPort());
      Process process = serve(slowWarmupRepository(root).toString(), "--port", port);
      ServeOutput output = ServeOutput.of(process);
      try {
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
        List<String> lines = output.awaitEnd();
        assertThat(process.exitValue()).as(String.join("\n", lines)).isEqualTo(1);
        assertThat(lines)
            .anyMatch(line -> line.startsWith("error: cannot listen on 127.0.0.1:" + port))
            .noneMatch(line -> line.contains("LOADING"))
            .noneMatch(line -> line.contains("memory budget"))
            .noneMatch(line -> line.contains("Failed to start Javalin"));
      } finally {
        process.destroyForcibly();
      }
    }
  }

  @Test
  void serveHelpNamesEveryOption() {
    CliRunner.Result result = CliRunner.run("serve", "--help");
    assertThat(result.exitCode()).isZero();
    assertThat(result.out())
        .contains("--repo")
        .contains("--host")
        .contains("--port")
        .contains("--memory")
        .contains("--poll")
        .contains("--admin-token")
        .contains("--max-body")
        .contains("--drain-timeout")
        .contains("--idle-timeout")
        .contains("--header-timeout")
        .contains("--max-connections")
        .contains("--body-memory")
        .contains("--min-body-rate")
        .contains("--http-threads");
    // polling is off unless asked for; the README listed "--poll 5s" among the defaults
    assertThat(result.out().replaceAll("\\s+", " "))
        .contains("(default: off, unless poll_interval in --config;");
  }
}
