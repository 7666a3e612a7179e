package dev.hangar.core.inference;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/** A request's deadline passed before it ran; it was not run. */
public class DeadlineExceededException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public DeadlineExceededException(String message) {
    super(ErrorCategory.UNAVAILABLE, message);
  }
}
