package dev.hangar.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The entry point of a backend plugin, found through {@link java.util.ServiceLoader}: a backend jar
 * lists its implementation in {@code META-INF/services/dev.hangar.spi.BackendProvider}.
 *
 * <p>Implementations must have a public no-argument constructor that does no work: constructing a
 * provider (which happens for every provider on the class path, used or not) must not load native
 * code, read files or start threads. Native code is loaded when the {@link Backend} it creates
 * loads its first model.
 */
public interface BackendProvider {
  /** Returns the short, lower-case name of the model format, such as {@code onnx}. */
  String format();

  /**
   * Returns the file extensions this backend reads, lower case with the dot, such as {@code .onnx}.
   */
  List<String> fileExtensions();

  /**
   * Returns whether this backend can read the given file. The default accepts the file when its
   * name ends with one of {@link #fileExtensions()}; a backend may also look at the content.
   */
  default boolean accepts(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return fileExtensions().stream().anyMatch(name::endsWith);
  }

  /**
   * Returns the names of the backend-specific settings a model's {@code config.yaml} may give under
   * {@code parameters:}. Any other name there is a configuration error.
   */
  default Set<String> parameterNames() {
    return Set.of();
  }

  /**
   * Creates a configured backend. Cheap: native libraries are loaded on the first {@link
   * Backend#load}.
   */
  Backend create(BackendContext context);
}
