package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.ConfigurationException;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.ServerConfig;
import dev.hangar.core.repository.ModelRepository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options every command that reads the model repository shares. Each setting comes from its
 * flag, else its environment variable, else the {@code --config} file, else its default.
 */
final class RepositoryOptions {
  /** The variable that gives the memory budget when {@code --memory} does not. */
  static final String MEMORY_VARIABLE = "HANGAR_MEMORY";

  private static final Path DEFAULT_REPOSITORY = Path.of("models");

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

  /**
   * Returns the settings. Only a {@code --repo} that does not exist is refused here: commands given
   * a model file need no repository.
   */
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
                Optional.ofNullable(repository).or(file::repository).orElse(DEFAULT_REPOSITORY))
            .withMemoryBudget(
                Optional.ofNullable(memory)
                    .or(this::environmentMemory)
                    .or(file::memoryBudget)
                    .orElse(ServerSettings.DEFAULT_MEMORY_BUDGET))
            .withResponseCacheSize(
                file.responseCacheSize().orElseGet(ServerSettings::defaultResponseCache))
            .withPollInterval(file.pollInterval());
    Optional<Path> cache = Optional.ofNullable(cacheDirectory).or(file::cacheDirectory);
    return cache.isPresent() ? settings.withCacheDirectory(cache.get()) : settings;
  }

  /**
   * Returns the settings of a command that reads the repository, which must exist and be a
   * repository rather than one model's directory.
   *
   * @throws UsageException naming where the repository came from and what to give instead
   */
  ServerSettings repositorySettings() {
    ServerSettings settings = settings();
    Path root = settings.repository();
    String source = repositorySource();
    if (!Files.isDirectory(root)) {
      if (repository == null && file().repository().isEmpty()) {
        throw new UsageException(
            "no model repository: there is no directory "
                + DEFAULT_REPOSITORY
                + " in "
                + Path.of("").toAbsolutePath()
                + " (the default); give one with --repo DIR");
      }
      throw new UsageException(
          source + (Files.exists(root) ? " is not a directory" : ": no such directory"));
    }
    Optional<ModelDirectory> model = ModelDirectory.of(root);
    if (model.isPresent()) {
      throw new UsageException(
          source
              + " looks like "
              + model.get().description
              + "; give the repository that holds it: "
              + (repository != null ? "--repo " : "repository: ")
              + holderOf(repository != null ? repository : root, model.get().depth));
    }
    return settings;
  }

  /** Names where the repository comes from, as a message begins: the flag, the file's key. */
  private String repositorySource() {
    if (repository != null) {
      return "--repo " + repository;
    }
    return file()
        .repository()
        .map(path -> config + ": 'repository' " + path)
        .orElse("--repo " + DEFAULT_REPOSITORY);
  }

  /** The directory {@code levels} above {@code given}, written as relative as it was given. */
  private static Path holderOf(Path given, int levels) {
    Path path = given.normalize();
    for (int i = 0; i < levels; i++) {
      path = path.getParent();
      if (path == null) {
        // a relative path too short to name it: the absolute path does
        return holderOf(given.toAbsolutePath(), levels);
      }
    }
    return path;
  }

  /**
   * Where the memory budget comes from, as messages name it: the flag, the variable, the file's
   * key, or the default (which {@code --memory} changes).
   */
  String memorySource() {
    if (memory != null) {
      return "--memory";
    }
    if (environmentMemory().isPresent()) {
      return MEMORY_VARIABLE;
    }
    if (file().memoryBudget().isPresent()) {
      return "memory_budget in " + config;
    }
    return "the default; --memory";
  }

  /**
   * The budget {@code HANGAR_MEMORY} gives. Read here rather than as the option's default, so that
   * a bad value is reported as the variable's, not as the flag's.
   */
  private Optional<DataSize> environmentMemory() {
    String value = System.getenv(MEMORY_VARIABLE);
    if (value == null || value.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(DataSize.parse(value));
    } catch (IllegalArgumentException e) {
      throw new UsageException(
          MEMORY_VARIABLE + "=" + value + " is not a memory size: " + e.getMessage());
    }
  }

  /** What a directory given as the repository is when it is one model's rather than theirs. */
  private enum ModelDirectory {
    MODEL("one model's directory", 1),
    VERSION("a version directory of one model", 2);

    private final String description;
    // how many levels above it the repository is
    private final int depth;

    ModelDirectory(String description, int depth) {
      this.description = description;
      this.depth = depth;
    }

    /**
     * Says whether {@code directory} looks like one model's directory (it holds a {@code
     * config.yaml}, a {@code model.*} file, or a version directory with a file in it) or one of its
     * version directories (named as a whole number, holding a file); a repository holds models, and
     * none of these.
     */
    static Optional<ModelDirectory> of(Path directory) {
      Path name = directory.toAbsolutePath().normalize().getFileName();
      boolean versionName = name != null && ModelRepository.isVersionName(name.toString());
      try (Stream<Path> children = Files.list(directory)) {
        for (Path child : children.toList()) {
          String childName = child.getFileName().toString();
          if (Files.isRegularFile(child)) {
            if (versionName) {
              return Optional.of(VERSION);
            }
            if (childName.equals("config.yaml") || childName.startsWith("model.")) {
              return Optional.of(MODEL);
            }
          } else if (ModelRepository.isVersionName(childName) && holdsFile(child)) {
            return Optional.of(MODEL);
          }
        }
      } catch (IOException e) {
        return Optional.empty(); // the repository's own scan reports what cannot be read
      }
      return Optional.empty();
    }

    private static boolean holdsFile(Path directory) {
      try (Stream<Path> children = Files.list(directory)) {
        return children.anyMatch(Files::isRegularFile);
      } catch (IOException e) {
        return false;
      }
    }
  }

  /** Parses sizes for picocli. */
  static final class DataSizeConverter implements CommandLine.ITypeConverter<DataSize> {
    @Override
    public DataSize convert(String value) {
      try {
        return DataSize.parse(value);
      } catch (IllegalArgumentException e) {
        // picocli prints a conversion exception's own words; any other one with its class name
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
