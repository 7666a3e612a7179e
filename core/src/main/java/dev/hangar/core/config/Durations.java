package dev.hangar.core.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats durations written like {@code 250ms}, {@code 5s}, {@code 2m} or {@code 1h}.
 */
public final class Durations {
  private static final Pattern FORMAT =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h|d)", Pattern.CASE_INSENSITIVE);

  private Durations() {}

  /**
   * Parses a duration: a number and one of ns, us, ms, s, m, h, d.
   *
   * @throws IllegalArgumentException naming the accepted form
   */
  public static Duration parse(String text) {
    Matcher matcher = FORMAT.matcher(text == null ? "" : text.trim());
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not a duration; write a number and a unit such as 250ms, 5s, 2m or 1h");
    }
    double value = Double.parseDouble(matcher.group(1));
    double nanosPerUnit =
        switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
          case "ns" -> 1;
          case "us", "µs" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          case "h" -> 3600e9;
          default -> 86400e9;
        };
    if (value * nanosPerUnit >= 0x1p63) {
      throw new IllegalArgumentException(
          "'" + text + "' is longer than any duration Hangar takes (about 292 years)");
    }
    return Duration.ofNanos(Math.round(value * nanosPerUnit));
  }

  /**
   * Formats a duration compactly, such as {@code 1.25ms} or {@code 3s}; a whole number of hours or
   * minutes, or of milliseconds or microseconds below a second, as it would be written, such as
   * {@code 1h}, {@code 5m} or {@code 100ms}.
   */
  public static String format(Duration duration) {
    long nanos = duration.toNanos();
    // whole hours and minutes as a config would write them: "1h", not "3600s"
    if (nanos != 0 && nanos % 3_600_000_000_000L == 0) {
      return nanos / 3_600_000_000_000L + "h";
    }
    if (nanos != 0 && nanos % 60_000_000_000L == 0) {
      return nanos / 60_000_000_000L + "m";
    }
    if (nanos % 1_000_000_000L == 0) {
      return nanos / 1_000_000_000L + "s";
    }
    if (Math.abs(nanos) < 1_000_000_000L && nanos % 1_000_000L == 0) {
      return nanos / 1_000_000L + "ms";
    }
    if (Math.abs(nanos) < 1_000_000L && nanos % 1_000L == 0) {
      return nanos / 1_000L + "us";
    }
    if (nanos >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.3fs", nanos / 1e9);
    }
    if (nanos >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.2fms", nanos / 1e6);
    }
    if (nanos >= 1_000L) {
      return String.format(Locale.ROOT, "%.1fus", nanos / 1e3);
    }
    return nanos + "ns";
  }
}
