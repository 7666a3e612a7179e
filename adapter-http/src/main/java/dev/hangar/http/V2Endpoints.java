package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.health.HealthMonitor;
import dev.hangar.core.health.ModelHealth;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelNotFoundException;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Gauge;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * The handlers of every endpoint. Each one checks what the URL and body say, calls core, and
 * translates the answer; failures become {@link ErrorResponses}.
 */
final class V2Endpoints {
  /** The extensions reported by {@code GET /v2}. */
  static final List<String> EXTENSIONS =
      List.of(
          "binary_tensor_data",
          "model_repository",
          "schedule_policy",
          "statistics",
          "model_configuration");

  static final String JSON_TYPE = "application/json";
  static final String BINARY_TYPE = "application/octet-stream";
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  private static final System.Logger LOG = System.getLogger(V2Endpoints.class.getName());
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

  private final ModelManager manager;
  private final HealthMonitor health;
  private final InferenceService inference;
  private final HangarMetrics metrics;
  private final RequestBodies bodies;
  private final ResponseWriter answers;
  private final AdminGuard admin;
  private final String serverVersion;

  V2Endpoints(
      ModelManager manager,
      HealthMonitor health,
      InferenceService inference,
      HangarMetrics metrics,
      HttpSettings settings,
      String serverVersion) {
    this.manager = requireNonNull(manager, "manager is null");
    this.health = requireNonNull(health, "health is null");
    this.inference = requireNonNull(inference, "inference is null");
    this.metrics = requireNonNull(metrics, "metrics is null");
    this.bodies = new RequestBodies(requireNonNull(settings, "settings is null"));
    this.answers = new ResponseWriter(settings.minBodyRate());
    Gauge.builder("hangar_http_body_bytes", bodies, RequestBodies::heldBytes)
        .description(
            "Heap the bodies of requests in flight, their decoded tensors and their answers hold,"
                + " out of --body-memory")
        .strongReference(true)
        .register(metrics.registry());
    this.admin = new AdminGuard(settings);
    this.serverVersion = requireNonNull(serverVersion, "serverVersion is null");
  }

  // ---------------------------------------------------------------------------------------------
  // Health and server metadata

  void live(Context context) {
    ObjectNode body = V2Views.JSON.createObjectNode().put("live", true);
    json(context, 200, body);
  }

  void ready(Context context) {
    List<String> waiting = manager.notReady();
    ObjectNode body = V2Views.JSON.createObjectNode().put("ready", waiting.isEmpty());
    if (waiting.isEmpty()) {
      json(context, 200, body);
      return;
    }
    body.put("error", "not ready; waiting for " + String.join(", ", waiting));
    context.header("Retry-After", ErrorResponses.RETRY_AFTER_SECONDS);
    json(context, 503, body);
  }

  void serverMetadata(Context context) {
    ObjectNode body = V2Views.JSON.createObjectNode();
    body.put("name", "hangar");
    body.put("version", serverVersion);
    ArrayNode extensions = body.putArray("extensions");
    EXTENSIONS.forEach(extensions::add);
    json(context, 200, body);
  }

  // ---------------------------------------------------------------------------------------------
  // Models

  /** {@code GET /v2/models/{model}[/versions/{version}]}: loads the model when it is not loaded. */
  void modelMetadata(Context context) {
    String model = model(context);
    OptionalLong version = version(context);
    whenDone(
        context,
        manager
            .acquire(model, version)
            .thenApply(
                lease -> {
                  try (ModelLease held = lease) {
                    return V2Views.modelMetadata(
                        model,
                        manager.servedVersions(model),
                        held.version().format(),
                        held.version().signature());
                  }
                }),
        (body, failure) -> respond(context, body, failure));
  }

