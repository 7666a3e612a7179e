package dev.hangar.spi;

/**
 * The engine underneath a backend failed while running a model on inputs that passed validation.
 * Always a {@link ErrorCategory#BACKEND_FAILURE}.
 */
public class BackendException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public BackendException(String message) {
    super(ErrorCategory.BACKEND_FAILURE, message);
  }

  /** Creates the exception with a cause. */
  public BackendException(String message, Throwable cause) {
    super(ErrorCategory.BACKEND_FAILURE, message, cause);
  }
}
