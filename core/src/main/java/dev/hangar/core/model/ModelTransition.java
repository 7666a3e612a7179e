package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * One change of a model version's state, as the manager logs it.
 *
 * @param key the model version
 * @param from the state before
 * @param to the state after
 * @param detail why, or what it took
 */
public record ModelTransition(
    ModelVersionKey key, ModelState from, ModelState to, Optional<String> detail) {
  /** Validates. */
  public ModelTransition {
    requireNonNull(key, "key is null");
    requireNonNull(from, "from is null");
    requireNonNull(to, "to is null");
    requireNonNull(detail, "detail is null");
  }
}
