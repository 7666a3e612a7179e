package dev.hangar.http;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An answer could not be written because its client closed the connection, or stopped reading until
 * the idle timeout closed it, or took it so slowly that the server closed it. Nothing can be sent
 * to that client any more, so it gets no error response, and the server counts it instead of
 * logging it as a failure of its own.
 */
final class ClientGoneException extends UncheckedIOException {
  ClientGoneException(IOException cause) {
    super("the client went away before its answer was written: " + cause.getMessage(), cause);
  }

  /** The server closed the connection for the reason {@code message} gives. */
  ClientGoneException(String message) {
    super(message, new IOException(message));
  }
}
