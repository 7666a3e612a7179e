package dev.hangar.testkit;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM by {@link BackendContract}: constructs a provider and a backend the way the
 * host does, then writes the process's memory maps so the contract can check that no native library
 * was loaded.
 */
public final class NativeLoadProbe {
  private NativeLoadProbe() {}

  /**
   * Arguments: the provider class, the cache directory, the report file.
   *
   * @throws Exception when the provider cannot be constructed or the report not written
   */
  public static void main(String[] args) throws Exception {
    BackendProvider provider =
        (BackendProvider) Class.forName(args[0]).getDeclaredConstructor().newInstance();
    try (Backend backend = provider.create(new BackendContext(Path.of(args[1])))) {
      backend.engineVersion();
      Path maps = Path.of("/proc/self/maps");
      if (!Files.exists(maps)) {
        throw new IllegalStateException("this check needs Linux's /proc/self/maps");
      }
      Files.writeString(Path.of(args[2]), Files.readString(maps));
    }
  }
}