  /** {@code GET /v2/models/{model}[/versions/{version}]/ready}: 200 when READY, else 503. */
  void modelReady(Context context) {
    String model = model(context);
    OptionalLong version = version(context);
    ModelStatus status = status(model, version);
    ObjectNode body = V2Views.JSON.createObjectNode();
    body.put("name", model);
    boolean known = status.version() != 0; // 0: the model cannot be read, its versions unknown
    if (known) {
      body.put("version", Long.toString(status.version()));
    }
    boolean ready = status.serving();
    body.put("ready", ready);
    if (ready) {
      json(context, 200, body);
      return;
    }
    body.put(
        "error",
        "model '"
            + model
            + "'"
            + (known ? " version " + status.version() : "")
            + " is "
            + status.state()
            + status.reason().map(reason -> " (" + reason + ")").orElse(""));
    context.header("Retry-After", ErrorResponses.RETRY_AFTER_SECONDS);
    json(context, 503, body);
  }

  /** {@code GET /v2/models/{model}[/versions/{version}]/config}. */
  void modelConfig(Context context) {
    String model = model(context);
    OptionalLong version = version(context);
    ModelStatus status = status(model, version);
    ModelDefinition definition =
        manager
            .definition(model)
            .orElseThrow(
                () ->
                    new dev.hangar.core.model.ModelUnavailableException(
                        "model '"
                            + model
                            + "' cannot be served: "
                            + status.reason().orElse("its files cannot be read")));
    Optional<ModelLease> lease = Optional.empty();
    if (status.serving()) {
      // serving: the lease comes at once and shows what is served; should the version have gone in
      // between, whatever arrives later is released at once
      CompletableFuture<ModelLease> leasing = manager.acquire(model, version);
      try {
        lease = Optional.ofNullable(leasing.getNow(null));
      } catch (java.util.concurrent.CompletionException e) {
        lease = Optional.empty();
      }
      if (lease.isEmpty()) {
        leasing.thenAccept(ModelLease::close);
      }
    }
    try {
      ObjectNode body =
          V2Views.modelConfig(
              model,
              definition.format(),
              manager.servedVersions(model),
              lease.map(held -> held.version().config()).orElse(definition.config()),
              lease.map(held -> held.version().signature()),
              lease.map(held -> held.version().maxBatchSize()));
      json(context, 200, body);
    } finally {
      lease.ifPresent(ModelLease::close);
    }
  }

  void infer(Context context) {
    String model = model(context);
    OptionalLong version = version(context);
    int headerLength = headerLength(context);
    if (RequestBodies.expectsContinue(context)) {
      // the client sends the body only once told to: an unknown model or version is 404 first
      status(model, version);
    }
    withBody(
        context,
        body -> {
          if (headerLength == 0) {
            inferRaw(context, model, version, body);
          } else {
            inferDecoded(context, model, version, body, headerLength);
          }
        });
  }

  private void inferDecoded(
      Context context,
      String model,
      OptionalLong version,
      RequestBodies.Body body,
      int headerLength) {
    InferenceCodec.Decoded decoded;
    try {
      // the tensors of JSON data count against the memory for bodies, with the body
      decoded =
          InferenceCodec.decode(
              model, version, body.bytes(), headerLength, body.holding()::takeMore);
    } catch (OutOfMemoryError e) {
      // what decoding allocated is this request's alone, and garbage now
      throw RequestBodies.noHeapFor("the tensors of a " + body.bytes().length + "-byte request");
    } catch (RuntimeException e) {
      status(model, version); // a request to an unknown model or version says that first: 404
      throw e;
    }
    whenDone(
        context,
        inference.submit(decoded.request()),
        (response, failure) -> answer(context, decoded, response, failure, body.holding()));
  }

