package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

/**
 * Names one version of one model.
 *
 * @param name the model name
 * @param version the version number
 */
public record ModelVersionKey(String name, long version) {
  /** Validates. */
  public ModelVersionKey {
    requireNonNull(name, "name is null");
  }

  @Override
  public String toString() {
    return name + " v" + version;
  }
}
