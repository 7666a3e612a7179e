package dev.hangar.core.inference;

import dev.hangar.core.config.Durations;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import java.time.Duration;

/** A request's deadline passed before it ran; it was not run. */
public class DeadlineExceededException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public DeadlineExceededException(String message) {
    super(ErrorCategory.UNAVAILABLE, message);
  }

  /**
   * A request to {@code model} that waited {@code waited} ({@code waitingFor} says for what, or is
   * empty) past its {@code timeout}, and was not run.
   */
  static DeadlineExceededException notRun(
      String model, Duration waited, String waitingFor, Duration timeout) {
    return new DeadlineExceededException(
        "request to model '"
            + model
            + "' waited "
            + Durations.format(waited)
            + waitingFor
            + ", past its timeout of "
            + Durations.format(timeout)
            + "; it was not run");
  }
}
