package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the manager knows of one model version at one moment. Immutable.
 *
 * @param name the model name
 * @param version the version number; 0 for a model whose configuration keeps every version from
 *     being known
 * @param format the backend format, empty when the model could not be read
 * @param state the lifecycle state
 * @param serving whether an instance of it answers requests: READY, or loading again (a changed
 *     file or config) while the previous instance serves
 * @param reason why it is in that state (the failure, the eviction), when there is something to say
 * @param memoryBytes the memory accounted to it, 0 when not loaded
 * @param lastUsed when a request last released a lease on it
 * @param pinned whether it is kept loaded
 * @param isDefault whether requests that name no version go to it
 * @param activeRequests leases held right now
 * @param loadTime how long its last load took
 * @param warmupTime how long its last warmup took
 */
public record ModelStatus(
    String name,
    long version,
    Optional<String> format,
    ModelState state,
    boolean serving,
    Optional<String> reason,
    long memoryBytes,
    Optional<Instant> lastUsed,
    boolean pinned,
    boolean isDefault,
    int activeRequests,
    Optional<Duration> loadTime,
    Optional<Duration> warmupTime) {
  /** Validates. */
  public ModelStatus {
    requireNonNull(name, "name is null");
    requireNonNull(format, "format is null");
    requireNonNull(state, "state is null");
    requireNonNull(reason, "reason is null");
    requireNonNull(lastUsed, "lastUsed is null");
    requireNonNull(loadTime, "loadTime is null");
    requireNonNull(warmupTime, "warmupTime is null");
  }

  /** Returns the model and version. */
  public ModelVersionKey key() {
    return new ModelVersionKey(name, version);
  }
}
