package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * When a READY model counts as DEGRADED ({@code health:} in {@code config.yaml}): over the last
 * {@code window}, with at least {@code minRequests} requests, the share of failed requests passes
 * {@code maxErrorRate} or the p99 latency passes {@code maxP99Latency}.
 *
 * @param maxErrorRate the highest acceptable share of failed requests (default 0.1)
 * @param maxP99Latency the highest acceptable p99 request latency; empty (the default): no limit
 * @param window how far back the figures reach (default 1m)
 * @param minRequests how many requests the window needs before it judges (default 20)
 */
public record HealthConfig(
    double maxErrorRate, Optional<Duration> maxP99Latency, Duration window, int minRequests) {
  /** The defaults. */
  public static final HealthConfig DEFAULTS =
      new HealthConfig(0.1, Optional.empty(), Duration.ofMinutes(1), 20);

  /** Validates. */
  public HealthConfig {
    requireNonNull(maxP99Latency, "maxP99Latency is null");
    requireNonNull(window, "window is null");
    // written as a negated range so that NaN (.nan in YAML) is refused too
    if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) {
      throw new IllegalArgumentException(
          "'health.max_error_rate' must be from 0 to 1, got " + maxErrorRate);
    }
    maxP99Latency.ifPresent(
        latency -> {
          if (latency.isNegative() || latency.isZero()) {
            throw new IllegalArgumentException(
                "'health.max_p99_latency' must be positive, got " + Durations.format(latency));
          }
        });
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException(
          "'health.window' must be positive, got " + Durations.format(window));
    }
    if (minRequests < 1) {
      throw new IllegalArgumentException(
          "'health.min_requests' must be at least 1, got " + minRequests);
    }
  }
}
