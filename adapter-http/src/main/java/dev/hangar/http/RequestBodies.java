package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.InvalidInputException;
import io.javalin.http.Context;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.server.Request;

/**
 * Reads request bodies within the server's limits: the body limit (413, checked before reading,
 * while reading and again on the inflated bytes), Content-Encoding (gzip, deflate; others 415),
 * Transfer-Encoding (chunked; others 501), a stalled or trickling body (408), the memory kept for
 * bodies (503, 507), and the small JSON objects of the repository endpoints.
 *
 * <p>A body is read without a thread waiting for it: one that has all arrived with its headers is
 * read at once ({@link #readIfArrived}); any other through a {@link ReadListener} that takes what
 * has arrived whenever Jetty says more has ({@link #read}). So a client that trickles its body (a
 * byte now and then, just inside the idle timeout) holds no thread, however many such clients there
 * are. Nor does it hold a connection and the body's memory for as long as it likes: a body that
 * arrives slower than the minimum rate (--min-body-rate) after its grace gets 408.
 */
final class RequestBodies {
  // the buffer of an inflated body starts this large and doubles as it fills
  private static final int FIRST_INFLATED_BYTES = 16384;
  private final DataSize maxBody;
  private final Duration idleTimeout;
  private final DataSize bodyMemory;
  private final MinimumRate minBodyRate;
  // bytes requests in flight hold (bodies, decoded tensors, answers), given back as each ends
  private final AtomicLong held = new AtomicLong();

  RequestBodies(HttpSettings settings) {
    requireNonNull(settings, "settings is null");
    this.maxBody = settings.maxBody();
    this.idleTimeout = settings.idleTimeout();
    this.bodyMemory = settings.bodyMemory();
    this.minBodyRate = new MinimumRate(settings.minBodyRate().bytes());
  }

  /**
   * A request's body, as sent or inflated, and its request's hold on the memory kept for bodies,
   * which may take more for the same request (see {@link Holding}).
   */
  record Body(byte[] bytes, Holding holding) {}

  /**
   * Whether the client waits for {@code 100 Continue} before it sends the body (Expect:
   * 100-continue): Jetty sends it when the body is first read, so what can be refused without the
   * body is refused before that.
   */
  static boolean expectsContinue(Context context) {
    String expect = context.header("Expect");
    return expect != null && expect.trim().equalsIgnoreCase("100-continue");
  }

  /** Returns the bytes requests in flight hold now: bodies, decoded tensors and answers. */
  long heldBytes() {
    return held.get();
  }

  /**
   * The request body, its Content-Encoding undone: gzip and deflate (zlib), as Triton's clients
   * send them. The body limit holds for the bytes sent and again for the bytes they inflate to. The
   * request must be asynchronous (call this from {@code Context.future}'s supplier); the future
   * completes once the whole body has arrived, or fails with the problem to answer.
   */
  CompletableFuture<Body> read(Context context) {
    Holding holding;
    try {
      refuseTransferCodings(context);
      holding = new Holding(context);
    } catch (HttpProblem e) {
      return CompletableFuture.failedFuture(e);
    }
    return readSent(context, holding)
        .thenApply(sent -> new Body(inflate(context, sent, holding), holding));
  }

  /**
   * The request body as {@link #read} gives it, when all of it has arrived already, so that reading
   * it cannot wait (a small body usually comes with the headers); null when it has not (or its
   * length is not declared), for {@link #read} to take it as it comes.
   */
  Body readIfArrived(Context context) {
    refuseTransferCodings(context);
    long declared = context.req().getContentLengthLong();
    if (declared < 0 || declared > maxBody.bytes()) {
      return null; // read() takes it as it comes, or refuses it (413)
    }
    byte[] sent;
    Holding holding;
    try {
      InputStream in = context.req().getInputStream();
      if (in.available() < declared) {
        return null;
      }
      holding = new Holding(context);
      holding.take(declared, declared);
      sent = in.readNBytes((int) declared);
    } catch (IOException e) {
      throw unreadableBody(e);
    } catch (OutOfMemoryError e) {
      throw noHeapFor("a body of " + declared + " bytes");
    }
    if (sent.length != declared) {
      throw endedEarly(sent.length, declared);
    }
    return new Body(inflate(context, sent, holding), holding);
  }

