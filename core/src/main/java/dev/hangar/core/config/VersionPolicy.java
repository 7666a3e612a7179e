package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;

/**
 * Which versions of a model are served. In {@code config.yaml}: {@code version_policy: latest} (the
 * highest version, the default), {@code {latest: 2}}, {@code {specific: [1, 3]}} or {@code all}.
 *
 * @param kind which rule applies
 * @param latest how many of the highest versions, for {@link Kind#LATEST}
 * @param specific the versions, for {@link Kind#SPECIFIC}
 */
public record VersionPolicy(Kind kind, int latest, List<Long> specific) {
  /** The rules. */
  public enum Kind {
    /** The {@code latest} highest versions. */
    LATEST,
    /** The listed versions. */
    SPECIFIC,
    /** Every version on disk. */
    ALL
  }

  /** Validates and copies. */
  public VersionPolicy {
    requireNonNull(kind, "kind is null");
    specific = List.copyOf(requireNonNull(specific, "specific is null"));
    if (kind == Kind.LATEST && latest < 1) {
      throw new IllegalArgumentException("version_policy latest must be at least 1, got " + latest);
    }
    if (kind == Kind.SPECIFIC && specific.isEmpty()) {
      throw new IllegalArgumentException("version_policy specific needs at least one version");
    }
  }

  /** The default: serve the highest version. */
  public static VersionPolicy latest(int count) {
    return new VersionPolicy(Kind.LATEST, count, List.of());
  }

  /** Serve exactly these versions. */
  public static VersionPolicy specific(Collection<Long> versions) {
    return new VersionPolicy(Kind.SPECIFIC, 0, List.copyOf(versions));
  }

  /** Serve every version. */
  public static VersionPolicy all() {
    return new VersionPolicy(Kind.ALL, 0, List.of());
  }

  /** Returns the versions served out of those available, highest first. */
  public List<Long> select(Collection<Long> available) {
    List<Long> descending = new ArrayList<>(new TreeSet<>(available));
    Collections.reverse(descending);
    return switch (kind) {
      case LATEST -> descending.subList(0, Math.min(latest, descending.size()));
      case SPECIFIC -> descending.stream().filter(specific::contains).toList();
      case ALL -> descending;
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case LATEST -> "latest " + latest;
      case SPECIFIC -> "specific " + specific;
      case ALL -> "all";
    };
  }
}
