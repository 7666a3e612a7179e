package dev.hangar.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.util.Modules;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.core.CoreExecutors;
import dev.hangar.core.CoreModule;
import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.inference.ResponseCache;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.BackendContext;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Core and the HTTP adapter assembled with Guice as {@code hangar serve} assembles them, but with
 * the fake backend next to ONNX Runtime, resident memory that counts only what fake models hold (so
 * that memory-budget outcomes are exact), on an ephemeral port; and an HTTP client for it.
 */
final class TestServer implements AutoCloseable {
  static final Path CACHE = Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"));
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));
  static final ObjectMapper JSON = new ObjectMapper();
  static final long BASELINE_BYTES = 100L << 20;

  final FakeEngine engine = new FakeEngine();
  final Injector injector;
  final ModelManager manager;
  final HttpServer server;
  final URI uri;
  final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  /** One HTTP exchange. */
  record Reply(int status, Map<String, List<String>> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + text(), e);
      }
    }

    String header(String name) {
      return headers.entrySet().stream()
          .filter(entry -> entry.getKey().equalsIgnoreCase(name))
          .map(entry -> entry.getValue().get(0))
          .findFirst()
          .orElse(null);
    }
  }

  TestServer(Path repository, DataSize budget, UnaryOperator<HttpSettings> http) {
    ServerSettings settings =
        ServerSettings.defaults(repository).withMemoryBudget(budget).withCacheDirectory(CACHE);
    HttpSettings httpSettings =
        http.apply(
            HttpSettings.defaults()
                .withAddress("127.0.0.1", 0)
                .withDrainTimeout(Duration.ofSeconds(5)));
    FakeEngine fakes = engine;
    injector =
        Guice.createInjector(
            Modules.override(new CoreModule(settings, TestServer.class.getClassLoader()))
                .with(
                    new AbstractModule() {
                      // the server itself holds 100MB; fake models hold what their files say
                      @Provides
                      @Singleton
                      ResidentMemory residentMemory() {
                        return () -> BASELINE_BYTES + fakes.allocatedBytes();
                      }

                      @Provides
                      @Singleton
                      MemoryReclaimer memoryReclaimer() {
                        return MemoryReclaimer.NONE;
                      }

                      // the worker that ran a batch answers it, as on a 2-core machine, whatever
                      // this one has; core's own tests cover answers handed to other workers
                      @Provides
                      @Singleton
                      InferenceService inferenceService(
                          ModelManager manager,
                          ResponseCache cache,
                          CoreExecutors executors,
                          TimeSource time) {
                        return new InferenceService(
                            manager, cache, executors.workers(), 0, executors.timer(), time);
                      }

                      @Provides
                      @Singleton
                      BackendRegistry backendRegistry() {
                        return new BackendRegistry(
                            List.of(new FakeBackendProvider(fakes), new OnnxBackendProvider()),
                            new BackendContext(CACHE));
                      }
                    }),
            new HttpModule(httpSettings));
    manager = injector.getInstance(ModelManager.class);
    manager.start().join();
    try {
      server = injector.getInstance(HttpServer.class).start();
    } catch (RuntimeException e) {
      closeCore();
      throw e;
    }
    uri = server.uri();
  }

  /** A server with a budget far above what the test JVM holds, and {@code http}'s settings. */
  TestServer(Path repository, UnaryOperator<HttpSettings> http) {
    this(repository, DataSize.ofMegabytes(4096), http);
  }

  TestServer(Path repository) {
    this(repository, http -> http);
  }

  Reply get(String path) {
    return send(HttpRequest.newBuilder(uri.resolve(path)).GET());
  }

  /** The value of one series in {@code /metrics}, failing the test when it is not there. */
  double metric(String series) {
    return V2EndpointsTest.value(get("/metrics").text(), series);
  }

  Reply post(String path, String json) {
    return send(
        HttpRequest.newBuilder(uri.resolve(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  Reply post(String path, byte[] body, String... headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri.resolve(path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return send(request);
  }

  /** {@code data} compressed as a request body with that Content-Encoding: gzip, else deflate. */
  static byte[] compress(String encoding, byte[] data) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.io.OutputStream compressing =
        encoding.equalsIgnoreCase("gzip")
            ? new java.util.zip.GZIPOutputStream(out)
            : new java.util.zip.DeflaterOutputStream(out)) {
      compressing.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  Reply send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> response =
          client.send(
              request.timeout(Duration.ofSeconds(60)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return new Reply(response.statusCode(), response.headers().map(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } finally {
      closeCore();
    }
  }

  private void closeCore() {
    manager.close();
    injector.getInstance(BackendRegistry.class).close();
    injector.getInstance(CoreExecutors.class).close();
  }
}
