package dev.hangar.core.model;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/** The model exists but cannot serve now: it failed to load, or it is being unloaded. */
public class ModelUnavailableException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public ModelUnavailableException(String message) {
    super(ErrorCategory.UNAVAILABLE, message);
  }

  /** Creates the exception with a cause. */
  public ModelUnavailableException(String message, Throwable cause) {
    super(ErrorCategory.UNAVAILABLE, message, cause);
  }
}
