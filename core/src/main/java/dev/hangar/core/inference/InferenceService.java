package dev.hangar.core.inference;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.CacheConfig;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.health.FailureReason;
import dev.hangar.core.health.ModelStatistics;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * The entry point of inference. A request is answered from the response cache when its model has
 * one and holds the exact inputs; otherwise it takes a lease on the model version (loading it when
 * needed), is validated, and joins that version's {@link ModelScheduler}, which batches it with
 * others and runs it. Statistics are recorded for every request, failed ones included.
 */
public final class InferenceService {
  private final ModelManager manager;
  private final ResponseCache cache;
  private final Executor workers;
  private final int answerHelpers;
  private final ScheduledExecutorService timer;
  private final TimeSource time;
  private final Map<LoadedVersion, ModelScheduler> schedulers = new ConcurrentHashMap<>();

  /**
   * Creates the service.
   *
   * @param workers where batches run when the caller's thread does not run them, and where their
   *     requests are answered: the futures {@link #submit} returns complete there
   * @param answerHelpers how many other workers may answer one batch's requests while the worker
   *     that ran it goes on (0: that worker answers them itself); see {@link #answerHelpersFor}
   * @param timer where deadlines and batching delays fire
   */
  public InferenceService(
      ModelManager manager,
      ResponseCache cache,
      Executor workers,
      int answerHelpers,
      ScheduledExecutorService timer,
      TimeSource time) {
    if (answerHelpers < 0) {
      throw new IllegalArgumentException("answerHelpers cannot be negative: " + answerHelpers);
    }
    this.manager = requireNonNull(manager, "manager is null");
    this.cache = requireNonNull(cache, "cache is null");
    this.workers = requireNonNull(workers, "workers is null");
    this.answerHelpers = answerHelpers;
    this.timer = requireNonNull(timer, "timer is null");
    this.time = requireNonNull(time, "time is null");
    manager.onUnloaded(schedulers::remove);
  }

  /**
   * Returns the answer helpers for a machine of {@code cores}: half the cores less the worker's own
   * one. On 2 cores that is none: there a hand-off costs a thread wake-up and gains no core, and
   * measured 20 to 40% fewer requests a second over HTTP at 16 connections. On 16 cores it is 7:
   * answering on the worker alone held a small model to half of what the HTTP server carries.
   */
  public static int answerHelpersFor(int cores) {
    return Math.max(0, cores / 2 - 1);
  }

  /** Returns {@link #answerHelpersFor} the cores this JVM may use. */
  public static int answerHelpersForThisMachine() {
    return answerHelpersFor(Runtime.getRuntime().availableProcessors());
  }

  /** Returns the response cache, for its statistics. */
  public ResponseCache cache() {
    return cache;
  }

  /**
   * Runs a request asynchronously. When a model slot is free and nobody waits, the model runs on
   * the calling thread and the returned future is already complete. Cancelling the future before
   * the request runs removes it from its queue.
   *
   * @return a future of the response, failing with a {@link HangarException} whose category says
   *     why
   */
  public CompletableFuture<InferenceResponse> submit(InferenceRequest request) {
    long start = time.nanoTime();
    Optional<ModelDefinition> definition = manager.definition(request.model());
    CacheConfig caching =
        definition.map(d -> d.config().responseCache()).orElse(CacheConfig.DEFAULTS);
    ResponseCache.Key key = null;
    if (caching.enabled()) {
      OptionalLong version =
          request.version().isPresent()
              ? request.version()
              : manager.defaultVersion(request.model());
      if (version.isPresent()) {
        key = ResponseCache.keyOf(request.model(), version.getAsLong(), request.inputs());
        Optional<CompletableFuture<InferenceResponse>> hit = fromCache(request, key, start);
        if (hit.isPresent()) {
          return hit.get();
        }
      }
    }
    CompletableFuture<ModelLease> lease = manager.acquire(request.model(), request.version());
    ResponseCache.Key cacheKey = key;
    if (lease.isDone() && !lease.isCompletedExceptionally()) {
      return dispatch(request, lease.join(), start, cacheKey, caching);
    }
    // the model is loading: answer through a future whose cancellation reaches the queue
    CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
    lease.whenComplete(
        (held, failure) -> {
          if (failure != null) {
            Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause()
                    : failure;
            // the model could not be had (it did not fit, failed to load, is unloading): a failed
            // request of the version it went to, when there is one
            statisticsOf(request)
                .ifPresent(
                    statistics ->
                        statistics.recordFailure(FailureReason.of(cause), time.nanoTime() - start));
            result.completeExceptionally(cause);
            return;
          }
          if (result.isDone()) {
            held.close();
            return;
          }
          CompletableFuture<InferenceResponse> response =
              dispatch(request, held, start, cacheKey, caching);
          response.whenComplete(
              (value, error) -> {
                if (error != null) {
                  result.completeExceptionally(error);
                } else {
                  result.complete(value);
                }
              });
          result.whenComplete(
              (value, error) -> {
                if (error instanceof CancellationException) {
                  response.cancel(false);
                }
              });
        });
    return result;
  }

