package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.HangarException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One model name found in the repository: a usable definition, or the problem that keeps the model
 * from being served (a bad config, no model file, ...). A problem in one model never stops the
 * others.
 *
 * @param name the model name
 * @param location where it was found
 * @param definition the definition, when the model is usable
 * @param problem what is wrong, when it is not
 */
public record RepositoryEntry(
    String name,
    Path location,
    Optional<ModelDefinition> definition,
    Optional<HangarException> problem) {
  /** Validates: exactly one of definition and problem. */
  public RepositoryEntry {
    requireNonNull(name, "name is null");
    requireNonNull(location, "location is null");
    requireNonNull(definition, "definition is null");
    requireNonNull(problem, "problem is null");
    if (definition.isPresent() == problem.isPresent()) {
      throw new IllegalArgumentException("an entry has either a definition or a problem");
    }
  }

  /**
   * Returns when the model's files were last written, in milliseconds since the epoch: the newest
   * modification time of its config and version files, or for a model that cannot be served, of its
   * config and location. (A file moved into place whole keeps its time: it needs no waiting.)
   */
  public long lastModifiedMillis() {
    if (definition.isPresent()) {
      ModelDefinition model = definition.get();
      long newest = model.configStamp().modified().toEpochMilli();
      for (ModelVersionFile version : model.versions()) {
        newest = Math.max(newest, version.stamp().modified().toEpochMilli());
      }
      return newest;
    }
    return Math.max(
        FileStamp.of(location).modified().toEpochMilli(),
        FileStamp.of(location.resolve(ModelRepository.CONFIG_FILE)).modified().toEpochMilli());
  }

  /** An entry for a usable model. */
  public static RepositoryEntry of(ModelDefinition definition) {
    return new RepositoryEntry(
        definition.name(), definition.location(), Optional.of(definition), Optional.empty());
  }

  /** An entry for a model that cannot be served. */
  public static RepositoryEntry broken(String name, Path location, HangarException problem) {
    return new RepositoryEntry(name, location, Optional.empty(), Optional.of(problem));
  }
}
