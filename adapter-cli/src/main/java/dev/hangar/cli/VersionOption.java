package dev.hangar.cli;

/** The check of {@code --model-version}, which names a version directory: 1 or more. */
final class VersionOption {
  private VersionOption() {}

  /** Refuses a version no directory can have; null (no version asked for) passes. */
  static void check(Long version) {
    if (version != null && version < 1) {
      throw new UsageException(
          "--model-version must be 1 or more (versions are directories named 1, 2, ...), got "
              + version);
    }
  }
}
