package dev.hangar.cli.bench;

/**
 * How one request ended.
 *
 * @param errorKind null on success; else a short kind such as {@code http_503}, {@code queue_full},
 *     {@code timeout}, {@code connection_refused} or {@code mismatch}
 * @param detail what went wrong, in one line; null on success
 */
public record Outcome(String errorKind, String detail) {
  /** A success. */
  public static final Outcome SUCCESS = new Outcome(null, null);

  /** Returns a failure of the given kind. */
  public static Outcome failed(String kind, String detail) {
    return new Outcome(kind, detail == null ? kind : detail);
  }

  /** Returns whether the request succeeded. */
  public boolean ok() {
    return errorKind == null;
  }
}
