package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How many runs one step of a latency measurement makes (its warmup, or its timed runs): up to
 * {@code count}, none started once {@code limit} has passed, but never fewer than {@code minimum}.
 * A count alone is either too few calls for a small model (the JVM needs thousands before it has
 * compiled the code around the engine, and until then interpreted Java costs more than the model)
 * or too long for a large one; the limit bounds the second without starving the first.
 *
 * @param count the most runs; 0 for none
 * @param limit how long the runs may go on once {@code minimum} have been made
 * @param minimum the runs made however long they take (at most {@code count})
 */
public record Runs(int count, Duration limit, int minimum) {
  /** The longest limit: what nanoseconds in a {@code long} hold (about 292 years), no limit. */
  public static final Duration NO_LIMIT = Duration.ofNanos(Long.MAX_VALUE);

  /** The default number of warmup runs: enough calls for the JVM's optimizing compiler. */
  public static final int DEFAULT_WARMUP_COUNT = 10_000;

  /** The default number of timed runs: enough that a p99 is not the slowest run or two. */
  public static final int DEFAULT_TIMED_COUNT = 1000;

  /** Timed runs made whatever the limit: a p99 of fewer is the slowest run or two. */
  public static final int TIMED_MINIMUM = 100;

  /** The default warmup: 10000 runs, stopped after a second (at least one run). */
  public static final Runs DEFAULT_WARMUP = warmup(DEFAULT_WARMUP_COUNT, Duration.ofSeconds(1));

  /** The default timed runs: 1000, stopped after 3 seconds once 100 are made. */
  public static final Runs DEFAULT_TIMED = timed(DEFAULT_TIMED_COUNT, Duration.ofSeconds(3));

  /** Validates. */
  public Runs {
    requireNonNull(limit, "limit is null");
    if (count < 0) {
      throw new IllegalArgumentException("runs must not be negative, got " + count);
    }
    if (minimum < 0 || minimum > count) {
      throw new IllegalArgumentException(
          "the minimum runs must be between 0 and " + count + ", got " + minimum);
    }
    if (limit.isNegative() || limit.isZero() || limit.compareTo(NO_LIMIT) > 0) {
      throw new IllegalArgumentException(
          "the limit must be positive and at most " + NO_LIMIT + ", got " + limit);
    }
  }

  /** Returns a warmup: up to {@code count} runs, none started after {@code limit}, at least one. */
  public static Runs warmup(int count, Duration limit) {
    return new Runs(count, limit, Math.min(count, 1));
  }

  /**
   * Returns timed runs: up to {@code count}, none started after {@code limit} once {@link
   * #TIMED_MINIMUM} (or {@code count}, when fewer) are made.
   */
  public static Runs timed(int count, Duration limit) {
    return new Runs(count, limit, Math.min(count, TIMED_MINIMUM));
  }

  /** Returns exactly {@code count} runs, however long they take. */
  public static Runs exactly(int count) {
    return new Runs(count, NO_LIMIT, count);
  }

  /** Returns whether another run is due after {@code done} runs that took {@code elapsedNanos}. */
  public boolean another(int done, long elapsedNanos) {
    return done < count && (done < minimum || elapsedNanos < limit.toNanos());
  }
}
