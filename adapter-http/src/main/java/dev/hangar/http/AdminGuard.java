package dev.hangar.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * Decides who may load and unload models. On a loopback address anyone local may, unless a token is
 * configured; on any other address a token must be configured (else the endpoints are disabled,
 * 403) and every call must carry it as {@code Authorization: Bearer <token>} (else 401). Tokens are
 * compared in constant time, over their SHA-256 digests so that not even the length leaks.
 */
final class AdminGuard {
  private final Optional<byte[]> tokenDigest;
  private final boolean loopback;
  private final String host;

  AdminGuard(HttpSettings settings) {
    this.tokenDigest = settings.adminToken().map(AdminGuard::digest);
    this.loopback = settings.isLoopback();
    this.host = settings.host();
  }

  /**
   * Checks an {@code Authorization} header.
   *
   * @throws HttpProblem 403 when the endpoints are disabled, 401 when the token is missing or wrong
   */
  void check(String authorization) {
    if (tokenDigest.isEmpty()) {
      if (loopback) {
        return;
      }
      throw new HttpProblem(
          403,
          "loading and unloading models is disabled: the server listens on "
              + host
              + ", not only on loopback, and no admin token is set (--admin-token or"
              + " HANGAR_ADMIN_TOKEN)");
    }
    String prefix = "Bearer ";
    if (authorization == null
        || authorization.length() <= prefix.length()
        || !authorization.regionMatches(true, 0, prefix, 0, prefix.length())) {
      throw new HttpProblem(401, "this endpoint needs 'Authorization: Bearer <admin token>'");
    }
    byte[] given = digest(authorization.substring(prefix.length()).trim());
    if (!MessageDigest.isEqual(given, tokenDigest.get())) {
      throw new HttpProblem(401, "the admin token is wrong");
    }
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
