package dev.hangar.core.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/** Finds the closest known name to a misspelt one, for "did you mean" hints. */
public final class Suggestions {
  private Suggestions() {}

  /** Returns the known name closest to {@code wrong}, if one is close enough to be a typo. */
  public static Optional<String> closest(String wrong, Collection<String> known) {
    String lower = wrong.toLowerCase(Locale.ROOT);
    return known.stream()
        .filter(name -> isClose(lower, name.toLowerCase(Locale.ROOT)))
        .min(Comparator.comparingInt(name -> distance(lower, name.toLowerCase(Locale.ROOT))));
  }

  /** Returns {@code "; did you mean 'x'?"} or an empty string. */
  public static String hint(String wrong, Collection<String> known) {
    return closest(wrong, known).map(name -> "; did you mean '" + name + "'?").orElse("");
  }

  private static boolean isClose(String wrong, String known) {
    boolean truncated = wrong.length() >= 3 && (known.startsWith(wrong) || wrong.startsWith(known));
    return truncated || distance(wrong, known) <= Math.max(2, known.length() / 3);
  }

  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
