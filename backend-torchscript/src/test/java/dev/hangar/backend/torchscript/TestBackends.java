package dev.hangar.backend.torchscript;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import java.nio.file.Path;

/** Backends for tests, caching libtorch where the build's tests do. */
final class TestBackends {
  private TestBackends() {}

  /** Returns a new TorchScript backend on the test cache directory. */
  static Backend create() {
    return new TorchScriptBackendProvider().create(context());
  }

  /** Returns the context the build's tests create backends with. */
  static BackendContext context() {
    String configured = System.getProperty("hangar.cache.dir");
    Path cache =
        configured != null
            ? Path.of(configured)
            : Path.of(System.getProperty("java.io.tmpdir"), "hangar-test-cache");
    return new BackendContext(cache);
  }
}