  /**
   * Refuses a body sent with a transfer coding other than chunked with 501, as RFC 9112 (6.1) asks
   * of a server that does not understand it. Jetty undoes chunked only and passes the rest through:
   * a body sent {@code Transfer-Encoding: gzip, chunked} reached the decoder still gzipped.
   */
  private static void refuseTransferCodings(Context context) {
    for (Enumeration<String> values = context.req().getHeaders("Transfer-Encoding");
        values != null && values.hasMoreElements(); ) {
      String value = values.nextElement();
      for (String coding : value.split(",")) {
        String name = coding.split(";", 2)[0].trim();
        if (!name.isEmpty() && !name.equalsIgnoreCase("chunked")) {
          throw new HttpProblem(
              501,
              "the transfer coding '"
                  + name
                  + "' (Transfer-Encoding: "
                  + value
                  + ") is not supported; this server takes only chunked. To compress a request"
                  + " body, send it with Content-Encoding: gzip or deflate");
        }
      }
    }
  }

  /** Undoes the body's Content-Encoding; the inflated bytes are taken from {@code holding}. */
  private byte[] inflate(Context context, byte[] sent, Holding holding) {
    String encoding = context.header("Content-Encoding");
    if (encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity")) {
      return sent;
    }
    String name = encoding.trim().toLowerCase(Locale.ROOT);
    try (InputStream inflating =
        switch (name) {
          case "gzip", "x-gzip" -> new GZIPInputStream(new ByteArrayInputStream(sent));
          case "deflate" -> new InflaterInputStream(new ByteArrayInputStream(sent));
          default ->
              throw new HttpProblem(
                  415,
                  "Content-Encoding '"
                      + encoding
                      + "' is not supported; send the body as it is, or gzip or deflate it");
        }) {
      return inflated(inflating, name, holding);
    } catch (IOException e) {
      throw new HttpProblem(
          400, "the request body is not valid " + name + " data: " + e.getMessage());
    }
  }

  /**
   * Reads what a compressed body inflates to into a buffer that grows with it, each growth taken
   * from {@code holding} before it is allocated: a small body that inflates to megabytes is refused
   * once it passes the memory for bodies, not after the heap has held all of it. What was taken
   * goes back when the request ends, as it does after the answer to a refusal.
   */
  private byte[] inflated(InputStream inflating, String name, Holding holding) throws IOException {
    long limit = maxBody.bytes();
    byte[] buffer = new byte[0];
    int size = 0;
    while (true) {
      if (size == buffer.length) {
        if (size > limit) {
          throw tooLarge("more than " + limit + " bytes once inflated (" + name + ")");
        }
        int grown = (int) Math.min(Math.max(2L * size, FIRST_INFLATED_BYTES), limit + 1);
        holding.takeInflated(grown - size);
        try {
          buffer = Arrays.copyOf(buffer, grown);
        } catch (OutOfMemoryError e) {
          // the copy failed whole: the heap is as it was, and this body is given up
          throw noHeapFor("the inflated body (" + name + ")");
        }
      }
      int read = inflating.read(buffer, size, buffer.length - size);
      if (read < 0) {
        return size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
      }
      size += read;
    }
  }

  /** Reads the body as sent, refusing one over the limit with 413 before or while reading it. */
  private CompletableFuture<byte[]> readSent(Context context, Holding holding) {
    long declared = context.req().getContentLengthLong();
    if (declared > maxBody.bytes() && expectsContinue(context)) {
      // refused before reading: Jetty then never sends 100 Continue, and the client never the body
      return CompletableFuture.failedFuture(tooLarge(declared + " bytes"));
    }
    ServletInputStream in;
    try {
      in = context.req().getInputStream();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(unreadableBody(e));
    }
    BodyReader reader =
        new BodyReader(in, context.req().getContentLengthLong(), (int) maxBody.bytes(), holding);
    // taken before Jetty may call the reader, which lets go of it once complete
    CompletableFuture<byte[]> body = reader.body;
    in.setReadListener(reader);
    return body;
  }

