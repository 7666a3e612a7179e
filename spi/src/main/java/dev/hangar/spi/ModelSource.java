package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One version of one model, as the host hands it to a backend to load.
 *
 * @param name the model name
 * @param version the version number
 * @param file the model file
 * @param declaredSignature the signature from the model's configuration, when it declares one;
 *     backends whose files carry a signature check it against the file, and backends whose files
 *     carry none take it as is
 * @param parameters the backend-specific settings from the model's configuration
 */
public record ModelSource(
    String name,
    long version,
    Path file,
    Optional<ModelSignature> declaredSignature,
    ModelParameters parameters) {
  /** Validates. */
  public ModelSource {
    requireNonNull(name, "name is null");
    requireNonNull(file, "file is null");
    requireNonNull(declaredSignature, "declaredSignature is null");
    requireNonNull(parameters, "parameters is null");
  }

  /** Returns a source with no configuration: no declared signature, no parameters. */
  public static ModelSource of(String name, long version, Path file) {
    return new ModelSource(name, version, file, Optional.empty(), ModelParameters.empty());
  }

  /** Returns a short label for messages: {@code name (version N, path)}. */
  public String label() {
    return "'" + name + "' version " + version + " (" + file + ")";
  }
}
