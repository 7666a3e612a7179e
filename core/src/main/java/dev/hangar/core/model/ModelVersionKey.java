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

  /** Returns how messages name it: {@code model 'name' version N}. */
  public String describe() {
    return "model '" + name + "' version " + version;
  }

  @Override
  public String toString() {
    return name + " v" + version;
  }
}
