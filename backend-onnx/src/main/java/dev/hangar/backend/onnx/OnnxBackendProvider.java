package dev.hangar.backend.onnx;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import java.util.List;
import java.util.Set;

/**
 * The ONNX Runtime backend's entry point, found through {@link java.util.ServiceLoader}.
 * Constructing it touches no native code.
 */
public final class OnnxBackendProvider implements BackendProvider {
  /** The format name models of this backend are listed under. */
  public static final String FORMAT = "onnx";

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public List<String> fileExtensions() {
    return List.of(".onnx");
  }

  @Override
  public Set<String> parameterNames() {
    return OnnxSessionSettings.PARAMETER_NAMES;
  }

  @Override
  public Backend create(BackendContext context) {
    java.nio.file.Path cache = context.cacheDirectoryFor(FORMAT);
    return new OnnxBackend(new OnnxNativeLibrary(cache), cache);
  }
}
