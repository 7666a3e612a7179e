package dev.hangar.backend.coreml;

import dev.hangar.backend.onnx.OnnxBackend;
import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import java.util.List;
import java.util.Set;

/**
 * The CoreML backend's entry point, found through {@link java.util.ServiceLoader}. It serves {@code
 * .mlmodel} files by compiling them to ONNX and running them on ONNX Runtime. Constructing it, or
 * the backend it creates, touches no native code.
 */
public final class CoreMlBackendProvider implements BackendProvider {
  /** The format name models of this backend are listed under. */
  public static final String FORMAT = "coreml";

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public List<String> fileExtensions() {
    return List.of(".mlmodel");
  }

  /** The ONNX Runtime session settings, since the compiled graph runs on ONNX Runtime. */
  @Override
  public Set<String> parameterNames() {
    return new OnnxBackendProvider().parameterNames();
  }

  @Override
  public Backend create(BackendContext context) {
    return new CoreMlBackend((OnnxBackend) new OnnxBackendProvider().create(context));
  }
}
