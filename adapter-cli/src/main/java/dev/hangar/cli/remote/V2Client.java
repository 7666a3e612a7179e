package dev.hangar.cli.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A client of a KServe v2 REST server (Hangar's, or any with the same endpoints), on the JDK's
 * {@link HttpClient}: HTTP/1.1 with keep-alive connections from its pool, one connection per
 * request in flight.
 *
 * <p>The client runs its completions on its selector thread (a direct executor) and callers use the
 * blocking {@code send}: measured on the 2-core machine, {@code sendAsync(...).join()} and a thread
 * pool as executor each add a thread hand-off per request, and together halved the requests per
 * second of one connection.
 *
 * <p>Every failure is a {@link RemoteException} with one line that names the URL or repeats the
 * server's {@code "error"}.
 */
public final class V2Client implements AutoCloseable {
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private final URI base;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * Creates a client of the server at {@code base} ({@code http://host:port}, any path ignored).
   *
   * @param timeout how long one request may take, and how long connecting may take
   */
  public V2Client(URI base, Duration timeout) {
    this.base = base.resolve("/");
    this.timeout = timeout;
    // what the client does after I/O is small (collect the body, complete a future): done on its
    // selector thread, it saves a thread hand-off per request
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .executor(Runnable::run)
            .build();
  }

  /** Returns the server's base URI, such as {@code http://127.0.0.1:8000/}. */
  public URI base() {
    return base;
  }

  /** Returns the server's address as the user would write it: no trailing slash. */
  public String address() {
    String text = base.toString();
    return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
  }

  // ---------------------------------------------------------------------------------------------
  // Models

  /**
   * What the server says of a model: its metadata, and whether dimension 0 is a batch dimension
   * (from the configuration's {@code max_batch_size} when the server has that endpoint, else from
   * the shapes).
   */
  public RemoteModel model(String name, OptionalLong version) {
    String path = modelPath(name, version);
    JsonNode metadata = getJson(path);
    List<TensorSpec> inputs = specs(metadata.path("inputs"));
    List<TensorSpec> outputs = specs(metadata.path("outputs"));
    List<Long> versions = new ArrayList<>();
    for (JsonNode served : metadata.path("versions")) {
      try {
        versions.add(Long.parseLong(served.asText()));
      } catch (NumberFormatException e) {
        // a server may name versions otherwise; Hangar's are numbers
      }
    }
    ModelSignature inferred = ModelSignature.inferBatching(inputs, outputs);
    Optional<Integer> maxBatchSize = Optional.empty();
    try {
      JsonNode config = getJson(path + "/config");
      JsonNode size = config.path("max_batch_size");
      if (size.isIntegralNumber()) {
        maxBatchSize = Optional.of(size.asInt());
      }
    } catch (RemoteException e) {
      if (e.status() == 0) {
        throw e;
      }
      // no configuration endpoint: the shapes decide
    }
    ModelSignature signature =
        maxBatchSize.isPresent() && maxBatchSize.get() == 0 ? inferred.unbatched() : inferred;
    return new RemoteModel(
        metadata.path("name").asText(name),
        versions,
        metadata.path("platform").asText(""),
        signature,
        maxBatchSize);
  }

  /** The repository index, with the extra fields Hangar adds to Triton's. */
  public JsonNode index() {
    return postJson("/v2/repository/index", "{}", Optional.empty());
  }

  /** Loads a model; {@code token} is the admin bearer token when the server needs one. */
  public void load(String model, Optional<String> token) {
    postJson("/v2/repository/models/" + model + "/load", "{}", token);
  }

  /**
   * The counts of Triton's statistics for a model, summed over its versions (or one version).
   *
   * @return inference_count and execution_count
   */
  public BatchCounts batchCounts(String model, OptionalLong version) {
    JsonNode stats = getJson(modelPath(model, version) + "/stats");
    long inferences = 0;
    long executions = 0;
    for (JsonNode entry : stats.path("model_stats")) {
      inferences += entry.path("inference_count").asLong();
      executions += entry.path("execution_count").asLong();
    }
    return new BatchCounts(inferences, executions);
  }

  // ---------------------------------------------------------------------------------------------
  // Inference

  /** Builds a reusable inference request for {@code body}. */
  public HttpRequest inferRequest(String model, OptionalLong version, V2Codec.Body body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(base.resolve(modelPath(model, version).substring(1) + "/infer"))
            .timeout(timeout)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.body()));
    if (body.headerLength() >= 0) {
      builder.header("Content-Type", "application/octet-stream");
      builder.header(HEADER_LENGTH, Integer.toString(body.headerLength()));
    } else {
      builder.header("Content-Type", "application/json");
    }
    return builder.build();
  }

  /**
   * Sends a request built by {@link #inferRequest} and waits for the answer, whatever its status.
   *
   * @throws IOException when there is no answer
   */
  public HttpResponse<byte[]> exchange(HttpRequest request)
      throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Runs one inference request and decodes the response. */
  public InferenceResponse infer(String model, OptionalLong version, V2Codec.Body body) {
    HttpResponse<byte[]> response = send(inferRequest(model, version, body));
    return decode(response);
  }

  /** Decodes a successful inference response. */
  public static InferenceResponse decode(HttpResponse<byte[]> response) {
    int headerLength =
        response.headers().firstValue(HEADER_LENGTH).map(Integer::parseInt).orElse(-1);
    return V2Codec.decode(response.body(), headerLength);
  }

  /** The server's {@code "error"} of a failed response, or its status line. */
  public static String errorOf(HttpResponse<byte[]> response) {
    return v2Error(response).orElse("HTTP " + response.statusCode());
  }

  /** The {@code "error"} of a v2 error answer, {@code {"error": "..."}}; empty for any other. */
  private static Optional<String> v2Error(HttpResponse<byte[]> response) {
    String text = new String(response.body(), StandardCharsets.UTF_8);
    try {
      JsonNode body = V2Codec.JSON.readTree(text);
      if (body != null && body.path("error").isTextual()) {
        return Optional.of(body.get("error").asText());
      }
    } catch (IOException e) {
      // not JSON: no v2 error
    }
    return Optional.empty();
  }

  /** Describes an I/O failure of a request to this server in one line. */
  public RemoteException failure(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof java.util.concurrent.CompletionException
            || cause instanceof java.util.concurrent.ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    String message = null;
    // a name that does not resolve comes wrapped in a ConnectException: it says more, so first
    for (Throwable link = cause; link != null && message == null; link = link.getCause()) {
      if (link instanceof UnresolvedAddressException
          || link instanceof java.net.UnknownHostException) {
        message = "cannot connect to " + address() + ": unknown host";
      }
    }
    // the JDK's client wraps the socket's own failure: the first recognized one in the chain wins
    for (Throwable link = cause; link != null && message == null; link = link.getCause()) {
      if (link instanceof HttpConnectTimeoutException) {
        message =
            "cannot connect to "
                + address()
                + ": no answer within "
                + timeout.toMillis()
                + " ms (is 'hangar serve' running there?)";
      } else if (link instanceof ConnectException) {
        message =
            "cannot connect to "
                + address()
                + ": connection refused (is 'hangar serve' running there?)";
      } else if (link instanceof HttpTimeoutException) {
        message = "no answer from " + address() + " within " + timeout.toMillis() + " ms";
      }
    }
    if (message == null) {
      String detail =
          cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      message = "request to " + address() + " failed: " + detail;
    }
    return new RemoteException(ErrorCategory.UNAVAILABLE, 0, message, cause);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static String modelPath(String model, OptionalLong version) {
    return "/v2/models/" + model + (version.isPresent() ? "/versions/" + version.getAsLong() : "");
  }

  private JsonNode getJson(String path) {
    return json(
        send(
            HttpRequest.newBuilder(base.resolve(path.substring(1)))
                .timeout(timeout)
                .GET()
                .build()));
  }

  private JsonNode postJson(String path, String body, Optional<String> token) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(base.resolve(path.substring(1)))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    token.ifPresent(value -> builder.header("Authorization", "Bearer " + value));
    return json(send(builder.build()));
  }

  private HttpResponse<byte[]> send(HttpRequest request) {
    HttpResponse<byte[]> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException | IllegalArgumentException e) {
      throw failure(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RemoteException(
          ErrorCategory.UNAVAILABLE, 0, "interrupted waiting for " + address(), e);
    }
    if (response.statusCode() / 100 != 2) {
      int status = response.statusCode();
      if ((status == 404 || status == 405) && v2Error(response).isEmpty()) {
        // a v2 server says what it has not found in {"error": ...}; a web server's own 404 does not
        throw new RemoteException(
            RemoteException.categoryOf(status),
            status,
            address()
                + " does not look like a Hangar or KServe v2 server: "
                + request.method()
                + " "
                + request.uri().getPath()
                + " answered HTTP "
                + status
                + " without a v2 error; check --url",
            null);
      }
      throw new RemoteException(
          RemoteException.categoryOf(status),
          status,
          errorOf(response) + " (HTTP " + status + " from " + request.uri() + ")",
          null);
    }
    return response;
  }

  private JsonNode json(HttpResponse<byte[]> response) {
    try {
      return V2Codec.JSON.readTree(response.body());
    } catch (IOException e) {
      throw new RemoteException(
          ErrorCategory.INTERNAL,
          response.statusCode(),
          "the answer of " + response.uri() + " is not JSON: " + e.getMessage(),
          e);
    }
  }

  private static List<TensorSpec> specs(JsonNode tensors) {
    List<TensorSpec> specs = new ArrayList<>();
    for (JsonNode tensor : tensors) {
      String name = tensor.path("name").asText();
      DataType type;
      try {
        type = DataType.fromProtocolName(tensor.path("datatype").asText());
      } catch (IllegalArgumentException e) {
        throw new RemoteException(
            ErrorCategory.INTERNAL,
            200,
            "the server's metadata has tensor '"
                + name
                + "' of unknown datatype: "
                + e.getMessage(),
            e);
      }
      List<Long> shape = new ArrayList<>();
      tensor.path("shape").forEach(dimension -> shape.add(dimension.asLong()));
      specs.add(new TensorSpec(name, type, shape.stream().mapToLong(Long::longValue).toArray()));
    }
    return specs;
  }

  /**
   * Lets the client go. The JDK's client has no close before Java 21; its selector thread ends once
   * the client is unreachable.
   */
  @Override
  public void close() {}

  /**
   * A model as the server describes it.
   *
   * @param name the model name
   * @param versions the served versions
   * @param platform the v2 platform, such as {@code onnxruntime_onnx}
   * @param signature inputs and outputs, batched when dimension 0 is the batch
   * @param maxBatchSize the configured largest batch, when the server says
   */
  public record RemoteModel(
      String name,
      List<Long> versions,
      String platform,
      ModelSignature signature,
      Optional<Integer> maxBatchSize) {
    /** Copies. */
    public RemoteModel {
      versions = List.copyOf(versions);
    }
  }

  /**
   * Cumulative statistics counts of a model.
   *
   * @param inferences Triton's inference_count: rows that ran in the model
   * @param executions Triton's execution_count: model executions (batches)
   */
  public record BatchCounts(long inferences, long executions) {
    /** Returns the rows per execution between {@code earlier} and this, when any ran. */
    public java.util.OptionalDouble averageSince(BatchCounts earlier) {
      long runs = executions - earlier.executions;
      return runs <= 0
          ? java.util.OptionalDouble.empty()
          : java.util.OptionalDouble.of((inferences - earlier.inferences) / (double) runs);
    }
  }
}
