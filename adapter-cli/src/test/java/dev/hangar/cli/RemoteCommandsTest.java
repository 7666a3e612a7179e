package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hangar infer} and {@code hangar models} against a running server (the HTTP adapter in this
 * JVM on an ephemeral port, over a repository of two sample models), and their progress output.
 */
class RemoteCommandsTest {
  @TempDir static Path repository;

  private static RunningServer server;

  @BeforeAll
  static void startServer() throws IOException {
    for (String model : new String[] {"quality_predictor", "routing_classifier"}) {
      Path source = Path.of(OneShotCommandsTest.MODELS, model);
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
    server = RunningServer.start(repository);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Test
  void inferOverHttpPrintsWhatInProcessPrints() {
    CliRunner.Result local =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            BenchCommandTest.ROW,
            "--repo",
            repository.toString(),
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(local.exitCode()).as(local.err()).isZero();
    for (String protocol : new String[] {"json", "binary"}) {
      CliRunner.Result remote =
          CliRunner.run(
              "infer",
              "quality_predictor",
              "--input",
              BenchCommandTest.ROW,
              "--url",
              server.url(),
              "--protocol",
              protocol);
      assertThat(remote.exitCode()).as(remote.err()).isZero();
      assertThat(remote.out()).as(protocol).isEqualTo(local.out());
    }
    CliRunner.Result wrongShape =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            "{\"features\": [[1, 2]]}",
            "--url",
            server.url());
    // inputs the model does not take are a usage error, in process and remotely
    assertThat(wrongShape.exitCode()).isEqualTo(2);
    assertThat(wrongShape.err().strip().lines().toList()).hasSize(1);
    assertThat(wrongShape.err())
        .contains("input 'features' has shape [1, 2] but the model expects [-1, 10]")
        .contains("HTTP 400");
  }

  @Test
  void aServerThatIsNotAV2ServerIsSaidToBeNone() throws IOException {
    // a web server's own 404, without a v2 {"error": ...}
    com.sun.net.httpserver.HttpServer other =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    other.createContext(
        "/",
        exchange -> {
          byte[] body = "<html>Not Found</html>".getBytes(java.nio.charset.StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(404, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    other.start();
    try {
      String url = "http://127.0.0.1:" + other.getAddress().getPort();
      CliRunner.Result result = CliRunner.run("models", "--url", url);

      assertThat(result.exitCode()).isEqualTo(1);
      assertThat(result.err().strip())
          .isEqualTo(
              "error: "
                  + url
                  + " does not look like a Hangar or KServe v2 server: POST /v2/repository/index"
                  + " answered HTTP 404 without a v2 error; check --url");
    } finally {
      other.stop(0);
    }
  }

  @Test
  void modelsOverHttpShowsFormatStateMemoryAndLoadsWithPlainProgress() {
    CliRunner.Result loaded =
        CliRunner.run("models", "--url", server.url(), "--load", "--progress", "auto");
    assertThat(loaded.exitCode()).as(loaded.err()).isZero();
    assertThat(loaded.err())
        .containsPattern("(?m)^loaded 1/2: quality_predictor in \\d+ ms$")
        .containsPattern("(?m)^loaded 2/2: routing_classifier in \\d+ ms$");
    assertThat(BenchCommandTest.CONTROL.matcher(loaded.err()).find()).isFalse();
    assertThat(loaded.out())
        .containsPattern("MODEL +VERSION +FORMAT +STATE +MEMORY +LAST USE +PINNED +DETAIL")
        .containsPattern("(?m)^quality_predictor +1\\* +onnx +READY +\\d")
        .containsPattern("(?m)^routing_classifier +1\\* +onnx +READY +\\d");
  }

  @Test
  void modelsLoadInProcessShowsProgressToo() {
    CliRunner.Result result =
        CliRunner.run(
            "models",
            "--load",
            "--repo",
            repository.toString(),
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.err()).contains("loaded 1/2: quality_predictor in ");
    assertThat(BenchCommandTest.CONTROL.matcher(result.err()).find()).isFalse();
    assertThat(result.out()).containsPattern("(?m)^routing_classifier +1\\* +onnx +READY ");
  }
}
