package dev.hangar.http;

import dev.hangar.core.config.DataSize;
import io.javalin.http.Context;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPOutputStream;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

/**
 * Writes every answer Hangar sends, without a thread ever waiting on a client that does not read.
 *
 * <p>A blocking write holds its thread until the client has taken what the socket buffers cannot,
 * or until the idle timeout; enough clients that stop reading would hold every server thread. So
 * the body goes to Jetty in one non-blocking write, with its Content-Length: Jetty keeps what the
 * socket does not take and writes it as the client reads, holding no thread meanwhile. A client
 * that never reads, or reads too slowly, is cut off by the minimum rate (--min-body-rate, see
 * {@link AnswerRateWatch}) or the idle timeout, and its answer counted as undelivered ({@link
 * ClientGoneException}).
 *
 * <p>An answer of at most {@value #BUFFERED_BYTES} bytes given on the request's own thread (a READY
 * model answered at once, an error, metadata) needs none of that: Jetty keeps a write that small in
 * its buffer and sends it after the handler returns, without blocking, as the response completes.
 * It is written so, without the cost of making the request asynchronous.
 *
 * <p>A body of {@value #MIN_COMPRESSED_BYTES} bytes or more is gzipped (level 6, as Javalin's) when
 * the request's Accept-Encoding allows it; smaller ones would not gain a packet.
 */
final class ResponseWriter {
  /** The smallest body worth compressing: about one packet. */
  static final int MIN_COMPRESSED_BYTES = 1500;

  /**
   * The largest write Jetty keeps in its buffer rather than writing through (its output aggregation
   * size, which {@link HttpServer} sets to this).
   */
  static final int BUFFERED_BYTES = 8192;

  // the rate a client must take its answer at, on average past the grace
  private final MinimumRate minRate;

  /**
   * Creates a writer whose answers' clients must take them at {@code minRate} on average once the
   * grace ({@link HttpSettings#BODY_RATE_GRACE}) is over; 0 for no minimum.
   */
  ResponseWriter(DataSize minRate) {
    this.minRate = new MinimumRate(minRate.bytes());
  }

  /**
   * Sends {@code body} as the answer to {@code context}, whose status and headers are set: left to
   * Jetty's buffer when it is small and this is the request's own thread; otherwise the request
   * becomes asynchronous and completes once Jetty has written the body, or the client has gone.
   */
  void send(Context context, byte[] body) {
    byte[] sent = encoded(context, body);
    if (!context.req().isAsyncStarted() && sent.length <= BUFFERED_BYTES) {
      try {
        // no Content-Length, so not the last write: Jetty buffers it, and sets the length itself
        context.res().getOutputStream().write(sent);
      } catch (IOException e) {
        throw new ClientGoneException(e);
      }
      return;
    }
    context.future(() -> writeEncoded(context, sent));
  }

  /**
   * Writes {@code body} without blocking, on a request already asynchronous. The future completes
   * once Jetty has written all of it, or exceptionally with a {@link ClientGoneException} when the
   * connection failed or timed out first.
   */
  CompletableFuture<Void> write(Context context, byte[] body) {
    return writeEncoded(context, encoded(context, body));
  }

  /**
   * The body to send: gzipped, with its Content-Encoding set, where that is worth it and asked. A
   * body whose Content-Encoding is set already was encoded so (an inference answer is, to count
   * what it holds) and is sent as it is.
   */
  static byte[] encoded(Context context, byte[] body) {
    if (context.res().getHeader("Content-Encoding") != null) {
      return body;
    }
    if (body.length < MIN_COMPRESSED_BYTES) {
      return body;
    }
    // whether this answer is gzipped depends on the request: a cache must keep both forms apart
    context.res().setHeader("Vary", "Accept-Encoding");
    if (acceptsGzip(context.header("Accept-Encoding"))) {
      byte[] compressed = gzip(body);
      context.res().setHeader("Content-Encoding", "gzip"); // set once there is a compressed body
      return compressed;
    }
    return body;
  }

  private CompletableFuture<Void> writeEncoded(Context context, byte[] sent) {
    HttpServletResponse response = context.res();
    response.setContentLength(sent.length);
    CompletableFuture<Void> written = new CompletableFuture<>();
    ServletOutputStream out;
    try {
      out = response.getOutputStream();
    } catch (IOException e) {
      written.completeExceptionally(new ClientGoneException(e));
      return written;
    }
    out.setWriteListener(new OneWrite(context, out, sent, written));
    return written;
  }

  /** Writes one buffer when Jetty first allows it, and completes when Jetty has written it. */
  private final class OneWrite implements WriteListener {
    private final Context context;
    private final ServletOutputStream out;
    private final byte[] body;
    private final CompletableFuture<Void> written;
    // only Jetty calls the listener, one call at a time
    private boolean started;
    // why the watch of the minimum rate closed the connection, for the failure that follows; the
    // watch holds this, not the listener and its body, while it waits in the scheduler's queue
    private final AtomicReference<ClientGoneException> cutOff = new AtomicReference<>();

    OneWrite(
        Context context, ServletOutputStream out, byte[] body, CompletableFuture<Void> written) {
      this.context = context;
      this.out = out;
      this.body = body;
      this.written = written;
    }

    @Override
    public void onWritePossible() {
      try {
        AnswerRateWatch watch = null;
        if (!started) {
          started = true;
          if (minRate.applies()) {
            watch =
                AnswerRateWatch.of(
                    ServletContextRequest.getServletContextRequest(context.req()),
                    minRate,
                    written,
                    cutOff::set);
          }
          out.write(body); // taken whole: Jetty writes what the socket does not take at once later
        }
        if (out.isReady()) {
          // the write is done; a connection that failed first, the client gone before or while
          // it was written, throws its failure here
          out.close();
          written.complete(null);
        } else if (watch != null) {
          // the sockets' buffers are full: the rest goes as fast as the client takes it
          watch.start();
        }
      } catch (IOException e) {
        fail(e);
      }
    }

    @Override
    public void onError(Throwable failure) {
      fail(failure instanceof IOException io ? io : new IOException(failure.toString(), failure));
    }

    private void fail(IOException cause) {
      ClientGoneException closedByServer = cutOff.get();
      written.completeExceptionally(
          closedByServer != null ? closedByServer : new ClientGoneException(cause));
    }
  }

  /** Whether an Accept-Encoding header lists gzip (or x-gzip) with a quality above 0. */
  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String element : acceptEncoding.split(",")) {
      String[] parts = element.split(";");
      String coding = parts[0].trim().toLowerCase(Locale.ROOT);
      if (!coding.equals("gzip") && !coding.equals("x-gzip")) {
        continue;
      }
      double quality = 1;
      for (int i = 1; i < parts.length; i++) {
        String parameter = parts[i].trim().toLowerCase(Locale.ROOT);
        if (parameter.startsWith("q=")) {
          try {
            quality = Double.parseDouble(parameter.substring(2).trim());
          } catch (NumberFormatException e) {
            quality = 0; // an unreadable quality: as if not offered
          }
        }
      }
      if (quality > 0) {
        return true;
      }
    }
    return false;
  }

  private static byte[] gzip(byte[] body) {
    ByteArrayOutputStream compressed = new ByteArrayOutputStream(body.length / 4 + 64);
    try (GZIPOutputStream out = new GZIPOutputStream(compressed, 8192)) {
      out.write(body);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // in memory: cannot happen
    }
    return compressed.toByteArray();
  }
}
