package dev.hangar.core.health;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.HealthConfig;
import dev.hangar.core.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The statistics of one model version, written by the inference path and the model manager, read as
 * an immutable {@link StatisticsSnapshot}. Writers never block one another: counters are {@link
 * LongAdder}s and latencies HdrHistogram recorders.
 */
public final class ModelStatistics {
  private static final int MAX_TRACKED_BATCH = 4096;

  private final TimeSource time;
  private volatile HealthConfig thresholds;
  private final LongAdder successes = new LongAdder();
  private final EnumMap<FailureReason, LongAdder> failures = new EnumMap<>(FailureReason.class);
  private final LongAdder executions = new LongAdder();
  private final LongAdder inferences = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder cacheMisses = new LongAdder();
  private final LongAdder cacheMissNanos = new LongAdder();
  private final DurationHistogram requestLatency = new DurationHistogram();
  private final DurationHistogram failureLatency = new DurationHistogram();
  private final DurationHistogram queueTime = new DurationHistogram();
  private final DurationHistogram computeTime = new DurationHistogram();
  private final LongAdder computeInputNanos = new LongAdder();
  private final LongAdder computeOutputNanos = new LongAdder();
  private final DurationHistogram cacheHitLatency = new DurationHistogram();
  // by rows, only the sizes that ran: every version the repository lists has statistics
  private final ConcurrentHashMap<Integer, BatchCounters> batches = new ConcurrentHashMap<>();
  private final DurationHistogram loadTimes = new DurationHistogram();
  private final DurationHistogram warmupTimes = new DurationHistogram();
  private final LongAdder loadFailures = new LongAdder();
  // created at the first request the window counts, and again when its length changes
  private volatile RecentWindow recent;
  private volatile Instant lastInference;

  /** Creates empty statistics judged against {@code thresholds}. */
  public ModelStatistics(TimeSource time, HealthConfig thresholds) {
    this.time = time;
    this.thresholds = requireNonNull(thresholds, "thresholds is null");
    for (FailureReason reason : FailureReason.values()) {
      failures.put(reason, new LongAdder());
    }
  }

  /** Records a request that succeeded: its time queued, its batch's execution, and end to end. */
  public void recordSuccess(long queueNanos, ComputeTimes compute, long totalNanos) {
    successes.increment();
    queueTime.record(queueNanos);
    computeInputNanos.add(compute.inputNanos());
    computeTime.record(compute.inferNanos());
    computeOutputNanos.add(compute.outputNanos());
    requestLatency.record(totalNanos);
    recent().record(totalNanos, false);
    lastInference = time.now();
  }

  /**
   * Records a request that failed or was rejected. Only the model's own failures (its engine's and
   * Hangar's) count against its health: a client's bad input or too short a deadline, a full queue,
   * a model that is not loaded or does not fit say nothing of the model, and are counted under
   * their own reasons.
   */
  public void recordFailure(FailureReason reason, long totalNanos) {
    failures.get(reason).increment();
    failureLatency.record(totalNanos);
    if (reason == FailureReason.BACKEND_FAILURE || reason == FailureReason.INTERNAL) {
      recent().record(totalNanos, true);
    }
  }

  /**
   * Judges health by {@code thresholds} from now on (the model's config changed); a new window
   * length starts the window afresh.
   */
  public void setThresholds(HealthConfig thresholds) {
    requireNonNull(thresholds, "thresholds is null");
    synchronized (this) {
      if (!thresholds.window().equals(this.thresholds.window())) {
        recent = null;
      }
      this.thresholds = thresholds;
    }
  }

  private RecentWindow recent() {
    RecentWindow window = recent;
    if (window != null) {
      return window;
    }
    synchronized (this) {
      if (recent == null) {
        recent = new RecentWindow(time, thresholds.window());
      }
      return recent;
    }
  }

  /**
   * Records one execution of the model over {@code batchSize} rows; as in Triton, each row counts
   * as an inference, whatever the requests it came in.
   */
  public void recordExecution(int batchSize, ComputeTimes compute) {
    executions.increment();
    inferences.add(batchSize);
    int size = Math.min(Math.max(batchSize, 0), MAX_TRACKED_BATCH);
    BatchCounters counters = batches.get(size);
    if (counters == null) {
      counters = batches.computeIfAbsent(size, s -> new BatchCounters());
    }
    counters.record(compute);
  }

  /**
   * Returns how many executions ran and requests failed so far: a count that grows whenever the
   * model runs anything, read cheaply (the memory manager's test of a load measured in quiet).
   */
  public long workCount() {
    long work = executions.sum();
    for (LongAdder failed : failures.values()) {
      work += failed.sum();
    }
    return work;
  }

