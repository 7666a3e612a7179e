package dev.hangar.http;

/**
 * A failure of the HTTP exchange itself rather than of the request it carries: a body over the
 * limit (413), a body that stalled (408) or broke off (400), a missing or wrong admin token (401,
 * 403). Failures of the request are {@link dev.hangar.spi.HangarException}s, whose category decides
 * the status in {@link ErrorResponses}.
 */
final class HttpProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  HttpProblem(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }
}
