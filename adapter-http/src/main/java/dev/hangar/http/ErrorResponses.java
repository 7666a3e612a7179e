package dev.hangar.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns every failure into {@code {"error": "..."}} with its status. The status of a {@link
 * HangarException} comes from its category, in {@link #status(ErrorCategory)} and nowhere else.
 * Clients never see a stack trace; 500s are logged with theirs.
 */
final class ErrorResponses {
  private static final System.Logger LOG = System.getLogger(ErrorResponses.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Seconds a client should wait before retrying a 503. */
  static final String RETRY_AFTER_SECONDS = "1";

  private ErrorResponses() {}

  /**
   * The one mapping from category to HTTP status.
   *
   * <p>INSUFFICIENT_RESOURCES is 507 (Insufficient Storage): the model does not fit the memory
   * budget even after evicting what may be evicted, which waiting a second will not fix, unlike
   * 503.
   */
  static int status(ErrorCategory category) {
    return switch (category) {
      case USER_ERROR -> 400;
      case NOT_FOUND -> 404;
      case UNAVAILABLE -> 503;
      case INSUFFICIENT_RESOURCES -> 507;
      case BACKEND_FAILURE, INTERNAL -> 500;
    };
  }

  /**
   * Sets the status and headers of the error response for {@code failure} and returns its body, for
   * the caller to write.
   */
  static byte[] prepare(Context context, Throwable failure) {
    Throwable cause = unwrap(failure);
    int status;
    String message;
    if (cause instanceof HttpProblem problem) {
      status = problem.status();
      message = problem.getMessage();
    } else if (cause instanceof HangarException hangar) {
      status = status(hangar.category());
      message = hangar.getMessage();
    } else if (cause instanceof OutOfMemoryError) {
      // what the request allocated is garbage now: it alone failed, and the server goes on
      HttpProblem problem = RequestBodies.noHeapFor("this request");
      status = problem.status();
      message = problem.getMessage();
    } else {
      status = 500;
      message = "internal error: " + cause.getClass().getSimpleName() + " (logged by the server)";
    }
    // 501 answers a transfer coding the client chose, 503 and 507 a lack of room: not failures
    if (status >= 500 && status != 501 && status != 503 && status != 507) {
      LOG.log(
          Level.ERROR,
          context.method() + " " + context.path() + " failed with " + status + ": " + cause,
          cause);
    }
    if (status == 503) {
      context.header("Retry-After", RETRY_AFTER_SECONDS);
    }
    if (status == 401) {
      context.header("WWW-Authenticate", "Bearer");
    }
    context.status(status).contentType(V2Endpoints.JSON_TYPE);
    return body(message);
  }

  /**
   * Sets the status and headers of the answer to Javalin's own refusals (no such route, a method
   * the route does not take) and returns its body, {@code {"error": ...}}; a 405 names the methods
   * the path takes, in its message and its Allow header.
   */
  static byte[] prepareRouting(HttpResponseException failure, Context context) {
    String allowed = failure.getDetails().get("availableMethods");
    if (failure.getStatus() == 405 && allowed != null) {
      context.header("Allow", allowed);
      return prepare(
          context,
          new HttpProblem(
              405,
              context.method() + " is not allowed on " + context.path() + "; it takes " + allowed));
    }
    return prepare(context, new HttpProblem(failure.getStatus(), failure.getMessage()));
  }

  /**
   * Returns {@code {"error": message}} as bytes, the message on one line: a message of several
   * lines (a config example, an engine's own report) has them joined by spaces.
   */
  static byte[] body(String message) {
    ObjectNode node = JSON.createObjectNode();
    node.put(
        "error",
        message == null
            ? "unknown failure"
            : message
                .lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty())
                .collect(java.util.stream.Collectors.joining(" ")));
    try {
      return JSON.writeValueAsBytes(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Returns the failure inside completion and execution exceptions. */
  static Throwable unwrap(Throwable failure) {
    Throwable current = failure;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }
}
