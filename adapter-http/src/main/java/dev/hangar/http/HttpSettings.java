package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.Durations;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Optional;

/**
 * The settings of the HTTP server.
 *
 * @param host the address to bind (default {@code 127.0.0.1}); on any other address the repository
 *     load/unload endpoints need {@code adminToken}
 * @param port the port (default 8000; 0 picks a free one)
 * @param maxBody the largest request body accepted (default 64MB); larger ones get 413
 * @param idleTimeout how long a connection may send nothing before it is closed (default 30s):
 *     between requests on a keep-alive connection, and inside a request's headers or body
 * @param headerTimeout how long a request's headers may take from their first byte (default 30s):
 *     the idle timeout does not stop a client that trickles them, a byte just inside it at a time
 * @param drainTimeout how long a shutdown waits for requests in flight (default 30s)
 * @param adminToken the bearer token the load/unload endpoints require, when set
 * @param threads the most threads the server runs requests on (default 250, Javalin's); Jetty takes
 *     a few of them for accepting connections and selecting
 * @param maxConnections the most connections open at once (default: three quarters of the process's
 *     open-file limit); past it the server accepts no more until one closes, so that clients cannot
 *     take the files that model loads and the server itself need
 * @param bodyMemory the most heap the bodies of requests in flight, the tensors decoded from their
 *     JSON data, and their answers until written, may hold together (default: half the heap); a
 *     request past it waits for others to end (503), one past it alone gets 507; answers are
 *     counted, never refused
 * @param minBodyRate the slowest a request body may arrive, or a client take its answer, in bytes a
 *     second on average, once the body or answer has had {@link #BODY_RATE_GRACE} (default 1KB; 0:
 *     no minimum); a slower body gets 408, a slower answer's connection is closed, so that a client
 *     trickling its body or reading its answer a byte at a time cannot hold a connection and body
 *     memory for as long as it likes
 */
