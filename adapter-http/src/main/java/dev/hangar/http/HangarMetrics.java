package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.health.FailureReason;
import dev.hangar.core.health.LatencySummary;
import dev.hangar.core.health.ModelHealth;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelState;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.core.model.ModelVersionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Prometheus metrics read from core's state: each scrape takes one {@link StatisticsSnapshot} per
 * model version and the manager's status list, and the meters read those. Nothing is counted here
 * twice; this class counts only what core does not see: evictions (the manager's transitions to
 * EVICTED) and answers whose client went away before they were written.
 *
 * <p>Function counters and timers hold this object weakly; the server holds it as long as it runs.
 *
 * <p>Names follow Triton's where they mean the same (Prometheus counters carry the {@code _total}
 * suffix); the rest start with {@code hangar_}, beside the JVM's own ({@link JvmMeters}).
 * Per-version meters have the labels {@code model} and {@code version}; the module README lists
 * them all.
 */
public final class HangarMetrics {
  private final ModelManager manager;
  private final InferenceService inference;
  private final PrometheusMeterRegistry registry;
  private final Counter answersUndelivered;
  // the latest snapshots, read by the meters; written only under scrapeLock
  private final Map<ModelVersionKey, StatisticsSnapshot> snapshots = new ConcurrentHashMap<>();
  private final Map<ModelVersionKey, ModelStatus> statuses = new ConcurrentHashMap<>();
  private final Map<ModelVersionKey, List<Meter>> meters = new HashMap<>();
  // models whose files or config cannot be read: they have no version to label
  private final Map<String, Meter> unreadable = new HashMap<>();
  // guards meters and makes refresh-then-scrape one step
  private final Object scrapeLock = new Object();

  /** Registers the process-wide meters and listens for evictions. */
  @Inject
  public HangarMetrics(
      ModelManager manager, InferenceService inference, PrometheusMeterRegistry registry) {
    this.manager = requireNonNull(manager, "manager is null");
    this.inference = requireNonNull(inference, "inference is null");
    this.registry = requireNonNull(registry, "registry is null");
    JvmMeters.bindTo(registry);
    Gauge.builder("hangar_process_resident_memory_bytes", manager, m -> m.residentBytes())
        .description("Resident memory of the server process")
        .strongReference(true)
        .register(registry);
    Gauge.builder("hangar_memory_budget_bytes", manager, m -> m.budgetBytes())
        .description("The memory budget of the whole process (--memory)")
        .strongReference(true)
        .register(registry);
    Gauge.builder("hangar_memory_accounted_bytes", manager, m -> m.accountedBytes())
        .description("The server's baseline plus the memory accounted to every loaded model")
        .strongReference(true)
        .register(registry);
    // the accounted total keeps the baseline measured at start, and the server grows after it
    Gauge.builder("hangar_memory_used_bytes", manager, m -> m.usedBytes())
        .description(
            "The budget's use: the larger of resident memory and the accounted total; a load"
                + " fits when this plus its estimate stays within the budget")
        .strongReference(true)
        .register(registry);
    answersUndelivered =
        Counter.builder("hangar_http_answers_undelivered")
            .description(
                "Answers not delivered: the client closed the connection or stopped reading first")
            .register(registry);
    Gauge.builder("hangar_models_loaded", this, metrics -> metrics.loadedVersions())
        .description("Model versions holding engine resources (warming, ready or unloading)")
        .strongReference(true)
        .register(registry);
    // a summary's quantiles come from core's histograms: Micrometer's own summaries record here
    registry.getPrometheusRegistry().register((Collector) this::latencySummary);
    manager.onTransition(
        transition -> {
          if (transition.to() == ModelState.EVICTED) {
            // the version's own counter, registered with its other meters (or now, before them)
            evictions(transition.key()).increment();
          }
        });
  }

  /**
   * The eviction counter of a version: registered with the version's other meters, so that it shows
   * 0 before the first eviction (a series that appears at 1 hides that eviction from increase() and
   * rate()) and goes with them; Micrometer returns the one registered for the same tags.
   */
  private Counter evictions(ModelVersionKey key) {
    return Counter.builder("hangar_model_evictions")
        .description("Model versions unloaded to make room for another model")
        .tags(tags(key))
        .register(registry);
  }

  /** Counts an answer its client did not receive: it closed the connection or stopped reading. */
  void answerUndelivered() {
    answersUndelivered.increment();
  }

  /** Refreshes the snapshots and returns the Prometheus text exposition. */
  public String scrape() {
    synchronized (scrapeLock) {
      refresh();
      return registry.scrape();
    }
  }

