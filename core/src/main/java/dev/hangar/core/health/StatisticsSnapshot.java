package dev.hangar.core.health;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The statistics of one model version at one moment. Immutable.
 *
 * @param successes requests answered, from the model or the cache
 * @param failures requests failed or rejected
 * @param failuresByReason the failures, by reason (reasons with none are left out)
 * @param executions model executions (one per batch)
 * @param inferences rows the model ran, as Triton's inference_count: a request of 4 rows is 4
 * @param cacheHits responses served from the cache
 * @param cacheMisses cache lookups that found nothing
 * @param requestLatency end-to-end latency of successful requests
 * @param failureLatency time to failure of failed requests
 * @param queueTime time successful requests waited in the queue
 * @param computeTime time successful requests spent in the model (their batch's execution)
 * @param computeInputTime total time spent building successful requests' batch inputs, counted once
 *     per request as Triton counts it
 * @param computeOutputTime total time spent splitting their batches' outputs, counted likewise
 * @param cacheHitLatency time of cache lookups that hit
 * @param cacheMissTime total time of cache lookups that missed and of storing those responses
 * @param batches executions by batch size (rows)
 * @param loadTimes the durations of this version's loads
 * @param warmupTimes the durations of its warmup inferences
 * @param loadFailures loads of the version that failed or were refused
 * @param lastInference when a request last succeeded
 * @param recentRequests requests in the health window
 * @param recentErrorRate the share of them that failed
 * @param recentP99 their p99 latency
 * @param degradedReason why the model counts as DEGRADED, when it does
 */
public record StatisticsSnapshot(
    long successes,
    long failures,
    Map<FailureReason, Long> failuresByReason,
    long executions,
    long inferences,
    long cacheHits,
    long cacheMisses,
    LatencySummary requestLatency,
    LatencySummary failureLatency,
    LatencySummary queueTime,
    LatencySummary computeTime,
    Duration computeInputTime,
    Duration computeOutputTime,
    LatencySummary cacheHitLatency,
    Duration cacheMissTime,
    Map<Integer, BatchStatistics> batches,
    LatencySummary loadTimes,
    LatencySummary warmupTimes,
    long loadFailures,
    Optional<Instant> lastInference,
    long recentRequests,
    double recentErrorRate,
    Duration recentP99,
    Optional<String> degradedReason) {
  /** Copies the collections. */
  public StatisticsSnapshot {
    failuresByReason = Map.copyOf(failuresByReason);
    batches = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(batches));
  }

  /** Returns the number of requests, successful or not. */
  public long requests() {
    return successes + failures;
  }

  /** Returns the mean number of rows per execution, 0 without executions. */
  public double averageBatchSize() {
    long rows = 0;
    long count = 0;
    for (Map.Entry<Integer, BatchStatistics> entry : batches.entrySet()) {
      rows += (long) entry.getKey() * entry.getValue().count();
      count += entry.getValue().count();
    }
    return count == 0 ? 0 : rows / (double) count;
  }
}
