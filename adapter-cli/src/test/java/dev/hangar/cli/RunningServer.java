package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import dev.hangar.http.HttpModule;
import dev.hangar.http.HttpServer;
import dev.hangar.http.HttpSettings;
import java.nio.file.Path;

/**
 * {@code hangar serve} in this JVM: core and the HTTP adapter assembled as the serve command does,
 * on the sample repository and an ephemeral port.
 */
final class RunningServer implements AutoCloseable {
  private final HangarRuntime hangar;
  private final HttpServer server;

  private RunningServer(HangarRuntime hangar, HttpServer server) {
    this.hangar = hangar;
    this.server = server;
  }

  /** Starts a server on {@code repository}; models load on first use. */
  static RunningServer start(Path repository) {
    ServerSettings settings =
        ServerSettings.defaults(repository)
            .withCacheDirectory(Path.of(OneShotCommandsTest.CACHE))
            // the test JVM's own resident memory is the budget's baseline: leave room above it
            .withMemoryBudget(DataSize.ofMegabytes(8192));
    HangarRuntime hangar =
        HangarRuntime.create(
            settings, null, new HttpModule(HttpSettings.defaults().withAddress("127.0.0.1", 0)));
    try {
      hangar.manager().start(false).join();
      return new RunningServer(hangar, hangar.instance(HttpServer.class).start());
    } catch (RuntimeException e) {
      hangar.close();
      throw e;
    }
  }

  /** Returns the server's URL, such as {@code http://127.0.0.1:40123}, without a slash. */
  String url() {
    String uri = server.uri().toString();
    return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
  }

  HangarRuntime hangar() {
    return hangar;
  }

  @Override
  public void close() {
    try {
      server.close();
    } finally {
      hangar.close();
    }
  }
}
