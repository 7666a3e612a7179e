package dev.hangar.cli;

import dev.hangar.core.CoreExecutors;
import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.ConfigurationException;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.Durations;
import dev.hangar.core.model.MemoryPressureChecks;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.RepositoryPoller;
import dev.hangar.http.HttpModule;
import dev.hangar.http.HttpServer;
import dev.hangar.http.HttpSettings;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hangar serve}: the KServe v2 HTTP server over the repository.
 *
 * <p>Shutdown on SIGTERM or SIGINT: the server stops accepting, requests in flight drain (bounded
 * by {@code --drain-timeout}), every model unloads, and the process exits 0. The signals are caught
 * so that the exit status is 0; a JVM shutdown hook runs the same sequence for any other way the
 * JVM ends.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Serve the repository over HTTP: the KServe v2 REST API with binary tensors, the model"
            + " repository, statistics and Prometheus metrics at /metrics.",
    footer = {
      "",
      "Example:",
      "  hangar serve --repo models",
      "  curl -s localhost:8000/v2/models/quality_predictor/infer -d '{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": [0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]}]}'"
    })
final class ServeCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(ServeCommand.class.getName());

  @Mixin RepositoryOptions repository;

  @Option(
      names = "--host",
      paramLabel = "ADDRESS",
      defaultValue = HttpSettings.DEFAULT_HOST,
      description =
          "The address to listen on (default: ${DEFAULT-VALUE}). On any other address, loading and unloading models needs --admin-token.")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "8000",
      description = "The port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(
      names = "--poll",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Rescan the repository this often (such as 5s) and apply what changed, once its files"
              + " have stayed unchanged for a second (default: off, unless poll_interval in"
              + " --config; models are then loaded and unloaded through the repository endpoints).")
  Duration poll;

  @Option(
      names = "--admin-token",
      paramLabel = "TOKEN",
      defaultValue = "${env:HANGAR_ADMIN_TOKEN}",
      description =
          "The bearer token the repository load/unload endpoints require (env HANGAR_ADMIN_TOKEN):"
              + " visible ASCII, no space at either end.")
  String adminToken;

  @Option(
      names = "--max-body",
      paramLabel = "SIZE",
      defaultValue = "64MB",
      converter = RepositoryOptions.DataSizeConverter.class,
      description =
          "The largest request body accepted (default: ${DEFAULT-VALUE}); larger ones get 413.")
  DataSize maxBody;

  @Option(
      names = "--body-memory",
      paramLabel = "SIZE",
      converter = RepositoryOptions.DataSizeConverter.class,
      description =
          "The most heap the bodies of requests in flight, the tensors decoded from them and their"
              + " answers may hold together (default: half the heap). A request past it gets 503"
              + " and retries; one past it alone gets 507.")
  DataSize bodyMemory;

  @Option(
      names = "--min-body-rate",
      paramLabel = "SIZE",
      defaultValue = "1KB",
      converter = RepositoryOptions.DataSizeConverter.class,
      description =
          "The slowest a request body may arrive, or a client take its answer, in bytes a second"
              + " on average after the first "
              + HttpSettings.BODY_RATE_GRACE_SECONDS
              + "s (default: ${DEFAULT-VALUE}; 0 for no minimum); a slower body gets 408, a slower"
              + " answer's connection is closed.")
  DataSize minBodyRate;

  @Option(
      names = "--drain-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long shutdown waits for requests in flight (default: ${DEFAULT-VALUE}).")
  Duration drainTimeout;

  @Option(
      names = "--idle-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "Close a connection that sends nothing for this long, between requests or inside one"
              + " (default: ${DEFAULT-VALUE}).")
  Duration idleTimeout;

  @Option(
      names = "--header-timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "Close a connection whose request headers are not all there this long after their first"
              + " byte, however slowly they trickle in (default: ${DEFAULT-VALUE}).")
  Duration headerTimeout;

  @Option(
      names = "--max-connections",
      paramLabel = "COUNT",
      description =
          "The most connections open at once; past it the server accepts no more until one"
              + " closes (default: three quarters of the process's open-file limit).")
  Integer maxConnections;

  @Option(
      names = "--http-threads",
      paramLabel = "COUNT",
      defaultValue = "" + HttpSettings.DEFAULT_THREADS,
      description =
          "The most threads that run requests (default: ${DEFAULT-VALUE}). None is held while a"
              + " request body arrives or an answer waits for its client to read it.")
  int threads;

  // completed by SIGTERM or SIGINT, or by shutdown itself
  private final CompletableFuture<Void> stop = new CompletableFuture<>();
  // guards the shutdown sequence, which the main thread or the shutdown hook runs once
  private final Object shutdownLock = new Object();
  private boolean shutDown;

  /**
   * Refuses a response cache and a memory for request bodies that together take more than three
   * quarters of the heap: both live in it, and the server's own work needs the rest.
   */
  static void checkHeapShares(DataSize responseCache, DataSize bodyMemory) {
    long heap = Runtime.getRuntime().maxMemory();
    if (responseCache.bytes() + bodyMemory.bytes() > heap * 3 / 4) {
      throw new UsageException(
          "the response cache (response_cache_size, "
              + DataSize.format(responseCache.bytes())
              + ") and the memory for request bodies (--body-memory, "
              + DataSize.format(bodyMemory.bytes())
              + ") together pass three quarters of the "
              + DataSize.format(heap)
              + " heap, which the server's own work needs the rest of: lower them, or give the"
              + " heap more (a larger --memory, or HANGAR_HEAP)");
    }
  }

  @Override
  public Integer call() {
    HttpSettings http;
    try {
      http =
          HttpSettings.defaults()
              .withAddress(host, port)
              .withMaxBody(maxBody)
              .withDrainTimeout(drainTimeout)
              .withIdleTimeout(idleTimeout)
              .withHeaderTimeout(headerTimeout)
              .withThreads(threads)
              .withMinBodyRate(minBodyRate)
              .withAdminToken(Optional.ofNullable(adminToken));
      if (maxConnections != null) {
        http = http.withMaxConnections(maxConnections);
      }
      if (bodyMemory != null) {
        http = http.withBodyMemory(bodyMemory);
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage()); // an option's value out of range: exit 2
    }
    ServerSettings configured = repository.repositorySettings();
    ServerSettings settings;
    try {
      settings = poll == null ? configured : configured.withPollInterval(Optional.of(poll));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    checkHeapShares(settings.responseCacheSize(), http.bodyMemory());
    Duration interval = settings.pollInterval().orElse(null);
    // caught from here on, so that a signal while models load still shuts down in order
    Signals.onTermination(() -> stop.complete(null));
    HangarRuntime hangar = HangarRuntime.create(settings, repository.plugins, new HttpModule(http));
    RepositoryPoller poller = null;
    MemoryPressureChecks pressure = null;
    HttpServer server = null;
    try {
      ModelManager manager = hangar.manager();
      HttpServer listener = hangar.instance(HttpServer.class);
      // before any model loads: a wrong address or a busy port would otherwise be found minutes on
      checkAddress(listener);
      listener.checkCanListen();
      checkBudget(manager);
      var startup = manager.start();
      pressure =
          new MemoryPressureChecks(
              manager,
              hangar.instance(CoreExecutors.class).timer(),
              MemoryPressureChecks.DEFAULT_INTERVAL);
      pressure.start();
      if (interval != null) {
        poller =
            new RepositoryPoller(manager, hangar.instance(CoreExecutors.class).timer(), interval);
        poller.start();
      }
      server = listener.start();
      HttpServer started = server;
      RepositoryPoller polling = poller;
      MemoryPressureChecks checks = pressure;
      Thread hook =
          new Thread(() -> shutdown(started, polling, checks, hangar), "hangar-shutdown-hook");
      Runtime.getRuntime().addShutdownHook(hook);
      // a signal during the start-up loads stops them: a large model's warmup is not waited for
      CompletableFuture.anyOf(startup, stop).join();
      if (!stop.isDone()) {
        reportStart(server, settings, manager, interval, adminEndpointsOff(http));
      }
      stop.join();
      LOG.log(Level.INFO, "shutting down: draining requests in flight, then unloading models");
      shutdown(server, poller, pressure, hangar);
      return 0;
    } catch (RuntimeException | Error e) {
      shutdown(server, poller, pressure, hangar);
      throw e;
    }
  }

  /** A host that is not an address of this machine is the user's to fix: a usage error. */
  private static void checkAddress(HttpServer server) {
    try {
      server.checkAddress();
    } catch (ConfigurationException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /**
   * Refuses a budget the server's own memory already fills: no model would ever load, and a server
   * that serves nothing is worse than a usage error.
   */
  private void checkBudget(ModelManager manager) {
    long resident = manager.residentBytes();
    if (resident >= manager.budgetBytes()) {
      throw new UsageException(
          "the server alone holds "
              + DataSize.format(resident)
              + " of the "
              + DataSize.format(manager.budgetBytes())
              + " memory budget ("
              + repository.memorySource()
              + "): raise it above the server's own memory plus the models to keep loaded");
    }
  }

  /**
   * Says why the repository's load and unload endpoints answer 403 on this address, or nothing when
   * they are on.
   */
  private static Optional<String> adminEndpointsOff(HttpSettings http) {
    if (http.adminToken().isPresent() || http.isLoopback()) {
      return Optional.empty();
    }
    return Optional.of(
        "the repository's load and unload endpoints are off (they answer 403): the server"
            + " listens beyond loopback, on "
            + http.host()
            + ", and no admin token is set; set --admin-token (or HANGAR_ADMIN_TOKEN) to turn"
            + " them on");
  }

  /**
   * Logs how the server started: warnings first (an empty repository, memory already past the
   * budget), then one line saying whether it is ready.
   */
  private static void reportStart(
      HttpServer server,
      ServerSettings settings,
      ModelManager manager,
      Duration interval,
      Optional<String> adminOff) {
    String serving =
        server.listenUri()
            + (server.listensOnEveryAddress() ? " (every address of this machine; " : " (")
            + "repository "
            + settings.repository()
            + ", memory budget "
            + DataSize.format(manager.budgetBytes())
            + (interval == null ? "" : ", polling every " + Durations.format(interval))
            + ")";
    if (manager.list().isEmpty()) {
      // most likely --repo points at the wrong directory: every request would be a bare 404
      LOG.log(
          Level.WARNING,
          "the repository {0} holds no models: a model is a directory with version directories"
              + " (name/1/model.onnx) or a bare model file (name.onnx){1}",
          settings.repository(),
          interval == null
              ? "; models added later are found by POST /v2/repository/models/<name>/load, or"
                  + " every --poll interval"
              : "; models added later are found within " + Durations.format(interval));
    }
    adminOff.ifPresent(message -> LOG.log(Level.INFO, message));
    long resident = manager.residentBytes();
    if (resident > manager.budgetBytes()) {
      // the engines' libraries and the heap, once warm, can pass a budget the start fitted
      LOG.log(
          Level.WARNING,
          "the process holds {0} resident, more than its memory budget of {1}: a model not"
              + " loaded yet loads only if evicting others frees enough; raise the budget"
              + " (--memory)",
          DataSize.format(resident),
          DataSize.format(manager.budgetBytes()));
    }
    List<String> waiting = manager.notReady();
    if (waiting.isEmpty()) {
      LOG.log(Level.INFO, "Hangar is ready at {0}", serving);
    } else {
      // a start-up model that failed to load: the other models serve, but readiness says no
      LOG.log(
          Level.WARNING,
          "Hangar is serving at {0}, but is not ready: {1}; /v2/health/ready answers 503 until"
              + " they load (POST /v2/repository/models/<name>/load retries one)",
          serving,
          String.join(", ", waiting));
    }
  }

  private void shutdown(
      HttpServer server,
      RepositoryPoller poller,
      MemoryPressureChecks pressure,
      HangarRuntime hangar) {
    synchronized (shutdownLock) {
      if (shutDown) {
        return;
      }
      shutDown = true;
      stop.complete(null);
      if (pressure != null) {
        pressure.close();
      }
      // a load in progress stops now, so that requests waiting for it get 503 while they drain
      hangar.manager().stopLoading();
      try {
        if (server != null) {
          server.close();
        }
      } finally {
        if (poller != null) {
          poller.close();
        }
        hangar.close();
      }
      LOG.log(Level.INFO, "Hangar stopped");
    }
  }

  /** Parses durations such as 5s for picocli. */
  static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parse(value);
      } catch (IllegalArgumentException e) {
        // picocli prints a conversion exception's own words; any other one with its class name
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
