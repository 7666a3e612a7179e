package dev.hangar.spi;

import java.util.List;
import java.util.Optional;

/**
 * One model version loaded into an engine and ready to run.
 *
 * <p>{@link #infer} is thread-safe and may be called from many threads at once.
 *
 * <p>Lifecycle: the host calls {@link #close()} exactly once, after the last in-flight {@link
 * #infer} has returned and never concurrently with one. After {@code close()} the model's native
 * memory is released, and a call to {@code infer} fails with {@link ModelClosedException}.
 */
public interface LoadedModel extends AutoCloseable {
  /** Returns the model's signature. */
  ModelSignature signature();

  /**
   * Runs the model.
   *
   * <p>The host has validated {@code inputs} against {@link #signature()}; backends validate again
   * with {@link ModelSignature#validateInputs} where a bad input could reach native code.
   *
   * @param inputs one tensor per signature input, in any order
   * @return every output of the signature, in the signature's order
   * @throws InvalidInputException when an input does not fit the model
   * @throws BackendException when the engine fails
   * @throws ModelClosedException after {@link #close()}
   */
  List<Tensor> infer(List<Tensor> inputs);

  /**
   * Returns the backend's own estimate of the memory this model holds, in bytes (weights, engine
   * state). The host measures resident memory as well; this is what the backend knows.
   */
  long memoryEstimateBytes();

  /**
   * Called once the host's warmup has run (at batch size 1 and the largest, or as configured),
   * before the model serves: the inputs seen so far are the usual ones, and a backend may treat a
   * far larger one as out of the ordinary (ONNX Runtime's arena gives back what it took). The
   * default does nothing.
   */
  default void warmedUp() {}

  /**
   * Returns an optional capability of this model, such as an optimizer, when the backend offers it.
   * The default offers none.
   *
   * @param type the capability interface
   */
  default <T> Optional<T> capability(Class<T> type) {
    return Optional.empty();
  }

  /** Releases the model's engine resources. See the class comment for when it is called. */
  @Override
  void close();
}
