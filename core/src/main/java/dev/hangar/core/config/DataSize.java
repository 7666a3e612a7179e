package dev.hangar.core.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An amount of memory in bytes, written like {@code 750MB}. Units are powers of 1024, as for the
 * JVM's {@code -Xmx}: B, KB (or K, KiB), MB (M, MiB), GB (G, GiB), TB (T, TiB); a fraction is
 * allowed ({@code 1.5GB}). The unit is required, except for {@code 0}: a bare {@code 500} meant as
 * megabytes and read as bytes gave a budget no model fits.
 *
 * @param bytes the amount in bytes, never negative
 */
public record DataSize(long bytes) implements Comparable<DataSize> {
  private static final Pattern FORMAT =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt](?:ib?|b)?|b)?", Pattern.CASE_INSENSITIVE);

  /** Validates. */
  public DataSize {
    if (bytes < 0) {
      throw new IllegalArgumentException("a size cannot be negative: " + bytes);
    }
  }

  /** Returns a size of {@code megabytes} MB (MiB). */
  public static DataSize ofMegabytes(long megabytes) {
    return new DataSize(Math.multiplyExact(megabytes, 1024L * 1024));
  }

  /**
   * Parses a size such as {@code 500MB}, {@code 1.5GiB}, {@code 64m}, {@code 1024B} or {@code 0}.
   *
   * @throws IllegalArgumentException naming the accepted form; for a number without a unit, saying
   *     which unit to add
   */
  public static DataSize parse(String text) {
    Matcher matcher = FORMAT.matcher(text == null ? "" : text.trim());
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size; write a number and a unit such as 750MB, 2GB or 512KB");
    }
    String unit = matcher.group(2) == null ? "" : matcher.group(2).toLowerCase(Locale.ROOT);
    double value = Double.parseDouble(matcher.group(1));
    if (unit.isEmpty() && value != 0) {
      throw new IllegalArgumentException(
          "'" + text.trim() + "' has no unit: write " + matcher.group(1) + "MB");
    }
    long multiplier =
        switch (unit.isEmpty() ? ' ' : unit.charAt(0)) {
          case 'k' -> 1L << 10;
          case 'm' -> 1L << 20;
          case 'g' -> 1L << 30;
          case 't' -> 1L << 40;
          default -> 1;
        };
    if (value * multiplier >= 0x1p63) {
      throw new IllegalArgumentException("'" + text + "' is larger than any memory");
    }
    return new DataSize(Math.round(value * multiplier));
  }

  /** Returns the size in whole mebibytes, rounded down. */
  public long megabytes() {
    return bytes >> 20;
  }

  @Override
  public int compareTo(DataSize other) {
    return Long.compare(bytes, other.bytes);
  }

  /** Returns the size with the largest unit that keeps one decimal, such as {@code 512.0MB}. */
  @Override
  public String toString() {
    return format(bytes);
  }

  /** Formats a byte count the way {@link #toString()} does; negative counts keep their sign. */
  public static String format(long bytes) {
    long magnitude = Math.abs(bytes);
    String sign = bytes < 0 ? "-" : "";
    if (magnitude >= 1L << 30) {
      return sign + String.format(Locale.ROOT, "%.1fGB", magnitude / (double) (1L << 30));
    }
    if (magnitude >= 1L << 20) {
      return sign + String.format(Locale.ROOT, "%.1fMB", magnitude / (double) (1L << 20));
    }
    if (magnitude >= 1L << 10) {
      return sign + String.format(Locale.ROOT, "%.1fKB", magnitude / (double) (1L << 10));
    }
    return sign + magnitude + "B";
  }
}
