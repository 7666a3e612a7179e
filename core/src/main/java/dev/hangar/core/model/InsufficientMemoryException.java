package dev.hangar.core.model;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/**
 * A load that does not fit the memory budget even after evicting every model the load may evict.
 * The message states the budget, the need, and which models are pinned or busy.
 */
public class InsufficientMemoryException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public InsufficientMemoryException(String message) {
    super(ErrorCategory.INSUFFICIENT_RESOURCES, message);
  }
}
