package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.ConfigurationException;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options every command that reads the model repository shares. Each setting comes from its
 * flag, else its environment variable, else the {@code --config} file, else its default.
 */
final class RepositoryOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      defaultValue = "${env:HANGAR_CONFIG}",
      description =
          "A server configuration file (YAML: repository, memory_budget, cache_directory, response_cache_size, poll_interval); flags win over it (env HANGAR_CONFIG).")
  Path config;

  @Option(
      names = "--repo",
      paramLabel = "DIR",
      description = "The model repository (default: models).")
  Path repository;

  @Option(
      names = "--memory",
      paramLabel = "SIZE",
      defaultValue = "${env:HANGAR_MEMORY}",
      converter = DataSizeConverter.class,
      description =
          "The memory budget of the whole process, such as 750MB or 2GB (default: 500MB; env HANGAR_MEMORY).")
  DataSize memory;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description =
          "Where backends unpack native libraries and keep derived models (default: ~/.cache/hangar).")
  Path cacheDirectory;

  @Option(
      names = "--plugins",
      paramLabel = "DIR",
      description = "A directory of extra backend jars (default: ./plugins when it exists).")
  Path plugins;

  /** Returns the configuration file's settings, or none without a file. */
  ServerConfig file() {
    if (config == null) {
      return ServerConfig.EMPTY;
    }
    if (!Files.isRegularFile(config)) {
      throw new UsageException("--config " + config + " is not a file");
    }
    try {
      return ServerConfig.read(config);
    } catch (ConfigurationException e) {
      throw new UsageException(e.getMessage());
    }
  }

  ServerSettings settings() {
    if (repository != null && !Files.isDirectory(repository)) {
      throw new UsageException(
          "--repo "
              + repository
              + (Files.exists(repository) ? " is not a directory" : ": no such directory"));
    }
    ServerConfig file = file();
    ServerSettings settings =
        ServerSettings.defaults(
                Optional.ofNullable(repository).or(file::repository).orElse(Path.of("models")))
            .withMemoryBudget(
                Optional.ofNullable(memory)
                    .or(file::memoryBudget)
                    .orElse(ServerSettings.DEFAULT_MEMORY_BUDGET))
            .withResponseCacheSize(
                file.responseCacheSize().orElseGet(ServerSettings::defaultResponseCache))
            .withPollInterval(file.pollInterval());
    Optional<Path> cache = Optional.ofNullable(cacheDirectory).or(file::cacheDirectory);
    return cache.isPresent() ? settings.withCacheDirectory(cache.get()) : settings;
  }

  /** Parses sizes for picocli. */
  static final class DataSizeConverter implements picocli.CommandLine.ITypeConverter<DataSize> {
    @Override
    public DataSize convert(String value) {
      return DataSize.parse(value);
    }
  }
}
