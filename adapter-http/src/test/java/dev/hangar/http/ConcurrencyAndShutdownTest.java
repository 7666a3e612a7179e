package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.testkit.fake.Gate;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
    }
  }

  @Test
  void closingStopsAcceptingAndDrainsRequestsInFlight() throws Exception {
    Repositories.fake(repository, "slow", Repositories.MB);
    TestServer server =
        new TestServer(
            repository,
            DataSize.ofMegabytes(4096),
            http -> http.withDrainTimeout(Duration.ofSeconds(20)));
    assertThat(server.post("/v2/models/slow/infer", ECHO).status()).isEqualTo(200);
    Gate gate = server.engine.holdExecutions("slow");
    try {
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
      server.close();
    }
  }
}
