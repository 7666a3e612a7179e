package dev.hangar.core.inference;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/** A model's queue is full: the request is rejected at once and may be retried later. */
public class QueueFullException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public QueueFullException(String message) {
    super(ErrorCategory.UNAVAILABLE, message);
  }
}
