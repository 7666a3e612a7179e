package dev.hangar.core.health;

import dev.hangar.core.inference.DeadlineExceededException;
import dev.hangar.core.inference.QueueFullException;
import dev.hangar.spi.HangarException;
import java.util.concurrent.CancellationException;

/** Why a request failed or was rejected, as counted in statistics and metrics. */
public enum FailureReason {
  /** The inputs did not fit the model. */
  INVALID_INPUT,
  /** The model's queue was full. */
  QUEUE_FULL,
  /** The request's deadline passed before it ran. */
  DEADLINE_EXCEEDED,
  /** The caller cancelled the request. */
  CANCELLED,
  /** The model could not serve: not found, failed to load, unloading. */
  UNAVAILABLE,
  /** The model did not fit the memory budget. */
  INSUFFICIENT_MEMORY,
  /** The engine failed while running the model. */
  BACKEND_FAILURE,
  /** A bug in Hangar. */
  INTERNAL;

  /** Classifies a failure. */
  public static FailureReason of(Throwable failure) {
    if (failure instanceof QueueFullException) {
      return QUEUE_FULL;
    }
    if (failure instanceof DeadlineExceededException) {
      return DEADLINE_EXCEEDED;
    }
    if (failure instanceof CancellationException) {
      return CANCELLED;
    }
    if (failure instanceof HangarException hangar) {
      return switch (hangar.category()) {
        case USER_ERROR -> INVALID_INPUT;
        case NOT_FOUND, UNAVAILABLE -> UNAVAILABLE;
        case INSUFFICIENT_RESOURCES -> INSUFFICIENT_MEMORY;
        case BACKEND_FAILURE -> BACKEND_FAILURE;
        case INTERNAL -> INTERNAL;
      };
    }
    return INTERNAL;
  }
}
