package dev.hangar.backend.torchscript;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import java.util.List;
import java.util.Set;

/**
 * The TorchScript backend's entry point, found through {@link java.util.ServiceLoader}.
 * Constructing it, and creating a backend with it, touches no native code: libtorch is unpacked and
 * loaded by the first model load.
 */
public final class TorchScriptBackendProvider implements BackendProvider {
  /** The format name models of this backend are listed under. */
  public static final String FORMAT = "torchscript";

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public List<String> fileExtensions() {
    return List.of(".pt");
  }

  @Override
  public Set<String> parameterNames() {
    return TorchScriptSettings.PARAMETER_NAMES;
  }

  @Override
  public Backend create(BackendContext context) {
    return new TorchScriptBackend(
        new LibTorchRuntime(
            context.cacheDirectoryFor(FORMAT), TorchScriptBackendProvider.class.getClassLoader()));
  }
}
