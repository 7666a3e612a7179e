package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * Response cache settings of one model ({@code response_cache:} in {@code config.yaml}).
 *
 * @param enabled whether responses of this model are cached (default false)
 * @param ttl how long an entry lives after it is written; empty: until evicted for room
 */
public record CacheConfig(boolean enabled, Optional<Duration> ttl) {
  /** The defaults: off. */
  public static final CacheConfig DEFAULTS = new CacheConfig(false, Optional.empty());

  /** Validates. */
  public CacheConfig {
    requireNonNull(ttl, "ttl is null");
    ttl.ifPresent(
        value -> {
          if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(
                "'response_cache.ttl' must be positive, got " + Durations.format(value));
          }
        });
  }
}