  /**
   * Collects a body as Jetty reports its bytes arrived, up to the limit. The buffer grows with what
   * arrives, never ahead of it to the declared length: a client that declares 64MB and sends
   * nothing costs the server no more than a small buffer.
   *
   * <p>A body refused before all of it has come (over the limit, or past the memory for bodies) is
   * still read to its end when at most {@link #DRAINED_BYTES} of it are left, and dropped: a client
   * still sending gets the answer then, where closing the connection on it would reset it and lose
   * the answer. Tomcat does the same (maxSwallowSize, 2MB).
   */
  private final class BodyReader implements ReadListener {
    // a body starts in a buffer at most this large (its declared length, when smaller); see grown
    private static final int FIRST_BUFFER_BYTES = 65536;
    private static final long DRAINED_BYTES = 2L << 20;
    private final ServletInputStream in;
    private final long declared;
    private final int limit;
    // Jetty holds this listener until the request ends, long after the body is decoded: once the
    // body is complete, the reader lets go of it (its buffer and this future), leaving it to the
    // request's handler
    private CompletableFuture<byte[]> body = new CompletableFuture<>();
    private final Holding holding;
    private final long startNanos = System.nanoTime();
    // only Jetty calls the listener, one call at a time
    private byte[] buffer;
    private int size;
    // set once the body is refused: the answer, given once the rest has been read and dropped
    private HttpProblem refusal;
    private long dropped;

    BodyReader(ServletInputStream in, long declared, int limit, Holding holding) {
      this.in = in;
      this.declared = declared;
      this.limit = limit;
      this.holding = holding;
      if (declared > limit) {
        this.buffer = new byte[0];
        refuse(tooLarge(declared + " bytes"));
        return;
      }
      int first = (int) Math.min(declared >= 0 ? declared : limit + 1L, FIRST_BUFFER_BYTES);
      try {
        holding.take(first, Math.max(declared, first));
      } catch (HttpProblem e) {
        this.buffer = new byte[0];
        refuse(e);
        return;
      }
      this.buffer = new byte[first];
    }

    /**
     * Refuses the body with {@code problem}: at once when much of it, or an unknown length, is
     * still to come; else once the rest has come, read into a small buffer and dropped.
     */
    private void refuse(HttpProblem problem) {
      if (declared < 0 || declared - size > DRAINED_BYTES) {
        body.completeExceptionally(problem);
        return;
      }
      refusal = problem;
      // what came so far goes with the old buffer; the rest passes through this small one
      buffer = new byte[(int) Math.min(8192, Math.max(1, declared - size))];
    }

    @Override
    public void onDataAvailable() {
      try {
        while (!body.isDone() && in.isReady()) {
          if (refusal != null) {
            int read = in.read(buffer, 0, buffer.length);
            if (read < 0) {
              return;
            }
            dropped += read;
            if (tooSlow()) {
              body.completeExceptionally(refusal);
            }
            continue;
          }
          if (size == buffer.length) {
            if (size == declared) {
              // all of it: reading on lets Jetty see the end and call onAllDataRead
              if (in.read() >= 0) {
                throw new IOException("more than the " + declared + " bytes declared");
              }
              return;
            }
            int grown = grown(buffer.length);
            try {
              holding.take(grown - buffer.length, Math.max(declared, grown));
            } catch (HttpProblem e) {
              refuse(e);
              continue;
            }
            try {
              buffer = Arrays.copyOf(buffer, grown);
            } catch (OutOfMemoryError e) {
              // the copy failed whole: the heap is as it was, and this body is given up
              body.completeExceptionally(noHeapFor("a body of " + sizeText() + " bytes"));
              return;
            }
          }
          int read = in.read(buffer, size, buffer.length - size);
          if (read < 0) {
            return;
          }
          size += read;
          if (size > limit) {
            body.completeExceptionally(tooLarge("more than " + limit + " bytes"));
          } else if (tooSlow()) {
            body.completeExceptionally(arrivingTooSlowly());
          }
        }
      } catch (IOException e) {
        body.completeExceptionally(unreadableBody(e));
      }
    }