  /** Returns the registry, for adapters that add their own meters. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /**
   * The end-to-end latency of successful requests since start, per version, as a Prometheus
   * summary: the 0.5, 0.9 and 0.99 quantiles, the count and the sum. Read at scrape time, under the
   * scrape lock, from the snapshots {@link #refresh} took.
   */
  private SummarySnapshot latencySummary() {
    SummarySnapshot.Builder summary =
        SummarySnapshot.builder()
            .name("hangar_inference_request_latency_seconds")
            .help("End-to-end latency of successful requests since start");
    snapshots.forEach(
        (key, stats) -> {
          LatencySummary latency = stats.requestLatency();
          // no requests yet: a quantile of 0 would read as a real latency
          boolean none = latency.count() == 0;
          summary.dataPoint(
              SummarySnapshot.SummaryDataPointSnapshot.builder()
                  .labels(Labels.of("model", key.name(), "version", Long.toString(key.version())))
                  .quantiles(
                      Quantiles.of(
                          new Quantile(0.5, none ? Double.NaN : seconds(latency.p50())),
                          new Quantile(0.9, none ? Double.NaN : seconds(latency.p90())),
                          new Quantile(0.99, none ? Double.NaN : seconds(latency.p99()))))
                  .count(latency.count())
                  .sum(seconds(latency.total()))
                  .build());
        });
    return summary.build();
  }

  private static double seconds(Duration duration) {
    return duration.toNanos() / 1e9;
  }

  private double degraded(ModelVersionKey key) {
    ModelStatus status = statuses.get(key);
    StatisticsSnapshot stats = snapshots.get(key);
    return status != null
            && stats != null
            && ModelHealth.of(status, stats).verdict() == ModelHealth.Verdict.DEGRADED
        ? 1
        : 0;
  }

  private double loadedVersions() {
    return statuses.values().stream().filter(status -> status.state().isResident()).count();
  }

  private void refresh() {
    Map<ModelVersionKey, ModelStatus> current = new HashMap<>();
    Map<String, ModelStatus> cannotBeRead = new HashMap<>();
    for (ModelStatus status : manager.list()) {
      if (status.version() > 0) {
        current.put(status.key(), status);
      } else {
        cannotBeRead.put(status.name(), status);
      }
    }
    for (String name : List.copyOf(unreadable.keySet())) {
      if (!cannotBeRead.containsKey(name)) {
        registry.remove(unreadable.remove(name));
      }
    }
    for (String name : cannotBeRead.keySet()) {
      unreadable.computeIfAbsent(
          name,
          model ->
              Gauge.builder("hangar_model_unreadable", () -> 1)
                  .description(
                      "1 while the model's files or config.yaml cannot be read (the repository"
                          + " index says why); the model cannot be served")
                  .tags("model", model)
                  .strongReference(true)
                  .register(registry));
    }
    for (ModelVersionKey key : List.copyOf(meters.keySet())) {
      if (!current.containsKey(key)) {
        meters.remove(key).forEach(registry::remove);
        snapshots.remove(key);
        statuses.remove(key);
      }
    }
    statuses.putAll(current);
    for (ModelVersionKey key : current.keySet()) {
      manager.statistics(key).ifPresent(statistics -> snapshots.put(key, statistics.snapshot()));
      if (!meters.containsKey(key) && snapshots.containsKey(key)) {
        meters.put(key, register(key));
      }
    }
  }