public record HttpSettings(
    String host,
    int port,
    DataSize maxBody,
    Duration idleTimeout,
    Duration headerTimeout,
    Duration drainTimeout,
    Optional<String> adminToken,
    int threads,
    int maxConnections,
    DataSize bodyMemory,
    DataSize minBodyRate) {
  /** The default address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** The default port, as Triton's and KServe's HTTP port. */
  public static final int DEFAULT_PORT = 8000;

  /** The default body limit. */
  public static final DataSize DEFAULT_MAX_BODY = DataSize.ofMegabytes(64);

  /** The default number of request threads, as Javalin's. */
  public static final int DEFAULT_THREADS = 250;

  /** The fewest threads accepted: Jetty's acceptors and selectors need some of them. */
  public static final int MIN_THREADS = 8;

  /** The shortest idle and header timeouts. */
  public static final Duration MIN_TIMEOUT = Duration.ofMillis(100);

  /** The default slowest rate of a request body or an answer: 1KB a second. */
  public static final DataSize DEFAULT_MIN_BODY_RATE = new DataSize(1024);

  /** {@link #BODY_RATE_GRACE} in seconds, for the texts that name it. */
  public static final int BODY_RATE_GRACE_SECONDS = 5;

  /**
   * How long a request body may arrive, or an answer go out, at any rate before its average is held
   * to {@code minBodyRate}: a connection's first round trips are slow whatever the client.
   */
  public static final Duration BODY_RATE_GRACE = Duration.ofSeconds(BODY_RATE_GRACE_SECONDS);

  /** Validates. */
  public HttpSettings {
    requireNonNull(host, "host is null");
    requireNonNull(maxBody, "maxBody is null");
    requireNonNull(idleTimeout, "idleTimeout is null");
    requireNonNull(headerTimeout, "headerTimeout is null");
    requireNonNull(drainTimeout, "drainTimeout is null");
    requireNonNull(adminToken, "adminToken is null");
    requireNonNull(bodyMemory, "bodyMemory is null");
    requireNonNull(minBodyRate, "minBodyRate is null");
    if (host.isBlank()) {
      throw new IllegalArgumentException("the host (--host) is blank");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("the port (--port) must be from 0 to 65535, got " + port);
    }
    if (maxBody.bytes() < 1 || maxBody.bytes() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "the body limit (--max-body) must be from 1 byte to 2GB, got " + maxBody);
    }
    // shorter ones cut off every client, and the header timeout's checks would spin
    if (idleTimeout.compareTo(MIN_TIMEOUT) < 0) {
      throw new IllegalArgumentException(
          "the idle timeout (--idle-timeout) must be at least "
              + Durations.format(MIN_TIMEOUT)
              + ", got "
              + Durations.format(idleTimeout));
    }
    if (headerTimeout.compareTo(MIN_TIMEOUT) < 0) {
      throw new IllegalArgumentException(
          "the header timeout (--header-timeout) must be at least "
              + Durations.format(MIN_TIMEOUT)
              + ", got "
              + Durations.format(headerTimeout));
    }
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("the drain timeout (--drain-timeout) cannot be negative");
    }
    if (threads < MIN_THREADS || threads > 10_000) {
      throw new IllegalArgumentException(
          "the request thread count (--http-threads) must be from "
              + MIN_THREADS
              + " to 10000, got "
              + threads);
    }
    if (bodyMemory.bytes() < 1) {
      throw new IllegalArgumentException(
          "the memory for request bodies (--body-memory) must be at least 1 byte, got "
              + bodyMemory);
    }
    if (minBodyRate.bytes() < 0) {
      throw new IllegalArgumentException(
          "the slowest rate of a body (--min-body-rate) cannot be negative, got " + minBodyRate);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException(
          "the connection limit (--max-connections) must be at least 1, got " + maxConnections);
    }
    adminToken.ifPresent(HttpSettings::checkAdminToken);
  }

  /**
   * Refuses a token no client could present: blank, with spaces at its ends (the Authorization
   * header's value is trimmed), or with characters beyond visible ASCII (header bytes are not
   * UTF-8). The message never shows the token.
   */
  private static void checkAdminToken(String token) {
    String what = "the admin token (--admin-token or HANGAR_ADMIN_TOKEN)";
    if (token.isBlank()) {
      throw new IllegalArgumentException(what + " is blank; set one, or leave both unset");
    }
    if (!token.strip().equals(token)) {
      throw new IllegalArgumentException(
          what + " begins or ends with a space, which no Authorization header can carry");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException(
            what
                + " holds a character an HTTP header cannot carry as it is; use letters, digits"
                + " and ASCII punctuation");
      }
    }
  }

  /** Returns the defaults: 127.0.0.1:8000, 64MB bodies, no admin token. */
  public static HttpSettings defaults() {
    return new HttpSettings(
        DEFAULT_HOST,
        DEFAULT_PORT,
        DEFAULT_MAX_BODY,
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        Optional.empty(),
        DEFAULT_THREADS,
        defaultMaxConnections(),
        new DataSize(Runtime.getRuntime().maxMemory() / 2),
        DEFAULT_MIN_BODY_RATE);
  }

  /**
   * Three quarters of the process's open-file limit, where the JVM can tell it (else 10000), and at
   * least 64: the other quarter stays for model files, libraries and the server's own.
   */
  static int defaultMaxConnections() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return (int) Math.max(64, Math.min(unix.getMaxFileDescriptorCount() / 4 * 3, 1_000_000));
    }
    return 10_000;
  }

  /** Returns these settings bound to another address and port. */
  public HttpSettings withAddress(String newHost, int newPort) {
    return new HttpSettings(
        newHost,
        newPort,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another body limit. */
  public HttpSettings withMaxBody(DataSize size) {
    return new HttpSettings(
        host,
        port,
        size,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with an admin token (empty: none). */
  public HttpSettings withAdminToken(Optional<String> token) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        token,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another drain timeout. */
  public HttpSettings withDrainTimeout(Duration timeout) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        timeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another idle timeout. */
  public HttpSettings withIdleTimeout(Duration timeout) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        timeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another header timeout. */
  public HttpSettings withHeaderTimeout(Duration timeout) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        timeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another number of request threads. */
  public HttpSettings withThreads(int count) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        count,
        maxConnections,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another connection limit. */
  public HttpSettings withMaxConnections(int count) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        count,
        bodyMemory,
        minBodyRate);
  }

  /** Returns these settings with another memory for request bodies. */
  public HttpSettings withBodyMemory(DataSize size) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        size,
        minBodyRate);
  }

  /** Returns these settings with another slowest rate of bodies and answers (0: no minimum). */
  public HttpSettings withMinBodyRate(DataSize rate) {
    return new HttpSettings(
        host,
        port,
        maxBody,
        idleTimeout,
        headerTimeout,
        drainTimeout,
        adminToken,
        threads,
        maxConnections,
        bodyMemory,
        rate);
  }

  /** Returns whether the server listens on a loopback address only. */
  public boolean isLoopback() {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
