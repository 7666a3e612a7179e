package dev.hangar.http;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.internal.HttpConnection;

/**
 * Closes a connection whose client began a request but has not finished its headers within the
 * header timeout (--header-timeout). The idle timeout alone does not stop a client that sends a
 * header byte just inside it, again and again (slowloris): such a client holds a connection, though
 * no thread, for as long as it likes.
 *
 * <p>Jetty has no such timeout, so each HTTP/1.1 connection is looked at from the connector's
 * scheduler every quarter of the timeout: a request whose headers are seen unfinished for the
 * timeout closes the connection, between one and one and a quarter timeouts after its request
 * began. Between requests, a keep-alive connection is under the idle timeout alone.
 */
final class HeaderTimeout implements Connection.Listener {
  private static final Logger LOG = Logger.getLogger(HeaderTimeout.class.getName());
  private final long timeoutNanos;
  private final long checkEveryNanos;

  HeaderTimeout(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    this.checkEveryNanos = Math.max(1, timeoutNanos / 4);
  }

  @Override
  public void onOpened(Connection connection) {
    // Jetty's internal HTTP/1.1 connection: the one place its parser's state can be seen
    if (connection instanceof HttpConnection http) {
      new Watch(http).scheduleNext();
    }
  }

  /** Watches one connection; runs on the scheduler only, each run scheduling the next. */
  private final class Watch implements Runnable {
    private final HttpConnection connection;
    private long unfinishedSince = -1; // when the current request's headers were first seen
    private long requestsThen;

    Watch(HttpConnection connection) {
      this.connection = connection;
    }

    void scheduleNext() {
      connection
          .getConnector()
          .getScheduler()
          .schedule(this, checkEveryNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
      EndPoint endPoint = connection.getEndPoint();
      if (!endPoint.isOpen()) {
        return;
      }
      HttpParser parser = connection.getParser();
      // requests counts completed headers, so a change means a new request began since
      long requests = connection.getMessagesIn();
      long now = System.nanoTime();
      if (!parser.inHeaderState() || parser.isStart()) {
        unfinishedSince = -1;
      } else if (unfinishedSince < 0 || requests != requestsThen) {
        unfinishedSince = now;
        requestsThen = requests;
      } else if (now - unfinishedSince >= timeoutNanos) {
        LOG.log(
            Level.FINE,
            "closing {0}: its request headers were not finished within the header timeout",
            endPoint.getRemoteSocketAddress());
        endPoint.close();
        return;
      }
      scheduleNext();
    }
  }
}
