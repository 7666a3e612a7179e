package dev.hangar.spi;

/**
 * A model that could not be loaded. The category tells why: {@link ErrorCategory#USER_ERROR} for a
 * file or configuration the user must fix (empty, truncated, corrupt, unsupported), {@link
 * ErrorCategory#INSUFFICIENT_RESOURCES} when it does not fit, {@link ErrorCategory#BACKEND_FAILURE}
 * when the engine failed on a valid model.
 */
public class ModelLoadException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public ModelLoadException(ErrorCategory category, String message) {
    super(category, message);
  }

  /** Creates the exception with a cause. */
  public ModelLoadException(ErrorCategory category, String message, Throwable cause) {
    super(category, message, cause);
  }
}