  /** Records a response served from the cache, and how long the lookup took. */
  public void recordCacheHit(long lookupNanos) {
    cacheHits.increment();
    cacheHitLatency.record(lookupNanos);
    successes.increment();
    requestLatency.record(lookupNanos);
    recent.record(lookupNanos, false);
    lastInference = time.now();
  }

  /** Records a cache lookup that found nothing, and how long it took. */
  public void recordCacheMiss(long lookupNanos) {
    cacheMisses.increment();
    cacheMissNanos.add(lookupNanos);
  }

  /** Records the storing of a missed response once it was computed: a miss's time, as in Triton. */
  public void recordCacheInsertion(long insertionNanos) {
    cacheMissNanos.add(insertionNanos);
  }

  /** Records a load's duration. */
  public void recordLoad(Duration duration) {
    loadTimes.record(duration.toNanos());
  }

  /** Records a load that failed or was refused. */
  public void recordLoadFailure() {
    loadFailures.increment();
  }

  /** Records one warmup inference's duration. */
  public void recordWarmup(Duration duration) {
    warmupTimes.record(duration.toNanos());
  }

  /** Returns an immutable snapshot, with the health verdict over the recent window. */
  public StatisticsSnapshot snapshot() {
    Map<FailureReason, Long> failureCounts = new EnumMap<>(FailureReason.class);
    long failed = 0;
    for (Map.Entry<FailureReason, LongAdder> entry : failures.entrySet()) {
      long count = entry.getValue().sum();
      failed += count;
      if (count > 0) {
        failureCounts.put(entry.getKey(), count);
      }
    }
    Map<Integer, BatchStatistics> bySize = new LinkedHashMap<>();
    for (Map.Entry<Integer, BatchCounters> entry : new TreeMap<>(batches).entrySet()) {
      bySize.put(entry.getKey(), entry.getValue().statistics());
    }
    RecentWindow window = recent;
    RecentWindow.View view = window == null ? RecentWindow.View.NONE : window.view();
    return new StatisticsSnapshot(
        successes.sum(),
        failed,
        failureCounts,
        executions.sum(),
        inferences.sum(),
        cacheHits.sum(),
        cacheMisses.sum(),
        requestLatency.summary(),
        failureLatency.summary(),
        queueTime.summary(),
        computeTime.summary(),
        Duration.ofNanos(computeInputNanos.sum()),
        Duration.ofNanos(computeOutputNanos.sum()),
        cacheHitLatency.summary(),
        Duration.ofNanos(cacheMissNanos.sum()),
        bySize,
        loadTimes.summary(),
        warmupTimes.summary(),
        loadFailures.sum(),
        Optional.ofNullable(lastInference),
        view.requests(),
        view.errorRate(),
        view.p99(),
        degradedReason(view));
  }

  private Optional<String> degradedReason(RecentWindow.View view) {
    HealthConfig thresholds = this.thresholds;
    if (view.requests() < thresholds.minRequests()) {
      return Optional.empty();
    }
    if (view.errorRate() > thresholds.maxErrorRate()) {
      return Optional.of(
          String.format(
              java.util.Locale.ROOT,
              "error rate %.1f%% over the last %s passes %.1f%%",
              view.errorRate() * 100,
              dev.hangar.core.config.Durations.format(thresholds.window()),
              thresholds.maxErrorRate() * 100));
    }
    if (thresholds.maxP99Latency().isPresent()
        && view.p99().compareTo(thresholds.maxP99Latency().get()) > 0) {
      return Optional.of(
          "p99 latency "
              + dev.hangar.core.config.Durations.format(view.p99())
              + " over the last "
              + dev.hangar.core.config.Durations.format(thresholds.window())
              + " passes "
              + dev.hangar.core.config.Durations.format(thresholds.maxP99Latency().get()));
    }
    return Optional.empty();
  }

  /** The executions of one batch size. */
  private static final class BatchCounters {
    private final LongAdder count = new LongAdder();
    private final LongAdder inputNanos = new LongAdder();
    private final LongAdder computeNanos = new LongAdder();
    private final LongAdder outputNanos = new LongAdder();

    void record(ComputeTimes compute) {
      count.increment();
      inputNanos.add(compute.inputNanos());
      computeNanos.add(compute.inferNanos());
      outputNanos.add(compute.outputNanos());
    }

    BatchStatistics statistics() {
      return new BatchStatistics(
          count.sum(),
          Duration.ofNanos(inputNanos.sum()),
          Duration.ofNanos(computeNanos.sum()),
          Duration.ofNanos(outputNanos.sum()));
    }
  }
}