  private List<Meter> register(ModelVersionKey key) {
    Tags tags = tags(key);
    List<Meter> registered = new ArrayList<>();
    registered.add(evictions(key));
    registered.add(
        counter(
            key,
            "nv_inference_request_success",
            "Successful inference requests (cache hits included)",
            StatisticsSnapshot::successes));
    for (FailureReason reason : FailureReason.values()) {
      registered.add(
          FunctionCounter.builder(
                  "nv_inference_request_failure",
                  this,
                  metrics ->
                      metrics.read(key, stats -> stats.failuresByReason().getOrDefault(reason, 0L)))
              .description("Failed inference requests, by reason")
              .tags(tags.and("reason", reason.name().toLowerCase(Locale.ROOT)))
              .register(registry));
    }
    registered.add(
        counter(
            key,
            "nv_inference_count",
            "Inferences run by the model: each row of a batch counts, as in Triton",
            StatisticsSnapshot::inferences));
    registered.add(
        counter(
            key,
            "nv_inference_exec_count",
            "Executions of the model (one per batch)",
            StatisticsSnapshot::executions));
    registered.add(
        counter(
            key,
            "nv_inference_request_duration_us",
            "Cumulative end-to-end time of successful requests, in microseconds",
            stats -> micros(stats.requestLatency().total())));
    registered.add(
        counter(
            key,
            "nv_inference_queue_duration_us",
            "Cumulative time successful requests waited in the queue, in microseconds",
            stats -> micros(stats.queueTime().total())));
    registered.add(
        counter(
            key,
            "nv_inference_compute_infer_duration_us",
            "Cumulative time successful requests spent in the model, in microseconds",
            stats -> micros(stats.computeTime().total())));
    registered.add(
        counter(
            key,
            "nv_inference_compute_input_duration_us",
            "Cumulative time building successful requests' batch inputs, in microseconds",
            stats -> micros(stats.computeInputTime())));
    registered.add(
        counter(
            key,
            "nv_inference_compute_output_duration_us",
            "Cumulative time splitting successful requests' batch outputs, in microseconds",
            stats -> micros(stats.computeOutputTime())));
    registered.add(
        counter(
            key,
            "nv_cache_num_hits_per_model",
            "Responses served from the response cache",
            StatisticsSnapshot::cacheHits));
    registered.add(
        counter(
            key,
            "nv_cache_num_misses_per_model",
            "Response cache lookups that found nothing",
            StatisticsSnapshot::cacheMisses));
    registered.add(
        counter(
            key,
            "nv_cache_hit_duration_per_model",
            "Cumulative time of response cache lookups that hit, in microseconds",
            stats -> micros(stats.cacheHitLatency().total())));
    registered.add(
        counter(
            key,
            "nv_cache_miss_duration_per_model",
            "Cumulative time of response cache lookups that missed and of storing their responses,"
                + " in microseconds",
            stats -> micros(stats.cacheMissTime())));
    registered.add(
        Gauge.builder(
                "hangar_model_memory_bytes",
                this,
                metrics -> metrics.status(key, status -> (double) status.memoryBytes()))
            .description("Memory accounted to the model version (0 when not loaded)")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    registered.add(
        Gauge.builder(
                "hangar_model_active_requests",
                this,
                metrics -> metrics.status(key, status -> (double) status.activeRequests()))
            .description("Requests queued or running on the model version")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    registered.add(
        Gauge.builder(
                "nv_inference_pending_request_count",
                this,
                metrics -> metrics.inference.queuedRequests(key))
            .description("Requests waiting in the version's queues, not yet running")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    registered.add(
        Gauge.builder(
                "hangar_model_ready",
                this,
                metrics -> metrics.status(key, status -> status.serving() ? 1 : 0))
            .description("1 when the model version serves requests, else 0")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    registered.add(
        Gauge.builder("hangar_model_degraded", this, metrics -> metrics.degraded(key))
            .description(
                "1 when the version serves but passes its health thresholds (config.yaml's"
                    + " health:), else 0")
            .tags(tags)
            .strongReference(true)
            .register(registry));
    registered.add(
        timer(
            key,
            "hangar_model_load_duration",
            "Loads of the model version and their total time, warmup excluded",
            StatisticsSnapshot::loadTimes));
    registered.add(
        timer(
            key,
            "hangar_model_warmup_duration",
            "Warmup inferences of the model version's loads and their total time",
            StatisticsSnapshot::warmupTimes));
    registered.add(
        counter(
            key,
            "hangar_model_load_failures",
            "Loads of the model version that failed or were refused (the index's reason says why)",
            StatisticsSnapshot::loadFailures));
    return registered;
  }

  private FunctionCounter counter(
      ModelVersionKey key,
      String name,
      String description,
      ToDoubleFunction<StatisticsSnapshot> fn) {
    return FunctionCounter.builder(name, this, metrics -> metrics.read(key, fn))
        .description(description)
        .tags(tags(key))
        .register(registry);
  }

  /** A count and total time read from one of the snapshot's summaries. */
  private FunctionTimer timer(
      ModelVersionKey key,
      String name,
      String description,
      Function<StatisticsSnapshot, LatencySummary> summary) {
    return FunctionTimer.builder(
            name,
            this,
            metrics -> (long) metrics.read(key, stats -> summary.apply(stats).count()),
            metrics -> metrics.read(key, stats -> summary.apply(stats).total().toNanos()),
            TimeUnit.NANOSECONDS)
        .description(description)
        .tags(tags(key))
        .register(registry);
  }

  private double read(ModelVersionKey key, ToDoubleFunction<StatisticsSnapshot> fn) {
    StatisticsSnapshot snapshot = snapshots.get(key);
    return snapshot == null ? 0 : fn.applyAsDouble(snapshot);
  }

  private double status(ModelVersionKey key, ToDoubleFunction<ModelStatus> fn) {
    ModelStatus status = statuses.get(key);
    return status == null ? 0 : fn.applyAsDouble(status);
  }

  private static double micros(Duration duration) {
    return duration.toNanos() / 1000.0;
  }

  private static Tags tags(ModelVersionKey key) {
    return Tags.of("model", key.name(), "version", Long.toString(key.version()));
  }
}
