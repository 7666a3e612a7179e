package dev.hangar.core.config;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;

/** A configuration file or flag with a wrong key or value. Always a user error. */
public class ConfigurationException extends HangarException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the file, key and problem. */
  public ConfigurationException(String message) {
    super(ErrorCategory.USER_ERROR, message);
  }

  /** Creates the exception with a cause. */
  public ConfigurationException(String message, Throwable cause) {
    super(ErrorCategory.USER_ERROR, message, cause);
  }
}
