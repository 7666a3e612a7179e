package dev.hangar.backend.torchscript;

import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** The TorchScript fixtures of {@code src/test/resources/torchscript}, see generate_fixtures.py. */
final class Fixtures {
  private Fixtures() {}

  /** Returns the path of a fixture file. */
  static Path file(String name) {
    URL url = Fixtures.class.getResource("/torchscript/" + name);
    if (url == null) {
      throw new IllegalArgumentException("no fixture " + name);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns a source for a fixture with a declared signature and no parameters. */
  static ModelSource source(String name, Path file, ModelSignature signature) {
    return source(name, file, signature, Map.of());
  }

  /** Returns a source for a fixture with a declared signature and parameters. */
  static ModelSource source(
      String name, Path file, ModelSignature signature, Map<String, String> parameters) {
    return new ModelSource(name, 1, file, Optional.of(signature), new ModelParameters(parameters));
  }
}
