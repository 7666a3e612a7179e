package dev.hangar.cli;

/**
 * A command used wrongly in a way picocli cannot see (such as an unreadable input file): exit 2.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
