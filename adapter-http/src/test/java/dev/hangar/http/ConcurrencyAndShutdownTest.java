package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.core.config.DataSize;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.testkit.fake.Gate;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many clients at once against loads and unloads, evictions in the metrics, graceful drain. */
class ConcurrencyAndShutdownTest {
  static final String ECHO = LimitsAndSecurityTest.ECHO;

  @TempDir Path repository;

  @Test
  void clientsInferringWhileOthersLoadAndUnloadSeeOnlyDocumentedStatuses() throws Exception {
    for (String name : List.of("a", "b", "c")) {
      Repositories.fake(repository, name, Repositories.MB);
    }
    try (TestServer server = new TestServer(repository)) {
      Map<Integer, AtomicInteger> inferStatuses = new ConcurrentHashMap<>();
      Map<Integer, AtomicInteger> adminStatuses = new ConcurrentHashMap<>();
      ExecutorService threads = Executors.newFixedThreadPool(12);
      List<Future<?>> work = new ArrayList<>();
      for (int client = 0; client < 9; client++) {
        String model = List.of("a", "b", "c").get(client % 3);
        work.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 120; i++) {
                    int status = server.post("/v2/models/" + model + "/infer", ECHO).status();
                    inferStatuses
                        .computeIfAbsent(status, s -> new AtomicInteger())
                        .incrementAndGet();
                  }
                }));
      }
      for (int admin = 0; admin < 3; admin++) {
        String model = List.of("a", "b", "c").get(admin);
        work.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 25; i++) {
                    String action = i % 2 == 0 ? "unload" : "load";
                    int status =
                        server.post("/v2/repository/models/" + model + "/" + action, "").status();
                    adminStatuses
                        .computeIfAbsent(status, s -> new AtomicInteger())
                        .incrementAndGet();
                  }
                }));
      }
      for (Future<?> future : work) {
        future.get(90, TimeUnit.SECONDS);
      }
      threads.shutdown();
      // 200, or 503 with Retry-After while a version is unloading or reloading
      assertThat(inferStatuses.keySet()).isSubsetOf(Set.of(200, 503));
      assertThat(inferStatuses.get(200).get()).isPositive();
      assertThat(adminStatuses.keySet()).containsOnly(200);
      assertThat(server.get("/v2/health/live").status()).isEqualTo(200);
      assertThat(server.post("/v2/models/a/infer", ECHO).status()).isEqualTo(200);
    }
  }

  @Test
  void evictionsShowInTheMetrics() {
    // 100MB baseline in a 250MB budget: 100MB models (estimated at 4MB plus three times their 33MB
    // files), so the second one evicts the first
    Repositories.fakeHolding(repository, "first", 33 * Repositories.MB, 100 * Repositories.MB);
    Repositories.fakeHolding(repository, "second", 33 * Repositories.MB, 100 * Repositories.MB);
    try (TestServer server = new TestServer(repository, DataSize.ofMegabytes(250), http -> http)) {
      // 0 before any eviction: a series that appeared at 1 would hide the first from increase()
      assertThat(
              V2EndpointsTest.value(
                  server.get("/metrics").text(),
                  "hangar_model_evictions_total{model=\"first\",version=\"1\"}"))
          .isEqualTo(0);
      assertThat(server.post("/v2/models/first/infer", ECHO).status()).isEqualTo(200);
      assertThat(server.post("/v2/models/second/infer", ECHO).status()).isEqualTo(200);
      String metrics = server.get("/metrics").text();
      assertThat(
              V2EndpointsTest.value(
                  metrics, "hangar_model_evictions_total{model=\"first\",version=\"1\"}"))
          .isEqualTo(1);
      assertThat(V2EndpointsTest.value(metrics, "hangar_models_loaded")).isEqualTo(1);
      assertThat(
              V2EndpointsTest.value(
                  metrics, "hangar_model_memory_bytes{model=\"second\",version=\"1\"}"))
          .isEqualTo(100 * Repositories.MB);
      assertThat(V2EndpointsTest.value(metrics, "hangar_memory_budget_bytes"))
          .isEqualTo(250 * Repositories.MB);

      // a model gone from the repository takes its series with it, its evictions included
      Repositories.delete(repository.resolve("first"));
      server.manager.refresh().join();
      assertThat(server.get("/metrics").text()).doesNotContain("model=\"first\"");
    }
  }

  @Test
  void aClientThatDoesNotReadALargeAnswerHoldsUpNoOtherRequest() throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    Repositories.config(repository, "wide", "max_batch_size: 0\n");
    try (TestServer server = new TestServer(repository);
        Socket stalled = slowReader(server)) {
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
      Gate gate = server.engine.holdExecutions("wide");
      try {
        CompletableFuture<HttpResponse<String>> first = inferAsync(server, ECHO);
        gate.awaitArrivals(1);
        // queued behind the held execution, so a core worker runs and answers it
        stalled.getOutputStream().write(rawInfer("wide", 400_000));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (server.manager.status("wide").get(0).activeRequests() < 2
            && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        assertThat(server.manager.status("wide").get(0).activeRequests()).isEqualTo(2);
        gate.open();
        assertThat(first.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);

        // the large answer (megabytes of JSON) now waits on a client that never reads
        HttpResponse<String> later = inferAsync(server, ECHO).get(20, TimeUnit.SECONDS);

        assertThat(later.statusCode()).isEqualTo(200);
      } finally {
        gate.open();
      }
    }
  }

  @Test
  void clientsThatDoNotReadTheirAnswersHoldNoServerThread() throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    Repositories.config(repository, "wide", "max_batch_size: 0\n");
    int threads = HttpSettings.MIN_THREADS + 2;
    List<Socket> stalled = new ArrayList<>();
    // no minimum rate: the answers wait on their clients for as long as the test does
    try (TestServer server =
        new TestServer(
            repository, http -> http.withThreads(threads).withMinBodyRate(new DataSize(0)))) {
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
      // as many clients as the server has threads, each sent an answer of about 10MB of JSON
      for (int i = 0; i < threads; i++) {
        Socket client = slowReader(server);
        stalled.add(client);
        client.getOutputStream().write(rawInfer("wide", 400_000));
      }
      // every one of them ran (the model's warmup ran too, before the first request: not counted)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (largeExecutions(server) < threads && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(largeExecutions(server)).isEqualTo(threads);

      // the answers wait on clients that never read, well inside the 30s idle timeout
      HttpResponse<String> live =
          within10Seconds(server, HttpRequest.newBuilder().GET(), "/v2/health/live");
      HttpResponse<String> answered = inferAsync(server, ECHO).get(10, TimeUnit.SECONDS);

      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(answered.statusCode()).isEqualTo(200);
    } finally {
      for (Socket client : stalled) {
        client.close();
      }
    }
  }

  @Test
  void aPipeliningClientThatDoesNotReadSmallAnswersHoldsUpNoOtherRequest() throws Exception {
    try (TestServer server = delayedModelServer()) {
      assertPipeliningClientThatDoesNotReadHoldsUpNoOtherRequest(server, 200);
    }
  }

  @Test
  void aPipeliningClientThatDoesNotReadErrorAnswersHoldsUpNoOtherRequest() throws Exception {
    try (TestServer server = delayedModelServer()) {
      // each answer an error of about 26KB, set by the answerer and written by Javalin
      server.engine.failExecutions(
          "delayed", new InvalidInputException("refused: " + "x".repeat(26_000)));
      assertPipeliningClientThatDoesNotReadHoldsUpNoOtherRequest(server, 400);
    }
  }

  /**
   * A server with a loaded model whose every request waits in the queue, so that a core thread
   * answers each one.
   */
  private TestServer delayedModelServer() throws IOException {
    Repositories.fake(repository, "delayed", Repositories.MB);
    Repositories.config(
        repository, "delayed", "max_batch_size: 2000\ndynamic_batching: {max_queue_delay: 1ms}\n");
    // no minimum rate: a connection that does not read stays stalled for as long as the test needs
    TestServer server = new TestServer(repository, http -> http.withMinBodyRate(new DataSize(0)));
    assertThat(server.post("/v2/models/delayed/infer", ECHO).status()).isEqualTo(200);
    return server;
  }

  /**
   * Pipelines 400 requests for answers of about 26KB on one connection that never reads (more than
   * the sockets' buffers hold), waits until the connection stalls, then expects another client's
   * request to the same model to be answered with {@code status}.
   */
  private static void assertPipeliningClientThatDoesNotReadHoldsUpNoOtherRequest(
      TestServer server, int status) throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (Socket pipelining = slowReader(server)) {
      byte[] request = rawInfer("delayed", 1000);
      writer.submit(
          () -> {
            OutputStream out = pipelining.getOutputStream();
            for (int i = 0; i < 400; i++) {
              out.write(request);
            }
            return null;
          });
      // the connection stalls once the buffers are full: no more of its requests run
      int executed = 0;
      long quietSince = System.nanoTime();
      while (System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(2)) {
        Thread.sleep(20);
        int now = server.engine.executions("delayed").size();
        if (now != executed) {
          executed = now;
          quietSince = System.nanoTime();
        }
      }
      assertThat(executed).as("requests run before the connection stalled").isBetween(11, 400);

      HttpResponse<String> other =
          server
              .client
              .sendAsync(
                  HttpRequest.newBuilder(server.uri.resolve("/v2/models/delayed/infer"))
                      .POST(HttpRequest.BodyPublishers.ofString(ECHO))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .get(20, TimeUnit.SECONDS);

      assertThat(other.statusCode()).isEqualTo(status);
    } finally {
      writer.shutdownNow();
    }
  }

  @Test
  void aClientThatHangsUpBeforeItsAnswerIsWrittenIsCountedAndTheServerGoesOn() throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    Repositories.config(repository, "wide", "max_batch_size: 0\n");
    try (TestServer server = new TestServer(repository)) {
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
      assertThat(undelivered(server)).isEqualTo(0.0);
      try (Socket client = slowReader(server)) {
        client.getOutputStream().write(rawInfer("wide", 400_000));
        // once computed, its megabytes of JSON are being written or about to be
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (server
                    .get("/v2/models/wide/stats")
                    .json()
                    .at("/model_stats/0/inference_count")
                    .asLong()
                < 2
            && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        // a reset, as a client that gives up sends: the server's write fails at once
        client.setSoLinger(true, 0);
      }

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (undelivered(server) != 1.0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(undelivered(server)).isEqualTo(1.0);
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
      JsonNode stats =
          server.get("/v2/models/wide/stats").json().at("/model_stats/0/inference_stats");
      assertThat(stats.at("/success/count").asLong()).isEqualTo(3);
      assertThat(stats.at("/fail/count").asLong()).isZero();
    }
  }

  @Test
  void clientsThatTrickleTheirBodiesHoldNoServerThread() throws Exception {
    int threads = HttpSettings.MIN_THREADS + 2;
    List<Socket> trickling = new ArrayList<>();
    try (TestServer server = new TestServer(repository, http -> http.withThreads(threads))) {
      // as many clients as the server has threads, each stopping 10 bytes into a 1000-byte body
      for (int i = 0; i < threads; i++) {
        Socket client = new Socket(server.uri.getHost(), server.uri.getPort());
        trickling.add(client);
        client
            .getOutputStream()
            .write(
                ("POST /v2/models/quality_predictor/infer HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                        + "{\"inputs\":")
                    .getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
      }
      Thread.sleep(500); // each request is dispatched once its first body bytes arrive

      // their bodies wait for the rest, well inside the 30s idle timeout
      HttpResponse<String> live =
          within10Seconds(server, HttpRequest.newBuilder().GET(), "/v2/health/live");
      HttpResponse<String> index =
          within10Seconds(
              server,
              HttpRequest.newBuilder()
                  .POST(HttpRequest.BodyPublishers.ofString("{\"ready\": true}")),
              "/v2/repository/index");

      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(index.statusCode()).isEqualTo(200);
    } finally {
      for (Socket client : trickling) {
        client.close();
      }
    }
  }

  @Test
  void anAnswerWhoseClientStopsReadingIsCountedUndeliveredWhenTheIdleTimeoutCutsItOff()
      throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    Repositories.config(repository, "wide", "max_batch_size: 0\n");
    try (TestServer server =
            new TestServer(
                repository, // no minimum rate, which would cut the answer off too, once its grace
                // is over
                http ->
                    http.withIdleTimeout(Duration.ofSeconds(2)).withMinBodyRate(new DataSize(0)));
        Socket client = slowReader(server)) {
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
      assertThat(undelivered(server)).isEqualTo(0.0);

      // about 10MB of JSON: its write is still pending when the connection times out
      client.getOutputStream().write(rawInfer("wide", 400_000));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (undelivered(server) != 1.0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }

      assertThat(undelivered(server)).isEqualTo(1.0);
      assertThat(server.post("/v2/models/wide/infer", ECHO).status()).isEqualTo(200);
    }
  }

  /** The executions of wide's 400000-row requests so far. */
  private static long largeExecutions(TestServer server) {
    return server.engine.executions("wide").stream()
        .filter(execution -> execution.rows() == 400_000)
        .count();
  }

  /** Sends {@code request} to {@code path}, failing the test unless answered within 10s. */
  private static HttpResponse<String> within10Seconds(
      TestServer server, HttpRequest.Builder request, String path) throws Exception {
    return server
        .client
        .sendAsync(
            request.uri(server.uri.resolve(path)).build(), HttpResponse.BodyHandlers.ofString())
        .get(10, TimeUnit.SECONDS);
  }

  /** The value of {@code hangar_http_answers_undelivered_total} in {@code /metrics}. */
  static double undelivered(TestServer server) {
    return server.metric("hangar_http_answers_undelivered_total");
  }

  private static CompletableFuture<HttpResponse<String>> inferAsync(
      TestServer server, String body) {
    return server.client.sendAsync(
        HttpRequest.newBuilder(server.uri.resolve("/v2/models/wide/infer"))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Connects a client whose socket takes about 4KB before the server's writes to it block. */
  private static Socket slowReader(TestServer server) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(new InetSocketAddress(server.uri.getHost(), server.uri.getPort()));
    return socket;
  }

  /** An HTTP/1.1 infer request for {@code count} rows, as the bytes sent on the wire. */
  private static byte[] rawInfer(String model, int count) {
    byte[] body = rows(count).getBytes(StandardCharsets.US_ASCII);
    byte[] head =
        ("POST /v2/models/"
                + model
                + "/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] request = Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, request, head.length, body.length);
    return request;
  }

  /** A request for {@code count} rows of the fake model's four-column input. */
  private static String rows(int count) {
    StringBuilder data = new StringBuilder(count * 8 * 2);
    for (int i = 0; i < count * 4; i++) {
      data.append(i == 0 ? "" : ",").append(i % 1000);
    }
    return "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": ["
        + count
        + ", 4], \"data\": ["
        + data
        + "]}]}";
  }

  @Test
  void closingStopsAcceptingAndDrainsRequestsInFlight() throws Exception {
    Repositories.fake(repository, "slow", Repositories.MB);
    TestServer server =
        new TestServer(repository, http -> http.withDrainTimeout(Duration.ofSeconds(20)));
    assertThat(server.post("/v2/models/slow/infer", ECHO).status()).isEqualTo(200);
    Gate gate = server.engine.holdExecutions("slow");
    Socket keptAlive = new Socket(server.uri.getHost(), server.uri.getPort());
    try {
      java.io.OutputStream out = keptAlive.getOutputStream();
      java.io.InputStream in = keptAlive.getInputStream();
      String live = "GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";
      out.write(live.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(readResponse(in)).startsWith("HTTP/1.1 200");
      CompletableFuture<HttpResponse<String>> inFlight =
          server.client.sendAsync(
              HttpRequest.newBuilder(server.uri.resolve("/v2/models/slow/infer"))
                  .POST(HttpRequest.BodyPublishers.ofString(ECHO))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      gate.awaitArrivals(1);
      CompletableFuture<Void> closing = CompletableFuture.runAsync(server.server::close);
      // new connections are refused once the connector stops accepting
      java.net.http.HttpClient fresh = java.net.http.HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean refused = false;
      while (!refused && System.nanoTime() < deadline) {
        try {
          fresh.send(
              HttpRequest.newBuilder(server.uri.resolve("/v2/health/live")).build(),
              HttpResponse.BodyHandlers.ofString());
          Thread.onSpinWait();
        } catch (IOException e) {
          refused = true;
        }
      }
      assertThat(refused).as("new connections refused while draining").isTrue();
      // a request on a connection open before: refused in Hangar's words, with Retry-After
      out.write(live.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(readResponse(in))
          .startsWith("HTTP/1.1 503")
          .contains("Retry-After: 1")
          .contains(
              "{\"error\":\"the server is shutting down and takes no new requests; retry on"
                  + " another\"}");
      assertThat(closing).isNotDone();
      gate.open();
      assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      closing.get(30, TimeUnit.SECONDS);
      assertThatThrownBy(
              () ->
                  fresh.send(
                      HttpRequest.newBuilder(server.uri.resolve("/v2/health/live")).build(),
                      HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
    } finally {
      // a failed assertion must not leave the execution held, or closing waits for it in vain
      gate.open();
      keptAlive.close();
      server.close();
    }
  }

  @Test
  void aRequestWhoseBodyIsStillArrivingAtShutdownIsAnsweredWithinTheDrainTimeout()
      throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    TestServer server =
        new TestServer(repository, http -> http.withDrainTimeout(Duration.ofSeconds(60)));
    try (Socket client = new Socket(server.uri.getHost(), server.uri.getPort());
        Socket idle = new Socket(server.uri.getHost(), server.uri.getPort())) {
      idle.getOutputStream()
          .write(
              "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(idle.getInputStream())).startsWith("HTTP/1.1 200");
      byte[] body = ECHO.getBytes(StandardCharsets.US_ASCII);
      OutputStream out = client.getOutputStream();
      out.write(
          ("POST /v2/models/wide/infer HTTP/1.1\r\nHost: localhost\r\n"
                  + "Content-Type: application/json\r\nContent-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, 10);
      out.flush();
      Thread.sleep(300); // dispatched once its first body bytes arrive
      CompletableFuture<Void> closing = CompletableFuture.runAsync(server.server::close);

      // the rest of the body in three parts, each after a pause longer than a quarter second
      int sent = 10;
      for (int part = 1; part <= 3; part++) {
        Thread.sleep(400);
        int end = part == 3 ? body.length : sent + (body.length - 10) / 3;
        out.write(body, sent, end - sent);
        out.flush();
        sent = end;
      }
      assertThat(closing).as("the drain waits for the request").isNotDone();

      assertThat(readResponse(client.getInputStream())).startsWith("HTTP/1.1 200");
      // the idle keep-alive connection was closed, not waited for until the drain timeout
      closing.get(10, TimeUnit.SECONDS);
      assertThat(idle.getInputStream().read()).isEqualTo(-1);
    } finally {
      server.close();
    }
  }

  @Test
  void anAnswerStillBeingReadAtShutdownIsDeliveredWhole() throws Exception {
    Repositories.fake(repository, "wide", Repositories.MB);
    Repositories.config(repository, "wide", "max_batch_size: 0\n");
    TestServer server =
        new TestServer(repository, http -> http.withDrainTimeout(Duration.ofSeconds(60)));
    try (Socket client = slowReader(server)) {
      client.getOutputStream().write(rawInfer("wide", 400_000));
      java.io.InputStream in = client.getInputStream();
      byte[] head = in.readNBytes(12); // about 10MB of answer is being written
      CompletableFuture<Void> closing = CompletableFuture.runAsync(server.server::close);
      Thread.sleep(1000); // the answer's write waits on this client longer than a quarter second
      assertThat(closing).as("the drain waits for the answer").isNotDone();

      String answer = new String(head, StandardCharsets.US_ASCII) + readResponse(in);
      // whole: as long as its Content-Length says, to the last row's values and the JSON's end
      assertThat(answer).startsWith("HTTP/1.1 200").endsWith(",1996.0,1998.0]}]}");
      closing.get(30, TimeUnit.SECONDS);
    } finally {
      server.close();
    }
  }

  /** Reads one response: its head, and the body its Content-Length gives. */
  private static String readResponse(java.io.InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int next = in.read();
      if (next < 0) {
        break;
      }
      head.append((char) next);
    }
    java.util.regex.Matcher length =
        java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
    byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
    return head + new String(body, StandardCharsets.UTF_8);
  }
}