    /**
     * Whether the body, past its grace, has arrived slower than the minimum rate on average; never
     * once all its declared bytes are there, since nothing is left to wait for.
     */
    private boolean tooSlow() {
      long received = size + dropped;
      return received != declared
          && System.nanoTime() - startNanos > minBodyRate.dueNanos(received);
    }

    private HttpProblem arrivingTooSlowly() {
      return new HttpProblem(
          408,
          "the request body is arriving too slowly: "
              + minBodyRate.shortfall(size, System.nanoTime() - startNanos));
    }

    /**
     * The next size of a full buffer: twice it, or, once a quarter of a declared length has come,
     * all of that length. The client has then sent a quarter of what it asks the server to hold,
     * and the copy that grows the buffer holds 1.25 times the body at most, not 1.5.
     */
    private int grown(int length) {
      if (declared >= 0) {
        return (int) (length * 4L >= declared ? declared : Math.min(length * 2L, declared));
      }
      return (int) Math.min(length * 2L, limit + 1L);
    }

    private String sizeText() {
      return declared >= 0 ? Long.toString(declared) : "more than " + buffer.length;
    }

    @Override
    public void onAllDataRead() {
      if (refusal != null) {
        body.completeExceptionally(refusal);
        return;
      }
      if (declared >= 0 && size != declared) {
        body.completeExceptionally(endedEarly(size, declared));
        return;
      }
      byte[] complete = size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
      CompletableFuture<byte[]> handedOver = body;
      buffer = new byte[0];
      body = CompletableFuture.completedFuture(null);
      handedOver.complete(complete);
    }

    @Override
    public void onError(Throwable failure) {
      if (refusal != null) {
        body.completeExceptionally(refusal); // the reason the body was refused still stands
        return;
      }
      body.completeExceptionally(
          unreadableBody(
              failure instanceof IOException io
                  ? io
                  : new IOException(failure.toString(), failure)));
    }
  }

  /**
   * What one request holds of the memory kept for bodies (--body-memory): its body and the tensors
   * decoded from it, then, once its answer is built, the answer alone. It is all given back when
   * the request ends, however it ends: Jetty calls the completion listener once for every request,
   * answered, failed or abandoned, and an answer's request ends once the answer is written.
   */
  final class Holding {
    private final AtomicLong bytes = new AtomicLong();

    Holding(Context context) {
      Request request = ServletContextRequest.getServletContextRequest(context.req());
      if (request == null) {
        throw new IllegalStateException("not a request of Jetty's servlet container");
      }
      Request.addCompletionListener(request, failure -> held.addAndGet(-bytes.getAndSet(0)));
    }

    /**
     * Takes {@code more} bytes for the body, the request then needing {@code total}: refused with
     * 507 when the total is more than all the memory for bodies, with 503 (retry) when other
     * requests hold it.
     */
    void take(long more, long total) {
      take(more, total, "a body of ");
    }

    /** Takes {@code more} bytes besides the body's, refused as {@link #take(long, long)} is. */
    void takeMore(long more) {
      take(more, bytes.get() + more, "a body and its decoded tensors of ");
    }

    /**
     * Takes {@code more} bytes for what a compressed body inflates to, besides the body's, refused
     * as {@link #take(long, long)} is.
     */
    void takeInflated(long more) {
      take(more, bytes.get() + more, "a body and its inflated bytes, of at least ");
    }

    /**
     * From now on the request holds only its answer, of {@code answer} bytes as sent: with the
     * answer built, nothing keeps its body and tensors. Never refused: the work is done and the
     * bytes exist. Counted, they make new bodies wait (503) while clients slow to read hold large
     * answers.
     */
    void holdOnlyAnswer(long answer) {
      held.addAndGet(answer - bytes.getAndSet(answer));
    }

