package dev.hangar.core.health;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.model.ModelStatus;

/**
 * Everything the health monitor knows of one model version at one moment: its lifecycle status, its
 * statistics and the verdict. Immutable.
 *
 * @param status the lifecycle state, memory, last use, load and warmup time
 * @param statistics requests, failures by reason, latency percentiles, queue and compute time
 * @param verdict READY, DEGRADED or NOT_READY
 */
public record ModelHealth(ModelStatus status, StatisticsSnapshot statistics, Verdict verdict) {
  /** How a model version is doing. */
  public enum Verdict {
    /** READY and within its health thresholds. */
    HEALTHY,
    /** READY, but its recent error rate or p99 latency passes the thresholds in its config. */
    DEGRADED,
    /** Not READY (loading, failed, unloaded...). */
    NOT_READY
  }

  /** Validates. */
  public ModelHealth {
    requireNonNull(status, "status is null");
    requireNonNull(statistics, "statistics is null");
    requireNonNull(verdict, "verdict is null");
  }

  /** Judges a version from its status and statistics. */
  public static ModelHealth of(ModelStatus status, StatisticsSnapshot statistics) {
    Verdict verdict;
    if (!status.serving()) {
      verdict = Verdict.NOT_READY;
    } else if (statistics.degradedReason().isPresent()) {
      verdict = Verdict.DEGRADED;
    } else {
      verdict = Verdict.HEALTHY;
    }
    return new ModelHealth(status, statistics, verdict);
  }
}
