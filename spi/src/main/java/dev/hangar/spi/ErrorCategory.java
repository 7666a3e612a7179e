package dev.hangar.spi;

/**
 * What kind of failure a {@link HangarException} reports, and so who can act on it. Adapters map a
 * category to a protocol status in one place.
 */
public enum ErrorCategory {
  /** The caller asked for something wrong: a bad input, a bad configuration, a corrupt file. */
  USER_ERROR,
  /** The named model or version does not exist. */
  NOT_FOUND,
  /**
   * The request could not run now but may later: the model is not ready, a queue is full, a
   * deadline passed before it ran.
   */
  UNAVAILABLE,
  /** Running it would pass a resource budget, such as the memory budget. */
  INSUFFICIENT_RESOURCES,
  /** The inference engine underneath failed (ONNX Runtime, libtorch, ...). */
  BACKEND_FAILURE,
  /** A bug in Hangar itself. */
  INTERNAL
}