  /**
   * Runs a request and waits for its response.
   *
   * @throws HangarException whose category says why it failed
   */
  public InferenceResponse infer(InferenceRequest request) {
    try {
      return submit(request).get();
    } catch (ExecutionException | CompletionException e) {
      throw rethrow(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HangarException(
          ErrorCategory.UNAVAILABLE,
          "interrupted while waiting for model '" + request.model() + "'",
          e);
    }
  }

  /** The statistics of the version a request names, or of the default one; without a lock. */
  private Optional<ModelStatistics> statisticsOf(InferenceRequest request) {
    return manager.servedStatistics(
        request.model(),
        request.version().orElseGet(() -> manager.defaultVersion(request.model()).orElse(-1)));
  }

  private Optional<CompletableFuture<InferenceResponse>> fromCache(
      InferenceRequest request, ResponseCache.Key key, long start) {
    Optional<List<Tensor>> cached = cache.lookup(key);
    Optional<ModelStatistics> statistics = statisticsOf(request);
    if (cached.isEmpty()) {
      statistics.ifPresent(s -> s.recordCacheMiss(time.nanoTime() - start));
      return Optional.empty();
    }
    List<Tensor> outputs = cached.get();
    for (String name : request.outputs()) {
      if (outputs.stream().noneMatch(output -> output.name().equals(name))) {
        // asked for an output the model does not have: let validation say so
        return Optional.empty();
      }
    }
    long version =
        request.version().orElseGet(() -> manager.defaultVersion(request.model()).orElse(0));
    InferenceResponse response =
        new InferenceResponse(
            request.model(),
            version,
            request.id(),
            RequestValidator.select(request, outputs),
            true);
    statistics.ifPresent(s -> s.recordCacheHit(time.nanoTime() - start));
    return Optional.of(CompletableFuture.completedFuture(response));
  }

  private CompletableFuture<InferenceResponse> dispatch(
      InferenceRequest request,
      ModelLease lease,
      long start,
      ResponseCache.Key cacheKey,
      CacheConfig caching) {
    LoadedVersion version = lease.version();
    PendingRequest pending;
    try {
      int rows = RequestValidator.validate(request, version);
      List<Tensor> ordered = inSignatureOrder(request.inputs(), version.signature());
      ModelConfig config = version.config();
      int priority = request.priority().orElse(config.batching().defaultPriority());
      long deadline = deadline(start, request.timeout(), config.defaultTimeout());
      Consumer<List<Tensor>> store = null;
      if (cacheKey != null && cacheKey.version() == version.key().version()) {
        ModelStatistics statistics = version.statistics();
        store =
            outputs -> {
              long storing = time.nanoTime();
              cache.store(cacheKey, outputs, caching.ttl());
              statistics.recordCacheInsertion(time.nanoTime() - storing);
            };
      }
      pending =
          new PendingRequest(
              request,
              lease,
              ordered,
              rows,
              BatchKey.of(ordered),
              priority,
              start,
              deadline,
              store);
    } catch (RuntimeException e) {
      lease.close();
      version.statistics().recordFailure(FailureReason.of(e), time.nanoTime() - start);
      return CompletableFuture.failedFuture(e);
    }
    schedulers
        .computeIfAbsent(
            version, loaded -> new ModelScheduler(loaded, workers, answerHelpers, timer, time))
        .submit(pending);
    return pending.response;
  }

  private static List<Tensor> inSignatureOrder(List<Tensor> inputs, ModelSignature signature) {
    List<TensorSpec> specs = signature.inputs();
    if (specs.size() == 1) {
      return inputs;
    }
    List<Tensor> ordered = new ArrayList<>(specs.size());
    for (TensorSpec spec : specs) {
      for (Tensor input : inputs) {
        if (input.name().equals(spec.name())) {
          ordered.add(input);
          break;
        }
      }
    }
    return ordered;
  }

  private static long deadline(
      long start, Optional<Duration> requested, Optional<Duration> modelDefault) {
    Optional<Duration> timeout = requested;
    if (modelDefault.isPresent()
        && (timeout.isEmpty() || timeout.get().compareTo(modelDefault.get()) > 0)) {
      // a request's own timeout may only shorten the model's
      timeout = modelDefault;
    }
    return timeout.map(value -> start + value.toNanos()).orElse(Long.MAX_VALUE);
  }

  /** Returns how many requests wait in the queues of a loaded version; 0 when it has no queue. */
  public int queuedRequests(LoadedVersion version) {
    ModelScheduler scheduler = schedulers.get(version);
    return scheduler == null ? 0 : scheduler.queuedRequests();
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    if (cause instanceof CancellationException cancelled) {
      return cancelled;
    }
    return new HangarException(ErrorCategory.INTERNAL, String.valueOf(cause), cause);
  }
}
