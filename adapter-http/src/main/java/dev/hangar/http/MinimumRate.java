package dev.hangar.http;

import java.util.Locale;

/**
 * The slowest a request body may arrive, or an answer go out (--min-body-rate), on average from its
 * start, once its grace ({@link HttpSettings#BODY_RATE_GRACE}) is over. Bodies ({@link
 * RequestBodies}) and answers ({@link AnswerRateWatch}) are held to it by this one rule.
 *
 * @param bytesPerSecond the minimum; 0 for none
 */
record MinimumRate(long bytesPerSecond) {
  /** Whether there is a minimum at all. */
  boolean applies() {
    return bytesPerSecond > 0;
  }

  /**
   * How long after its start a transfer that has moved {@code bytes} falls below the minimum were
   * no more to move: never before the grace is over, and never with no minimum.
   */
  long dueNanos(long bytes) {
    if (!applies()) {
      return Long.MAX_VALUE;
    }
    return Math.max(HttpSettings.BODY_RATE_GRACE.toNanos(), (long) (bytes * 1e9 / bytesPerSecond));
  }

  /** Says how slow a transfer was: {@code N bytes in T s, under the minimum of ...}. */
  String shortfall(long bytes, long elapsedNanos) {
    return String.format(
        Locale.ROOT,
        "%d bytes in %.1f s, under the minimum of %d bytes a second (--min-body-rate)",
        bytes,
        elapsedNanos / 1e9,
        bytesPerSecond);
  }
}
