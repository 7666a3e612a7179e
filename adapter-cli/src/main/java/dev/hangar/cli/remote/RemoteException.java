package dev.hangar.cli.remote;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/**
 * A server answered with an error, or could not be reached. The message is one line naming the URL
 * or the server's own error; {@link #status()} is the HTTP status, 0 when there was no answer.
 */
public final class RemoteException extends HangarException {
  private static final long serialVersionUID = 1L;

  private final int status;

  RemoteException(ErrorCategory category, int status, String message, Throwable cause) {
    super(category, message, cause);
    this.status = status;
  }

  /** Returns the HTTP status of the answer, 0 when the server did not answer. */
  public int status() {
    return status;
  }

  /** The category of an HTTP error status: the inverse of the HTTP adapter's mapping. */
  static ErrorCategory categoryOf(int status) {
    return switch (status) {
      case 400, 413 -> ErrorCategory.USER_ERROR;
      case 404 -> ErrorCategory.NOT_FOUND;
      case 503 -> ErrorCategory.UNAVAILABLE;
      case 507 -> ErrorCategory.INSUFFICIENT_RESOURCES;
      default -> ErrorCategory.INTERNAL;
    };
  }
}
