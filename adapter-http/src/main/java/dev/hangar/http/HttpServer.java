package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.ConfigurationException;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.util.JavalinBindException;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The KServe v2 REST server: Javalin on Jetty, with every route of {@link V2Endpoints}.
 *
 * <p>{@link #close()} shuts down gracefully: the connector stops accepting, requests in flight get
 * up to the drain timeout to finish, then Jetty stops. It does not close core; whoever assembled
 * core closes it afterwards (unloading the models).
 */
public final class HttpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpServer.class.getName());

  private final HttpSettings settings;
  private final V2Endpoints endpoints;
  private final MeterRegistry registry;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private Javalin app;

  HttpServer(HttpSettings settings, V2Endpoints endpoints, MeterRegistry registry) {
    this.settings = requireNonNull(settings, "settings is null");
    this.endpoints = requireNonNull(endpoints, "endpoints is null");
    this.registry = requireNonNull(registry, "registry is null");
  }

  /**
   * Starts listening.
   *
   * @return this server
   * @throws ConfigurationException when it cannot listen on its host and port, saying why
   * @throws IllegalStateException when it was started before
   */
  public synchronized HttpServer start() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("the HTTP server was started already");
    }
    app = Javalin.create(this::configure);
    try {
      app.start();
    } catch (JavalinBindException e) {
      throw cannotListen(e);
    }
    return this;
  }

  /**
   * Checks, without starting, that the host is an address of this machine (or a name resolving to
   * one), so that a wrong {@code --host} is found before models are loaded for minutes.
   *
   * @throws ConfigurationException saying what is wrong with the host
   */
  public void checkAddress() {
    checkBind(0);
  }

  /**
   * Checks, without starting, that the host and port can be listened on now: nothing else listens
   * there and this process may. Another process may still take the port before {@link #start()}.
   *
   * @throws ConfigurationException saying why it cannot listen
   */
  public void checkCanListen() {
    checkBind(settings.port());
  }

  private void checkBind(int port) {
    InetSocketAddress address = new InetSocketAddress(settings.host(), port);
    try (ServerSocket socket = new ServerSocket()) {
      // as Jetty's connector binds, so that the check and the start agree
      socket.setReuseAddress(true);
      if (address.isUnresolved()) {
        throw new UnknownHostException(settings.host());
      }
      socket.bind(address);
    } catch (IOException e) {
      throw cannotListen(e);
    }
  }

  /**
   * Why the server cannot listen, from the cause Jetty (or a check) found: Javalin says "port
   * already in use" whatever it was.
   */
  private ConfigurationException cannotListen(Exception failure) {
    String host = settings.host();
    int port = settings.port();
    String reason = String.valueOf(failure.getMessage());
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof UnresolvedAddressException || cause instanceof UnknownHostException) {
        reason = "'" + host + "' is neither an address nor a host name this machine can resolve";
        break;
      }
      if (cause instanceof BindException bind) {
        String message = String.valueOf(bind.getMessage());
        if (message.contains("in use")) {
          reason =
              "another process is listening on port "
                  + port
                  + " there; stop it, or choose another port (--port)";
        } else if (message.contains("assign")) {
          reason =
              host
                  + " is not an address of this machine; --host takes one of its addresses,"
                  + " 127.0.0.1 (the default) for this machine alone or 0.0.0.0 for all of them";
        } else if (message.contains("ermission")) {
          reason = "this process may not listen on ports below 1024; choose another (--port)";
        } else {
          reason = message;
        }
        break;
      }
    }
    return new ConfigurationException(
        "cannot listen on " + bracketed(host) + ":" + port + ": " + reason, failure);
  }

  /** Returns the port listened on (the chosen one when the settings say 0). */
  public int port() {
    return app.port();
  }

  /**
   * Returns the URL of the address listened on as given, such as {@code http://0.0.0.0:8000} for
   * every address of the machine, where {@link #uri()} gives one a client can connect to.
   */
  public URI listenUri() {
    return URI.create("http://" + bracketed(settings.host()) + ":" + port());
  }

  /** Returns whether the server listens on every address of the machine (0.0.0.0 or ::). */
  public boolean listensOnEveryAddress() {
    return settings.host().equals("0.0.0.0") || settings.host().equals("::");
  }

  /** Returns the base URL a client connects to, such as {@code http://127.0.0.1:8000}. */
  public URI uri() {
    String host = listensOnEveryAddress() ? "127.0.0.1" : settings.host();
    return URI.create("http://" + bracketed(host) + ":" + port());
  }

  /** The host as it goes before a port: an IPv6 address in brackets. */
  private static String bracketed(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }

  /** Stops accepting, drains requests in flight (bounded by the drain timeout) and stops. */
  @Override
  public synchronized void close() {
    if (app == null || !closed.compareAndSet(false, true)) {
      return;
    }
    long start = System.nanoTime();
    try {
      app.stop();
    } catch (RuntimeException e) {
      // Jetty reports requests still in flight when the drain timeout passed; stop regardless
      LOG.log(
          Level.WARNING,
          "requests were still in flight after the drain timeout ({0}); stopped anyway: {1}",
          settings.drainTimeout(),
          e.toString());
    }
    LOG.log(
        Level.INFO,
        "HTTP server stopped after draining for {0} ms",
        Duration.ofNanos(System.nanoTime() - start).toMillis());
  }

  private void configure(JavalinConfig config) {
    ShutdownDrain drain = new ShutdownDrain(new GracefulHandler());
    config.startup.showJavalinBanner = false;
    config.startup.showOldJavalinVersionWarning = false;
    config.http.maxRequestSize = settings.maxBody().bytes();
    config.http.generateEtags = false;
    // a path that exists, asked with a method it does not take: 405 naming the methods, not 404
    config.http.prefer405over404 = true;
    config.http.compressionStrategy = CompressionStrategy.NONE; // ResponseWriter compresses
    QueuedThreadPool threads =
        new QueuedThreadPool(settings.threads(), HttpSettings.MIN_THREADS, 60_000);
    threads.setName("hangar-http");
    config.jetty.threadPool = threads;
    config.jetty.modifyServer(
        server -> {
          server.setStopTimeout(settings.drainTimeout().toMillis());
          server.setStopAtShutdown(false);
          server.setErrorHandler(new JsonErrorHandler());
          // GracefulHandler counts requests in flight; Server.stop() waits for them up to the
          // stop timeout; ShutdownDrain lets them keep their connection's idle timeout meanwhile.
          // AnswerCounter counts their answers by status class.
          AnswerCounter answers = new AnswerCounter(drain);
          answers.bindTo(registry);
          server.setHandler(answers);
        });
    config.jetty.modifyHttpConfiguration(this::configureHttp);
    config.jetty.addConnector(
        (server, http) -> {
          configureHttp(http);
          // at shutdown, closes the connections with no request in flight
          ServerConnector connector = drain.connector(server, new HttpConnectionFactory(http));
          connector.setHost(settings.host());
          connector.setPort(settings.port());
          connector.setIdleTimeout(settings.idleTimeout().toMillis());
          // closes a connection whose client trickles its headers inside the idle timeout
          connector.addBean(new HeaderTimeout(settings.headerTimeout()));
          // past the limit, accept nothing more until a connection closes (the kernel's backlog
          // holds the rest): clients cannot take every file the process may open
          server.addBean(new NetworkConnectionLimit(settings.maxConnections(), connector));
          return connector;
        });
    config.routes.exception(Exception.class, endpoints::failed);
    // Javalin's own answers (no such route, a method the route does not take) as {"error": ...}
    config.routes.exception(HttpResponseException.class, endpoints::routingFailed);
    V2Endpoints v2 = endpoints;
    getAndHead(config, "/v2/health/live", v2::live);
    getAndHead(config, "/v2/health/ready", v2::ready);
    getAndHead(config, "/v2", v2::serverMetadata);
    getAndHead(config, "/metrics", v2::metrics);
    getAndHead(config, "/v2/models/stats", v2::allStatistics);
    config.routes.post("/v2/repository/index", v2::repositoryIndex);
    config.routes.post("/v2/repository/models/{model}/load", v2::load);
    config.routes.post("/v2/repository/models/{model}/unload", v2::unload);
    for (String base :
        new String[] {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
      getAndHead(config, base, v2::modelMetadata);
      getAndHead(config, base + "/ready", v2::modelReady);
      getAndHead(config, base + "/config", v2::modelConfig);
      getAndHead(config, base + "/stats", v2::modelStatistics);
      config.routes.post(base + "/infer", v2::infer);
    }
  }

  /**
   * Routes GET and HEAD to {@code handler}: a HEAD answers with the status and headers the GET
   * would (Jetty drops the body). Without its own route, Javalin answers any HEAD that matches a
   * GET path with an empty 200, so that a probe by HEAD saw a server that is not ready as ready.
   */
  private static void getAndHead(JavalinConfig config, String path, Handler handler) {
    config.routes.get(path, handler);
    config.routes.head(path, handler);
  }

  private void configureHttp(HttpConfiguration http) {
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    // the writes ResponseWriter leaves to Jetty's buffer (Jetty's default, made explicit)
    http.setOutputAggregationSize(ResponseWriter.BUFFERED_BYTES);
    // no request idle timeout of its own, so the connector's applies throughout: one that differs
    // makes Jetty cancel and reschedule the connection's timeout task on every request
    http.setIdleTimeout(-1);
  }

  /** Jetty's own errors (a malformed URI, a bad header) as {@code {"error": ...}}. */
  private static final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      int status = response.getStatus();
      String message = (String) request.getAttribute(ERROR_MESSAGE);
      if (status == 503) {
        // Jetty refuses requests arriving while the server drains
        message = "the server is shutting down and takes no new requests; retry on another";
        response.getHeaders().put(HttpHeader.RETRY_AFTER, ErrorResponses.RETRY_AFTER_SECONDS);
      } else if (status >= 500) {
        // Jetty's own text here is an exception's name, such as a request cut off at shutdown
        message = "the server could not complete the request (it may be shutting down)";
      } else if (message == null || message.isBlank()) {
        message = org.eclipse.jetty.http.HttpStatus.getMessage(status);
      }
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, V2Endpoints.JSON_TYPE);
      response.write(true, ByteBuffer.wrap(ErrorResponses.body(message)), callback);
      return true;
    }
  }
}
