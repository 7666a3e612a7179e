package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.core.config.DataSize;
import dev.hangar.spi.InvalidInputException;
import io.javalin.http.Context;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * Reads request bodies within the server's limits: the body limit (413, checked before reading,
 * while reading and again on the inflated bytes), Content-Encoding (gzip, deflate; others 415), a
 * stalled body (408), and the small JSON objects of the repository endpoints.
 */
final class RequestBodies {
  private final DataSize maxBody;
  private final Duration idleTimeout;

  RequestBodies(HttpSettings settings) {
    requireNonNull(settings, "settings is null");
    this.maxBody = settings.maxBody();
    this.idleTimeout = settings.idleTimeout();
  }

  /**
   * The request body, its Content-Encoding undone: gzip and deflate (zlib), as Triton's clients
   * send them. The body limit holds for the bytes sent and again for the bytes they inflate to.
   */
  byte[] read(Context context) {
    byte[] sent = readSent(context);
    String encoding = context.header("Content-Encoding");
    if (encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity")) {
      return sent;
    }
    String name = encoding.trim().toLowerCase(Locale.ROOT);
    long limit = maxBody.bytes();
    try (InputStream inflated =
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
      byte[] body = inflated.readNBytes((int) limit + 1);
      if (body.length > limit) {
        throw tooLarge("more than " + limit + " bytes once inflated (" + name + ")");
      }
      return body;
    } catch (IOException e) {
      throw new HttpProblem(
          400, "the request body is not valid " + name + " data: " + e.getMessage());
    }
  }

  /** Reads the body as sent, refusing one over the limit with 413 before or while reading it. */
  private byte[] readSent(Context context) {
    long limit = maxBody.bytes();
    long declared = context.req().getContentLengthLong();
    if (declared > limit) {
      throw tooLarge(declared + " bytes");
    }
    try (InputStream in = context.req().getInputStream()) {
      if (declared >= 0) {
        byte[] body = in.readNBytes((int) declared);
        if (body.length != declared) {
          throw new InvalidInputException(
              "the body ended after " + body.length + " of " + declared + " bytes");
        }
        return body;
      }
      byte[] body = in.readNBytes((int) limit + 1);
      if (body.length > limit) {
        throw tooLarge("more than " + limit + " bytes");
      }
      return body;
    } catch (IOException e) {
      throw unreadableBody(e);
    }
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

  /** Reads a body that is empty (an empty object) or a JSON object. */
  JsonNode optionalJsonObject(Context context) {
    byte[] body = read(context);
    if (body.length == 0) {
      return V2Views.JSON.createObjectNode();
    }
    try {
      JsonNode node = V2Views.JSON.readTree(body);
      if (node == null || !node.isObject()) {
        throw new InvalidInputException("the request body must be a JSON object");
      }
      return node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidInputException(
          "the request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidInputException("the request body is not valid JSON: " + e.getMessage());
    }
  }

  /**
   * Refuses a field of {@code node} (an object, or missing) that is not in {@code known}, naming it
   * and the known ones: a misspelled field would otherwise be silently ignored.
   */
  static void onlyFields(JsonNode node, String what, Set<String> known) {
    if (node.isMissingNode() || node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw new InvalidInputException(what + " must be a JSON object, got " + node);
    }
    node.fieldNames()
        .forEachRemaining(
            field -> {
              if (!known.contains(field)) {
                throw new InvalidInputException(
                    what
                        + ": unknown field \""
                        + field
                        + "\"; known: "
                        + known.stream().sorted().toList());
              }
            });
  }
}
