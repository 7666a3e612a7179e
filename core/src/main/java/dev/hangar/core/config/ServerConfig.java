package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The settings of a server configuration file ({@code --config hangar.yaml}); flags given on the
 * command line win over them. Every key is optional, an unknown one is an error.
 *
 * <pre>
 * repository: models           # the model repository
 * memory_budget: 750MB         # the whole process's memory budget
 * cache_directory: /var/cache/hangar
 * response_cache_size: 64MB
 * poll_interval: 5s            # rescan the repository (serve)
 * </pre>
 *
 * @param repository the model repository, relative paths against the file's directory
 * @param memoryBudget the memory budget
 * @param cacheDirectory the cache directory, relative paths against the file's directory
 * @param responseCacheSize the response cache's capacity
 * @param pollInterval how often {@code serve} rescans the repository
 */
public record ServerConfig(
    Optional<Path> repository,
    Optional<DataSize> memoryBudget,
    Optional<Path> cacheDirectory,
    Optional<DataSize> responseCacheSize,
    Optional<Duration> pollInterval) {
  /** The shortest poll interval: each scan reads the whole repository. */
  public static final Duration MIN_POLL_INTERVAL = Duration.ofMillis(100);

  /** A file with nothing set. */
  public static final ServerConfig EMPTY =
      new ServerConfig(
          Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

  /** Validates. */
  public ServerConfig {
    requireNonNull(repository, "repository is null");
    requireNonNull(memoryBudget, "memoryBudget is null");
    requireNonNull(cacheDirectory, "cacheDirectory is null");
    requireNonNull(responseCacheSize, "responseCacheSize is null");
    requireNonNull(pollInterval, "pollInterval is null");
  }

  /**
   * Reads a server configuration file.
   *
   * @throws ConfigurationException naming the file, the key and the problem
   */
  public static ServerConfig read(Path file) {
    ConfigNode node = ConfigFiles.read(file);
    Path base = file.toAbsolutePath().getParent();
    ServerConfig config =
        new ServerConfig(
            node.string("repository").map(base::resolve),
            node.size("memory_budget"),
            node.string("cache_directory").map(base::resolve),
            node.size("response_cache_size"),
            node.duration("poll_interval"));
    node.finish();
    config
        .pollInterval()
        .filter(interval -> interval.compareTo(MIN_POLL_INTERVAL) < 0)
        .ifPresent(
            interval -> {
              throw node.error(
                  "poll_interval", "must be at least " + Durations.format(MIN_POLL_INTERVAL));
            });
    return config;
  }
}
