package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

/**
 * The base of every error Hangar reports, carrying an {@link ErrorCategory}. The message is meant
 * for the user: one line that names what went wrong and, where it can, what to do about it.
 */
public class HangarException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCategory category;

  /** Creates an exception of the given category. */
  public HangarException(ErrorCategory category, String message) {
    super(requireNonNull(message, "message is null"));
    this.category = requireNonNull(category, "category is null");
  }

  /** Creates an exception of the given category with a cause. */
  public HangarException(ErrorCategory category, String message, Throwable cause) {
    super(requireNonNull(message, "message is null"), cause);
    this.category = requireNonNull(category, "category is null");
  }

  /** Returns the category. */
  public ErrorCategory category() {
    return category;
  }
}
