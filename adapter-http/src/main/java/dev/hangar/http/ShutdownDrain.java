package dev.hangar.http;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * At shutdown, closes the keep-alive connections that wait for a next request and leaves a
 * connection whose request is in flight its idle timeout.
 *
 * <p>Jetty's graceful stop waits for every connection to close, so it cuts every connection's idle
 * timeout at once (its shutdown idle timeout): a request whose body was still arriving, or whose
 * answer was still being read, and that paused for longer was cut off mid-drain with a false 408.
 * Here only connections with no request in flight get the short timeout; the others close after
 * their answer, which Jetty sends with {@code Connection: close} once the server is shutting down.
 */
final class ShutdownDrain extends Handler.Wrapper {
  /** How long an idle keep-alive connection stays open once the server is shutting down. */
  static final long IDLE_CLOSE_MILLIS = 250;

  private final Set<EndPoint> serving = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;

  ShutdownDrain(Handler handler) {
    super(handler);
  }

  /** A connector whose graceful shutdown, once it accepts no more, closes the idle connections. */
  ServerConnector connector(Server server, ConnectionFactory factory) {
    ServerConnector connector =
        new ServerConnector(server, factory) {
          @Override
          public CompletableFuture<Void> shutdown() {
            CompletableFuture<Void> closed = super.shutdown();
            closeIdle(getConnectedEndPoints());
            return closed;
          }
        };
    connector.setShutdownIdleTimeout(-1); // Jetty's own: every connection alike
    return connector;
  }

  private void closeIdle(java.util.Collection<EndPoint> connected) {
    shuttingDown = true;
    for (EndPoint endPoint : connected) {
      if (!serving.contains(endPoint)) {
        endPoint.setIdleTimeout(IDLE_CLOSE_MILLIS);
      }
    }
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    serving.add(endPoint);
    boolean handled = false;
    try {
      handled =
          super.handle(
              request,
              response,
              new Callback.Nested(callback) {
                @Override
                public void succeeded() {
                  done(endPoint);
                  super.succeeded();
                }

                @Override
                public void failed(Throwable failure) {
                  done(endPoint);
                  super.failed(failure);
                }
              });
      return handled;
    } finally {
      if (!handled) {
        done(endPoint);
      }
    }
  }

  private void done(EndPoint endPoint) {
    serving.remove(endPoint);
    if (shuttingDown) {
      // an answer sent just before the shutdown began kept its connection alive
      endPoint.setIdleTimeout(IDLE_CLOSE_MILLIS);
    }
  }
}