  /**
   * A raw binary request (Inference-Header-Content-Length: 0): the body is the data of the model's
   * only input, whose type and shape come from the model's signature.
   */
  private void inferRaw(
      Context context, String model, OptionalLong version, RequestBodies.Body body) {
    whenDone(
        context,
        manager
            .acquire(model, version)
            .thenCompose(
                lease -> {
                  InferenceCodec.Decoded decoded;
                  try (ModelLease held = lease) {
                    // the version whose signature shaped the input runs it, should the default
                    // version change in between
                    decoded =
                        InferenceCodec.decodeRaw(
                            model,
                            OptionalLong.of(held.version().key().version()),
                            body.bytes(),
                            held.version().signature());
                  }
                  return inference
                      .submit(decoded.request())
                      .thenApply(response -> new Answered(decoded, response));
                }),
        (answered, failure) ->
            answer(
                context,
                answered == null ? null : answered.decoded(),
                answered == null ? null : answered.response(),
                failure,
                body.holding()));
  }

  private record Answered(InferenceCodec.Decoded decoded, InferenceResponse response) {}

  /**
   * Sets the answer's status and headers, an error's included, and returns its body, compressed
   * where its client allows it; from then on {@code holding} counts the answer's bytes, and no
   * longer the body's and the tensors', until it is written.
   */
  private static byte[] answer(
      Context context,
      InferenceCodec.Decoded decoded,
      InferenceResponse response,
      Throwable failure,
      RequestBodies.Holding holding) {
    if (failure != null) {
      return ErrorResponses.prepare(context, failure);
    }
    InferenceCodec.Encoded encoded;
    byte[] sent;
    try {
      encoded = InferenceCodec.encode(response, decoded);
      // compressed here, not as it is written: what waits on a slow client is the compressed copy
      sent = ResponseWriter.encoded(context, encoded.body());
    } catch (RuntimeException e) {
      return ErrorResponses.prepare(context, e);
    } catch (OutOfMemoryError e) {
      // the answer being built is this request's alone, and garbage now
      return ErrorResponses.prepare(context, noHeapForAnswer(response));
    }
    holding.holdOnlyAnswer(sent.length);
    if (encoded.headerLength() >= 0) {
      context.header(HEADER_LENGTH, Integer.toString(encoded.headerLength()));
      context.contentType(BINARY_TYPE);
    } else {
      context.contentType(JSON_TYPE);
    }
    context.status(200);
    return sent;
  }

  /** The answer when the heap has no room to write out the outputs: 507, as for a body. */
  private static HttpProblem noHeapForAnswer(InferenceResponse response) {
    long values = 0;
    for (Tensor output : response.outputs()) {
      values += output.elementCount();
    }
    return RequestBodies.noHeapFor("an answer of " + values + " output values");
  }

  /**
   * Answers from {@code future}: {@code answerer} sets the status and headers and returns the body,
   * an error's included. A future already complete (a READY model answered on this thread) is
   * answered at once; otherwise the request becomes asynchronous, the thread that completes the
   * future (a core thread: where there are cores to spare, core hands a batch's answers to other
   * workers than the one running the model) encodes the answer, and {@link ResponseWriter} writes
   * it without blocking, so that no thread waits on a client that does not read.
   */
  private <T> void whenDone(
      Context context,
      CompletableFuture<T> future,
      java.util.function.BiFunction<T, Throwable, byte[]> answerer) {
    if (future.isDone()) {
      T value = null;
      Throwable failure = null;
      try {
        value = future.join();
      } catch (java.util.concurrent.CompletionException
          | java.util.concurrent.CancellationException e) {
        failure = e;
      }
      answers.send(context, answerer.apply(value, failure));
      return;
    }
    // Javalin calls the supplier once the request is asynchronous
    context.future(() -> future.handle(answerer).thenCompose(body -> answers.write(context, body)));
  }

  /**
   * Handles a request with a body: {@code handler} runs with all of it, at once when it has all
   * arrived, else once it has, no thread waiting for it meanwhile ({@link RequestBodies}). A body
   * that cannot be read becomes its error answer.
   */
  private void withBody(Context context, java.util.function.Consumer<RequestBodies.Body> handler) {
    RequestBodies.Body arrived = bodies.readIfArrived(context);
    if (arrived != null) {
      handler.accept(arrived);
      return;
    }
    // Javalin calls the supplier once the request is asynchronous; the handler, run when the body
    // is complete, sets the future of its answer, which Javalin then waits for in turn
    context.future(() -> bodies.read(context).thenAccept(handler));
  }

