package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
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

  /**
   * Returns the model file's size in bytes, for a backend about to read it.
   *
   * @throws ModelLoadException (a user error) when the file is missing, unreadable or empty
   */
  public long checkedFileSize() {
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "model file " + file + " does not exist");
    }
    try {
      long size = Files.size(file);
      if (size == 0) {
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR, "model file " + file + " is empty (0 bytes)");
      }
      return size;
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Returns a short label for messages: {@code name (version N, path)}. */
  public String label() {
    return "'" + name + "' version " + version + " (" + file + ")";
  }
}
