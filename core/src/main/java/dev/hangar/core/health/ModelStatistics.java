package dev.hangar.core.health;

import dev.hangar.core.config.HealthConfig;
import dev.hangar.core.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The statistics of one model version, written by the inference path and the model manager, read as
 * an immutable {@link StatisticsSnapshot}. Writers never block one another: counters are {@link
 * LongAdder}s and latencies HdrHistogram recorders.
 */
public final class ModelStatistics {
  private static final int MAX_TRACKED_BATCH = 4096;

  private final TimeSource time;
  private final HealthConfig thresholds;
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
  private final AtomicLongArray batchSizes = new AtomicLongArray(MAX_TRACKED_BATCH + 1);
  private final AtomicLongArray batchInputNanos = new AtomicLongArray(MAX_TRACKED_BATCH + 1);
  private final AtomicLongArray batchComputeNanos = new AtomicLongArray(MAX_TRACKED_BATCH + 1);
  private final AtomicLongArray batchOutputNanos = new AtomicLongArray(MAX_TRACKED_BATCH + 1);
  private final List<Duration> loadTimes = new CopyOnWriteArrayList<>();
  private final List<Duration> warmupTimes = new CopyOnWriteArrayList<>();
  private final RecentWindow recent;
  private volatile Instant lastInference;

  /** Creates empty statistics judged against {@code thresholds}. */
  public ModelStatistics(TimeSource time, HealthConfig thresholds) {
    this.time = time;
    this.thresholds = thresholds;
    this.recent = new RecentWindow(time, thresholds.window());
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
    recent.record(totalNanos, false);
    lastInference = time.now();
  }

  /** Records a request that failed or was rejected. */
  public void recordFailure(FailureReason reason, long totalNanos) {
    failures.get(reason).increment();
    failureLatency.record(totalNanos);
    // a caller's cancellation says nothing about the model's health
    if (reason != FailureReason.CANCELLED) {
      recent.record(totalNanos, true);
    }
  }

  /**
   * Records one execution of the model over {@code batchSize} rows; as in Triton, each row counts
   * as an inference, whatever the requests it came in.
   */
  public void recordExecution(int batchSize, ComputeTimes compute) {
    executions.increment();
    inferences.add(batchSize);
    int slot = Math.min(Math.max(batchSize, 0), MAX_TRACKED_BATCH);
    batchSizes.incrementAndGet(slot);
    batchInputNanos.addAndGet(slot, compute.inputNanos());
    batchComputeNanos.addAndGet(slot, compute.inferNanos());
    batchOutputNanos.addAndGet(slot, compute.outputNanos());
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
    loadTimes.add(duration);
  }

  /** Records one warmup inference's duration. */
  public void recordWarmup(Duration duration) {
    warmupTimes.add(duration);
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
    Map<Integer, BatchStatistics> batches = new LinkedHashMap<>();
    for (int size = 0; size <= MAX_TRACKED_BATCH; size++) {
      long count = batchSizes.get(size);
      if (count > 0) {
        batches.put(
            size,
            new BatchStatistics(
                count,
                Duration.ofNanos(batchInputNanos.get(size)),
                Duration.ofNanos(batchComputeNanos.get(size)),
                Duration.ofNanos(batchOutputNanos.get(size))));
      }
    }
    RecentWindow.View view = recent.view();
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
        batches,
        List.copyOf(loadTimes),
        List.copyOf(warmupTimes),
        Optional.ofNullable(lastInference),
        view.requests(),
        view.errorRate(),
        view.p99(),
        degradedReason(view));
  }

  private Optional<String> degradedReason(RecentWindow.View view) {
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
}
