package dev.hangar.core;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.Durations;
import dev.hangar.core.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The settings of one Hangar process.
 *
 * @param repository the model repository's directory
 * @param memoryBudget the memory the whole process may hold (default 500MB)
 * @param cacheDirectory where backends keep unpacked native libraries and derived model files
 * @param pollInterval how often the repository is rescanned for changes; empty: never
 * @param responseCacheSize the response cache's capacity (default a quarter of the heap, at most
 *     64MB)
 */
public record ServerSettings(
    Path repository,
    DataSize memoryBudget,
    Path cacheDirectory,
    Optional<Duration> pollInterval,
    DataSize responseCacheSize) {
  /** The default memory budget. */
  public static final DataSize DEFAULT_MEMORY_BUDGET = DataSize.ofMegabytes(500);

  /**
   * Returns the default response cache capacity: a quarter of the heap, at most 64MB. Its entries
   * live in the heap, beside the bodies of requests in flight (half of it by default).
   */
  public static DataSize defaultResponseCache() {
    return new DataSize(Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 4));
  }

  /** Validates. */
  public ServerSettings {
    requireNonNull(repository, "repository is null");
    requireNonNull(memoryBudget, "memoryBudget is null");
    requireNonNull(cacheDirectory, "cacheDirectory is null");
    requireNonNull(pollInterval, "pollInterval is null");
    requireNonNull(responseCacheSize, "responseCacheSize is null");
    pollInterval.ifPresent(
        interval -> {
          if (interval.compareTo(ServerConfig.MIN_POLL_INTERVAL) < 0) {
            // each scan reads the whole repository: a shorter interval keeps an idle server busy
            throw new IllegalArgumentException(
                "the poll interval (--poll, poll_interval) must be at least "
                    + Durations.format(ServerConfig.MIN_POLL_INTERVAL)
                    + ", got "
                    + Durations.format(interval));
          }
        });
  }

  /** Returns settings with the defaults for everything but the repository. */
  public static ServerSettings defaults(Path repository) {
    return new ServerSettings(
        repository,
        DEFAULT_MEMORY_BUDGET,
        defaultCacheDirectory(),
        Optional.empty(),
        defaultResponseCache());
  }

  /** Returns {@code $XDG_CACHE_HOME/hangar}, or {@code ~/.cache/hangar}. */
  public static Path defaultCacheDirectory() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("hangar");
  }

  /** Returns these settings with another memory budget. */
  public ServerSettings withMemoryBudget(DataSize budget) {
    return new ServerSettings(repository, budget, cacheDirectory, pollInterval, responseCacheSize);
  }

  /** Returns these settings with another cache directory. */
  public ServerSettings withCacheDirectory(Path directory) {
    return new ServerSettings(repository, memoryBudget, directory, pollInterval, responseCacheSize);
  }

  /** Returns these settings with a poll interval. */
  public ServerSettings withPollInterval(Optional<Duration> interval) {
    return new ServerSettings(
        repository, memoryBudget, cacheDirectory, interval, responseCacheSize);
  }

  /** Returns these settings with another response cache capacity. */
  public ServerSettings withResponseCacheSize(DataSize size) {
    return new ServerSettings(repository, memoryBudget, cacheDirectory, pollInterval, size);
  }
}