    private void take(long more, long total, String what) {
      long limit = bodyMemory.bytes();
      if (total > limit) {
        throw new HttpProblem(
            507,
            what
                + total
                + " bytes is more than the "
                + bodyMemory
                + " this server keeps for request bodies (--body-memory, by default half its heap);"
                + " send smaller requests, or give the server more memory (--memory)");
      }
      if (held.addAndGet(more) > limit) {
        held.addAndGet(-more);
        throw new HttpProblem(
            503,
            "the "
                + bodyMemory
                + " this server keeps for request bodies (--body-memory) is held by other"
                + " requests now; retry shortly");
      }
      bytes.addAndGet(more);
    }
  }

  /**
   * The answer when the heap has no room for a request now: 507, as for a model that does not fit
   * the memory budget. A large allocation that fails leaves the heap as it was, so the server
   * answers this and goes on.
   */
  static HttpProblem noHeapFor(String what) {
    return new HttpProblem(
        507,
        "the server has no room in its heap for "
            + what
            + " now (the heap holds at most "
            + DataSize.format(Runtime.getRuntime().maxMemory())
            + "); send smaller requests (binary tensors take less than JSON), or give the server"
            + " more memory (--memory, or HANGAR_HEAP)");
  }

  private static InvalidInputException endedEarly(long size, long declared) {
    return new InvalidInputException("the body ended after " + size + " of " + declared + " bytes");
  }

  /** A body that could not be read is the client's doing: 408 when it stalled, else 400. */
  private HttpProblem unreadableBody(IOException failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof java.util.concurrent.TimeoutException) {
        return new HttpProblem(
            408,
            "the request body stalled: nothing arrived for "
                + idleTimeout.toMillis()
                + " ms (--idle-timeout)");
      }
    }
    return new HttpProblem(400, "the request body could not be read: " + failure);
  }

  private HttpProblem tooLarge(String size) {
    return new HttpProblem(
        413,
        "the request body is "
            + size
            + "; the limit is "
            + maxBody
            + " ("
            + maxBody.bytes()
            + " bytes, --max-body)");
  }

  /** Parses a body that is empty (an empty object) or a JSON object. */
  static JsonNode optionalJsonObject(byte[] body) {
    if (body.length == 0) {
      return V2Views.JSON.createObjectNode();
    }
    try {
      JsonNode node = V2Views.REQUEST_READER.readTree(body);
      if (node == null || !node.isObject()) {
        throw new InvalidInputException("the request body must be a JSON object");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidInputException(
          "the request body is not valid JSON: " + V2Json.syntaxError(e));
    } catch (IOException e) {
      throw new InvalidInputException("the request body is not valid JSON: " + e.getMessage());
    }
  }

  /**
   * The value of an optional boolean field ({@code value} missing: false), refusing anything else,
   * null included, with an error naming {@code what}.
   */
  static boolean optionalBoolean(JsonNode value, String what) {
    if (!value.isMissingNode() && !value.isBoolean()) {
      throw new InvalidInputException(what + " must be true or false, got " + value);
    }
    return value.asBoolean(false);
  }

  /**
   * Refuses a field of {@code node} (an object, or missing) that is not in {@code known}, naming it
   * and the known ones: a misspelled field would otherwise be silently ignored.
   */
  static void onlyFields(JsonNode node, String what, Set<String> known) {
    onlyFields(node, () -> what, known);
  }

  /** As {@link #onlyFields(JsonNode, String, Set)}, {@code what} built only for an error. */
  static void onlyFields(JsonNode node, Supplier<String> what, Set<String> known) {
    if (node.isMissingNode() || node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw new InvalidInputException(what.get() + " must be a JSON object, got " + node);
    }
    for (Iterator<String> fields = node.fieldNames(); fields.hasNext(); ) {
      String field = fields.next();
      if (!known.contains(field)) {
        throw new InvalidInputException(
            what.get()
                + ": unknown field \""
                + field
                + "\"; known: "
                + known.stream().sorted().toList());
      }
    }
  }
}
