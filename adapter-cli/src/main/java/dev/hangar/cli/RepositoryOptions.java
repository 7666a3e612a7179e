package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that reads the model repository shares. */
final class RepositoryOptions {
  @Option(
      names = "--repo",
      paramLabel = "DIR",
      defaultValue = "models",
      description = "The model repository (default: ${DEFAULT-VALUE}).")
  Path repository;

  @Option(
      names = "--memory",
      paramLabel = "SIZE",
      defaultValue = "${env:HANGAR_MEMORY:-500MB}",
      converter = DataSizeConverter.class,
      description =
          "The memory budget of the whole process, such as 750MB or 2GB (default: ${DEFAULT-VALUE}; env HANGAR_MEMORY).")
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

  ServerSettings settings() {
    ServerSettings settings = ServerSettings.defaults(repository).withMemoryBudget(memory);
    return cacheDirectory == null ? settings : settings.withCacheDirectory(cacheDirectory);
  }

  /** Parses sizes for picocli. */
  static final class DataSizeConverter implements picocli.CommandLine.ITypeConverter<DataSize> {
    @Override
    public DataSize convert(String value) {
      return DataSize.parse(value);
    }
  }
}
