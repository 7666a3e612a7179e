package dev.hangar.core.model;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/** The named model, or the named version of it, is not in the repository or not served. */
public class ModelNotFoundException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public ModelNotFoundException(String message) {
    super(ErrorCategory.NOT_FOUND, message);
  }
}
