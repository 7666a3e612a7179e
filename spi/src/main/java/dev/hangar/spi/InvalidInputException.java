package dev.hangar.spi;

/**
 * An inference request whose inputs do not fit the model: a missing or unknown input, a wrong
 * datatype or shape, or values the backend cannot accept. Always a {@link
 * ErrorCategory#USER_ERROR}.
 */
public class InvalidInputException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the offending input. */
  public InvalidInputException(String message) {
    super(ErrorCategory.USER_ERROR, message);
  }

  /** Creates the exception with a message naming the offending input, and a cause. */
  public InvalidInputException(String message, Throwable cause) {
    super(ErrorCategory.USER_ERROR, message, cause);
  }
}
