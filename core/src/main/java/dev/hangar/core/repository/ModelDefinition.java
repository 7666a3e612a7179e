package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.config.VersionPolicy;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model found in the repository: its name, format, configuration and versions.
 *
 * @param name the model name (the directory name, or a bare file's name without extension)
 * @param location the model's directory, or the bare file
 * @param format the backend format, such as {@code onnx}
 * @param config the configuration ({@link ModelConfig#DEFAULTS} without {@code config.yaml})
 * @param configStamp the stamp of {@code config.yaml}, {@link FileStamp#MISSING} without one
 * @param versions every version on disk, ascending
 * @param misnamedVersions directories beside the versions that hold a model file but are not named
 *     as a version ({@code 0}, {@code 01}, {@code v2}), so that no version is read from them
 */
public record ModelDefinition(
    String name,
    Path location,
    String format,
    ModelConfig config,
    FileStamp configStamp,
    List<ModelVersionFile> versions,
    List<String> misnamedVersions) {
  /** Validates and copies. */
  public ModelDefinition {
    requireNonNull(name, "name is null");
    requireNonNull(location, "location is null");
    requireNonNull(format, "format is null");
    requireNonNull(config, "config is null");
    requireNonNull(configStamp, "configStamp is null");
    versions = List.copyOf(requireNonNull(versions, "versions is null"));
    misnamedVersions = List.copyOf(requireNonNull(misnamedVersions, "misnamedVersions is null"));
  }

  /** Returns a version on disk. */
  public Optional<ModelVersionFile> version(long number) {
    return versions.stream().filter(v -> v.version() == number).findFirst();
  }

  /** Returns the versions the version policy serves, highest first. */
  public List<Long> servedVersions() {
    return config.versionPolicy().select(versions.stream().map(ModelVersionFile::version).toList());
  }

  /** Returns whether the model is a bare file in the repository's top directory. */
  public boolean isBareFile() {
    return versions.size() == 1 && versions.get(0).file().equals(location);
  }

  /**
   * Returns the versions {@code version_policy: {specific: [...]}} names that have no version
   * directory with a model file: none are served, and Triton reports them too.
   */
  public List<Long> missingSpecificVersions() {
    if (config.versionPolicy().kind() != VersionPolicy.Kind.SPECIFIC) {
      return List.of();
    }
    List<Long> onDisk = versions.stream().map(ModelVersionFile::version).toList();
    return config.versionPolicy().specific().stream()
        .filter(version -> !onDisk.contains(version))
        .toList();
  }

  /** Returns the directory relative paths in config (warmup samples) resolve against. */
  public Path directory() {
    return isBareFile() ? location.getParent() : location;
  }

  /** Returns one version as its backend loads it: declared signature and settings included. */
  public ModelSource source(ModelVersionFile version) {
    return new ModelSource(
        name, version.version(), version.file(), config.declaredSignature(), parameters());
  }

  /** Returns the backend settings of config.yaml, naming the file in their errors. */
  public ModelParameters parameters() {
    return new ModelParameters(
        config.parameters(), isBareFile() ? "" : location.resolve("config.yaml").toString());
  }
}
