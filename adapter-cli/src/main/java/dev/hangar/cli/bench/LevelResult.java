package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import dev.hangar.cli.bench.LoadGenerator.Level;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What one concurrency or rate measured, over its reported windows (the last three, or every one
 * when there were fewer).
 *
 * @param level the concurrency or rate
 * @param throughput successful inferences per second: requests times the batch size
 * @param requestRate successful requests per second
 * @param requests successful requests
 * @param latency latency of successful requests (from the intended send time in rate mode)
 * @param errors failed requests by kind
 * @param errorExamples one message per kind of error
 * @param averageBatch rows per model execution (inference_count / execution_count), when the server
 *     reports them
 * @param windowsRun measurement windows run
 * @param windowsReported the last windows the numbers come from
 * @param stable whether the last three windows' throughputs were within the stability tolerance
 * @param windowThroughputs every window's throughput, in order
 * @param lag how late the open-loop sender was, in rate mode
 */
public record LevelResult(
    Level level,
    double throughput,
    double requestRate,
    long requests,
    Latencies latency,
    Map<String, Long> errors,
    Map<String, String> errorExamples,
    OptionalDouble averageBatch,
    int windowsRun,
    int windowsReported,
    boolean stable,
    List<Double> windowThroughputs,
    Optional<ClientLag> lag) {
  /** Copies. */
  public LevelResult {
    requireNonNull(level, "level is null");
    requireNonNull(latency, "latency is null");
    errors = Map.copyOf(errors);
    errorExamples = Map.copyOf(errorExamples);
    requireNonNull(averageBatch, "averageBatch is null");
    windowThroughputs = List.copyOf(windowThroughputs);
    requireNonNull(lag, "lag is null");
  }

  /** Returns the number of failed requests. */
  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Latency percentiles in milliseconds; NaN when no request succeeded.
   *
   * @param p50 the median
   * @param p90 the 90th percentile
   * @param p95 the 95th percentile
   * @param p99 the 99th percentile
   * @param max the largest
   * @param mean the mean
   */
  public record Latencies(double p50, double p90, double p95, double p99, double max, double mean) {
    /** No successful request. */
    public static final Latencies NONE =
        new Latencies(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }

  /**
   * How far behind its schedule the open-loop sender fell.
   *
   * @param p99Ms the 99th percentile of the send delay (actual minus intended send time), ms
   * @param maxMs the largest send delay, ms
   * @param blocked sends that waited for the outstanding-request limit (the server did not answer
   *     fast enough to keep the number in flight under it)
   * @param behindMs how far behind its schedule the sender was at the worst window end, ms
   * @param keptUp whether the sender kept the rate: never blocked, and never more than a tenth of a
   *     window behind its schedule at a window's end
   */
  public record ClientLag(
      double p99Ms, double maxMs, long blocked, double behindMs, boolean keptUp) {
    /** Says in a few words how the sender did, for tables. */
    public String verdict() {
      if (blocked > 0) {
        return String.format(java.util.Locale.ROOT, "limit hit (%d sends waited)", blocked);
      }
      if (!keptUp) {
        return String.format(java.util.Locale.ROOT, "behind by %.0f ms", behindMs);
      }
      if (p99Ms > LoadGenerator.LATE.toNanos() / 1e6) {
        return String.format(java.util.Locale.ROOT, "kept up, p99 %.1f ms late", p99Ms);
      }
      return "kept up";
    }
  }
}