  /** As {@link #withBody}, for a body that is empty or a JSON object. */
  private void withJsonBody(Context context, java.util.function.Consumer<JsonNode> handler) {
    withBody(context, body -> handler.accept(RequestBodies.optionalJsonObject(body.bytes())));
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics and metrics

  void allStatistics(Context context) {
    ObjectNode body = V2Views.JSON.createObjectNode();
    ArrayNode stats = body.putArray("model_stats");
    for (ModelStatus status : manager.list()) {
      addStatistics(stats, status);
    }
    json(context, 200, body);
  }

  void modelStatistics(Context context) {
    String model = model(context);
    OptionalLong version = version(context);
    ObjectNode body = V2Views.JSON.createObjectNode();
    ArrayNode stats = body.putArray("model_stats");
    List<ModelStatus> statuses = manager.status(model);
    if (version.isPresent()) {
      addStatistics(stats, status(model, version));
    } else {
      statuses.forEach(status -> addStatistics(stats, status));
    }
    json(context, 200, body);
  }

  private void addStatistics(ArrayNode stats, ModelStatus status) {
    manager
        .statistics(status.key())
        .ifPresent(
            statistics ->
                stats.add(
                    V2Views.modelStatistics(
                        status.name(),
                        status.version(),
                        statistics.snapshot(),
                        status.memoryBytes())));
  }

  void metrics(Context context) {
    context.status(200).contentType("text/plain; version=0.0.4; charset=utf-8");
    answers.send(context, metrics.scrape().getBytes(StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------------------------------------
  // Repository

  /** {@code POST /v2/repository/index}, body optional: {@code {"ready": true}}. */
  void repositoryIndex(Context context) {
    withJsonBody(context, request -> repositoryIndex(context, request));
  }

  private void repositoryIndex(Context context, JsonNode request) {
    RequestBodies.onlyFields(request, "the index request", Set.of("ready"));
    boolean readyOnly = RequestBodies.optionalBoolean(request.path("ready"), "\"ready\"");
    ArrayNode body = V2Views.JSON.createArrayNode();
    for (ModelHealth model : health.models()) {
      if (!readyOnly || model.status().serving()) {
        body.add(V2Views.indexEntry(model));
      }
    }
    json(context, 200, body);
  }

  /**
   * {@code POST /v2/repository/models/{model}/load}; body optional: {@code {"parameters":
   * {"priority": "high"}}} lets the load evict busy models (see docs/configuration.md).
   */
  void load(Context context) {
    admin.check(context.header("Authorization"));
    String model = model(context);
    withJsonBody(context, request -> load(context, model, request));
  }

  private void load(Context context, String model, JsonNode request) {
    RequestBodies.onlyFields(request, "the load request", Set.of("parameters"));
    // Triton's "config" and "file:" overrides are not supported: refused, not ignored
    RequestBodies.onlyFields(request.path("parameters"), "load parameters", Set.of("priority"));
    LoadPriority priority = LoadPriority.NORMAL;
    JsonNode given = request.path("parameters").path("priority");
    if (!given.isMissingNode() && !given.isNull()) {
      try {
        priority = LoadPriority.valueOf(given.asText().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(
            "load parameter \"priority\" must be \"normal\" or \"high\", got " + given);
      }
    }
    LoadPriority chosen = priority;
    whenDone(
        context,
        manager
            .load(model, chosen)
            .thenApply(
                done -> V2Views.JSON.createObjectNode().put("name", model).put("load", true)),
        (body, failure) -> respond(context, body, failure));
  }

  /** {@code POST /v2/repository/models/{model}/unload}: returns once the model is closed. */
  void unload(Context context) {
    admin.check(context.header("Authorization"));
    String model = model(context);
    withJsonBody(context, request -> unload(context, model, request));
  }

  private void unload(Context context, String model, JsonNode request) {
    RequestBodies.onlyFields(request, "the unload request", Set.of("parameters"));
    // Triton's unload_dependents: Hangar has no ensembles, so there is nothing else to unload
    RequestBodies.onlyFields(
        request.path("parameters"), "unload parameters", Set.of("unload_dependents"));
    RequestBodies.optionalBoolean(
        request.path("parameters").path("unload_dependents"),
        "unload parameter \"unload_dependents\"");
    whenDone(
        context,
        manager
            .unload(model)
            .thenApply(
                done -> V2Views.JSON.createObjectNode().put("name", model).put("unload", true)),
        (body, failure) -> respond(context, body, failure));
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** The status of the version asked for, or of the default version. */
  private ModelStatus status(String model, OptionalLong version) {
    List<ModelStatus> statuses = manager.status(model);
    if (statuses.size() == 1 && statuses.get(0).version() == 0) {
      return statuses.get(0); // a model that cannot be read: what is wrong stands for any version
    }
    if (version.isPresent()) {
      return statuses.stream()
          .filter(status -> status.version() == version.getAsLong())
          .findFirst()
          .orElseThrow(
              () ->
                  new ModelNotFoundException(
                      "model '" + model + "' has no version " + version.getAsLong()));
    }
    return statuses.stream().filter(ModelStatus::isDefault).findFirst().orElse(statuses.get(0));
  }

  /** The model name of the path, checked before anything touches the manager or the disk. */
  static String model(Context context) {
    String name = context.pathParam("model");
    if (!ModelRepository.isValidName(name)) {
      throw new InvalidInputException(
          "'"
              + name
              + "' is not a valid model name: letters, digits, '_', '.' and '-', starting with a"
              + " letter or digit, no '..', at most 128 characters");
    }
    return name;
  }

  static OptionalLong version(Context context) {
    if (!context.pathParamMap().containsKey("version")) {
      return OptionalLong.empty();
    }
    String text = context.pathParam("version");
    if (!VERSION.matcher(text).matches()) {
      throw new InvalidInputException(
          "'" + text + "' is not a model version; versions are positive integers");
    }
    return OptionalLong.of(Long.parseLong(text));
  }

  private static int headerLength(Context context) {
    String value = context.header(HEADER_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      int length = Integer.parseInt(value.trim());
      if (length < 0) {
        throw new NumberFormatException();
      }
      return length;
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          HEADER_LENGTH + " must be a non-negative integer, got '" + value + "'");
    }
  }

  /** Sets a JSON answer's status and type, an error's included, and returns its body. */
  private static byte[] respond(Context context, Object body, Throwable failure) {
    if (failure != null) {
      return ErrorResponses.prepare(context, failure);
    }
    context.status(200).contentType(JSON_TYPE);
    return V2Views.bytes(body);
  }

  private void json(Context context, int status, Object body) {
    context.status(status).contentType(JSON_TYPE);
    answers.send(context, V2Views.bytes(body));
  }

  /**
   * Answers a request whose handling threw {@code failure}: with an error response, or, when the
   * failure was that its client went away, by counting an undelivered answer and logging one line
   * at debug level (a client that times out or hangs up is not the server's failure).
   */
  void failed(Exception failure, Context context) {
    if (ErrorResponses.unwrap(failure) instanceof ClientGoneException gone) {
      metrics.answerUndelivered();
      LOG.log(
          System.Logger.Level.DEBUG,
          () -> context.method() + " " + context.path() + ": " + gone.getMessage());
      return;
    }
    answers.send(context, ErrorResponses.prepare(context, failure));
  }

  /**
   * Answers a request Javalin's routing refused (no such route: 404; a method the route does not
   * take: 405) with {@code {"error": ...}}.
   */
  void routingFailed(HttpResponseException failure, Context context) {
    answers.send(context, ErrorResponses.prepareRouting(failure, context));
  }
}
