package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Scheduling settings of one model ({@code dynamic_batching:} in {@code config.yaml}).
 *
 * @param maxQueueDelay how long a free execution slot waits for a fuller batch; 0 (the default)
 *     dispatches whatever is queued at once
 * @param preferredBatchSizes batch sizes (in rows) to cut batches at when more is queued
 * @param maxQueueSize requests each priority level's queue of a model holds before rejecting with
 *     queue-full (default 1024)
 * @param priorityLevels how many priority levels requests may use; 1 is the highest (default 3)
 * @param defaultPriority the level of a request that names none (default 2)
 * @param defaultTimeout the deadline of a request that names none; a request's own timeout may only
 *     shorten it. Empty: no deadline
 */
public record BatchingConfig(
    Duration maxQueueDelay,
    List<Integer> preferredBatchSizes,
    int maxQueueSize,
    int priorityLevels,
    int defaultPriority,
    Optional<Duration> defaultTimeout) {
  /** The longest {@code max_queue_delay} accepted. */
  public static final Duration MAX_QUEUE_DELAY = Duration.ofMinutes(1);

  /** The defaults. */
  public static final BatchingConfig DEFAULTS =
      new BatchingConfig(Duration.ZERO, List.of(), 1024, 3, 2, Optional.empty());

  /** Validates and copies. */
  public BatchingConfig {
    requireNonNull(maxQueueDelay, "maxQueueDelay is null");
    preferredBatchSizes =
        List.copyOf(requireNonNull(preferredBatchSizes, "preferredBatchSizes is null"));
    requireNonNull(defaultTimeout, "defaultTimeout is null");
    if (maxQueueDelay.isNegative() || maxQueueDelay.compareTo(MAX_QUEUE_DELAY) > 0) {
      // a request alone waits this long for company: past a minute it looks hung
      throw new IllegalArgumentException(
          "'dynamic_batching.max_queue_delay' must be from 0ms to 1m, got "
              + Durations.format(maxQueueDelay));
    }
    if (maxQueueSize < 1) {
      throw new IllegalArgumentException(
          "'dynamic_batching.max_queue_size' must be at least 1, got " + maxQueueSize);
    }
    if (priorityLevels < 1 || priorityLevels > 100) {
      throw new IllegalArgumentException(
          "'dynamic_batching.priority_levels' must be from 1 to 100, got " + priorityLevels);
    }
    if (defaultPriority < 1 || defaultPriority > priorityLevels) {
      throw new IllegalArgumentException(
          "'dynamic_batching.default_priority' must be from 1 to"
              + " 'dynamic_batching.priority_levels' ("
              + priorityLevels
              + "), got "
              + defaultPriority);
    }
    for (int size : preferredBatchSizes) {
      if (size < 1) {
        throw new IllegalArgumentException(
            "'dynamic_batching.preferred_batch_sizes' must hold positive sizes, got " + size);
      }
    }
    defaultTimeout.ifPresent(
        timeout -> {
          if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(
                "'dynamic_batching.default_timeout' must be positive, got "
                    + Durations.format(timeout));
          }
        });
  }
}
