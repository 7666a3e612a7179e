package dev.hangar.core.inference;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.CacheConfig;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.health.FailureReason;
import dev.hangar.core.health.ModelStatistics;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelVersionKey;
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
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The entry point of inference. A request takes a lease on the model version (loading it when
 * needed) and is validated against it; it is then answered from the response cache when the model
 * has one and that loaded instance answered the exact inputs before, or else joins the version's
 * {@link ModelScheduler}, which batches it with others and runs it. Statistics are recorded for
 * every request, failed ones included.
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
    manager.onUnloaded(
        unloaded -> {
          schedulers.remove(unloaded);
          cache.invalidate(unloaded);
        });
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
   * the request runs removes it from its queue. A request whose deadline passes while its model
   * loads fails then; the load goes on, and the lease it brings is released at once.
   *
   * @return a future of the response, failing with a {@link HangarException} whose category says
   *     why
   */
  public CompletableFuture<InferenceResponse> submit(InferenceRequest request) {
    long start = time.nanoTime();
    CompletableFuture<ModelLease> lease = manager.acquire(request.model(), request.version());
    if (lease.isDone() && !lease.isCompletedExceptionally()) {
      return dispatch(request, lease.join(), start, start);
    }
    // the model is loading: answer through a future whose cancellation reaches the queue
    CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
    // the first of the lease and the deadline timer takes the request, so it is counted once
    AtomicBoolean taken = new AtomicBoolean();
    if (!lease.isDone()) {
      // a lease refused at once (an unknown model, one that cannot be served) has no wait to time
      // out: its own failure answers, not a deadline of the load it never waited for
      expireWhileLoading(request, result, start, taken);
    }
    lease.whenComplete(
        (held, failure) -> {
          if (result.isDone() || !taken.compareAndSet(false, true)) {
            // it timed out or was cancelled while its model loaded: the load goes on for others
            if (held != null) {
              held.close();
            }
            return;
          }
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
          // the wait for the load is not queue time; the deadline still counts from the start
          CompletableFuture<InferenceResponse> response =
              dispatch(request, held, start, time.nanoTime());
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
   * Fails a request waiting for its model to load once its deadline passes: the request's timeout,
   * or the model's default_timeout as its config reads now (the loaded version's config sets the
   * deadline again once it is dispatched).
   */
  private void expireWhileLoading(
      InferenceRequest request,
      CompletableFuture<InferenceResponse> result,
      long start,
      AtomicBoolean taken) {
    Optional<Duration> modelDefault =
        manager
            .definition(request.model())
            .flatMap(definition -> definition.config().defaultTimeout());
    long deadline = deadline(start, request.timeout(), modelDefault);
    if (deadline == Long.MAX_VALUE) {
      return;
    }
    ScheduledFuture<?> armed =
        timer.schedule(
            () -> expireIfLoading(request, result, start, deadline, taken),
            Math.max(0, deadline - time.nanoTime()),
            TimeUnit.NANOSECONDS);
    result.whenComplete((response, failure) -> armed.cancel(false));
  }

  private void expireIfLoading(
      InferenceRequest request,
      CompletableFuture<InferenceResponse> result,
      long start,
      long deadline,
      AtomicBoolean taken) {
    if (result.isDone()) {
      return;
    }
    long now = time.nanoTime();
    if (now - deadline < 0) {
      // the timer's clock ran ahead of the time source's: look again at the deadline
      timer.schedule(
          () -> expireIfLoading(request, result, start, deadline, taken),
          deadline - now,
          TimeUnit.NANOSECONDS);
      return;
    }
    if (!taken.compareAndSet(false, true)) {
      return; // it has its lease: its queue's deadline timer takes over
    }
    DeadlineExceededException expired =
        DeadlineExceededException.notRun(
            request.model(),
            Duration.ofNanos(now - start),
            " for the model to load",
            Duration.ofNanos(deadline - start));
    statisticsOf(request)
        .ifPresent(statistics -> statistics.recordFailure(FailureReason.of(expired), now - start));
    result.completeExceptionally(expired);
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

  /**
   * Validates a request against the version it leased, answers it from the cache when it can, and
   * otherwise queues it.
   *
   * @param start when the request came, where its deadline counts from
   * @param dispatched when it got its lease, where its queue time counts from
   */
  private CompletableFuture<InferenceResponse> dispatch(
      InferenceRequest request, ModelLease lease, long start, long dispatched) {
    LoadedVersion version = lease.version();
    PendingRequest pending;
    try {
      int rows = RequestValidator.validate(request, version);
      ModelConfig config = version.config();
      CacheConfig caching = config.responseCache();
      Consumer<List<Tensor>> store = null;
      if (caching.enabled()) {
        ResponseCache.Key key = ResponseCache.keyOf(version, request.inputs());
        Optional<List<Tensor>> cached = cache.lookup(key);
        ModelStatistics statistics = version.statistics();
        if (cached.isPresent()) {
          lease.close();
          InferenceResponse response =
              new InferenceResponse(
                  request.model(),
                  version.key().version(),
                  request.id(),
                  RequestValidator.select(request, cached.get()),
                  true);
          statistics.recordCacheHit(time.nanoTime() - start);
          return CompletableFuture.completedFuture(response);
        }
        statistics.recordCacheMiss(time.nanoTime() - start);
        store =
            outputs -> {
              long storing = time.nanoTime();
              cache.store(key, outputs, caching.ttl());
              statistics.recordCacheInsertion(time.nanoTime() - storing);
            };
      }
      List<Tensor> ordered = inSignatureOrder(request.inputs(), version.signature());
      int priority = request.priority().orElse(config.batching().defaultPriority());
      long deadline = deadline(start, request.timeout(), config.defaultTimeout());
      pending =
          new PendingRequest(
              request,
              lease,
              ordered,
              rows,
              BatchKey.of(ordered),
              priority,
              start,
              dispatched,
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

  /**
   * Returns how many requests wait in the queues of a model version, not yet running (Triton's
   * pending requests); while it reloads, those of both instances.
   */
  public int queuedRequests(ModelVersionKey key) {
    int queued = 0;
    for (Map.Entry<LoadedVersion, ModelScheduler> entry : schedulers.entrySet()) {
      if (entry.getKey().key().equals(key)) {
        queued += entry.getValue().queuedRequests();
      }
    }
    return queued;
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
