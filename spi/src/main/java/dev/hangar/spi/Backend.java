package dev.hangar.spi;

import java.util.Optional;

/**
 * A configured backend, created by {@link BackendProvider#create}: it loads models of one format.
 *
 * <p>Thread-safe: the host may load several models at once. The first {@link #load} loads the
 * backend's native libraries; a failure there is a {@link ModelLoadException} that says what is
 * missing.
 *
 * <p>Lifecycle: the host calls {@link #close()} once, at shutdown, after closing every model this
 * backend loaded. Nothing is called on the backend after that.
 */
public interface Backend extends AutoCloseable {
  /**
   * Loads one model version and returns it ready to serve.
   *
   * @throws ModelLoadException when the file is missing, empty, truncated, corrupt or not supported
   *     (a {@link ErrorCategory#USER_ERROR} naming the file and the problem), or when the engine
   *     fails
   */
  LoadedModel load(ModelSource source);

  /**
   * Loads the backend's native libraries now rather than on the first {@link #load}, so that the
   * host can tell their memory from the first model's. Idempotent; the default does nothing.
   *
   * @throws ModelLoadException when the native libraries cannot be loaded
   */
  default void prepare() {}

  /**
   * Returns about how much resident memory the engine takes once {@linkplain #prepare started},
   * before any model (its libraries, thread pools, allocator), so that the host can tell before
   * starting it whether it fits the memory budget at all. The default is 0.
   */
  default long engineMemoryEstimateBytes() {
    return 0;
  }

  /**
   * Returns the version of the engine underneath, such as {@code onnxruntime 1.24.2}, for
   * diagnostics. Must not load native code.
   */
  String engineVersion();

  /**
   * Returns an optional capability of this backend, such as a {@link FormatConverter} or an
   * optimizer, when it offers it. The default offers none.
   *
   * @param type the capability interface
   */
  default <T> Optional<T> capability(Class<T> type) {
    return Optional.empty();
  }

  /** Releases what the backend holds beyond its models. The default does nothing. */
  @Override
  default void close() {}
}
