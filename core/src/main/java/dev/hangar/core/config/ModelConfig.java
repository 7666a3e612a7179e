package dev.hangar.core.config;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.TensorSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The settings of one model, from its optional {@code config.yaml}. Every key is optional; an
 * unknown key is an error. See {@code docs/configuration.md} for the file format.
 *
 * @param backend the format, such as {@code onnx}, when the file extension does not decide it
 * @param defaultModelFilename the model file's name inside each version directory
 * @param versionPolicy which versions are served (default: the latest)
 * @param maxBatchSize the most rows one execution takes; 0 turns batching off. Empty: 64 for a
 *     model whose every input and output has a free dimension 0, else 0
 * @param inputs the declared inputs (required for formats without a signature, such as TorchScript;
 *     checked against the file otherwise)
 * @param outputs the declared outputs
 * @param parameters backend-specific settings, by name
 * @param pinned whether the model stays loaded (never evicted); implies loading at start-up
 * @param loadAtStartup whether the model loads when the server starts
 * @param loadPriority how far the model's loads may evict others
 * @param instances how many executions of the model may run at once (default 1)
 * @param batching the scheduler settings
 * @param warmup the warmup settings
 * @param responseCache the response cache settings
 * @param health the thresholds for DEGRADED
 * @param optimization the optimizations applied when the model loads ({@code optimization:}), done
 *     once by the backend's optimizer and cached; empty: the model is served as it is
 */
public record ModelConfig(
    Optional<String> backend,
    Optional<String> defaultModelFilename,
    VersionPolicy versionPolicy,
    Optional<Integer> maxBatchSize,
    List<TensorConfig> inputs,
    List<TensorConfig> outputs,
    Map<String, String> parameters,
    boolean pinned,
    boolean loadAtStartup,
    LoadPriority loadPriority,
    int instances,
    BatchingConfig batching,
    WarmupConfig warmup,
    CacheConfig responseCache,
    HealthConfig health,
    Optional<OptimizationOptions> optimization) {

  /** The largest max_batch_size accepted. */
  public static final int MAX_BATCH_SIZE = 1 << 20;

  /** The maximum batch size of a batchable model whose config names none. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 64;

  /** The settings of a model without {@code config.yaml}. */
  public static final ModelConfig DEFAULTS =
      new ModelConfig(
          Optional.empty(),
          Optional.empty(),
          VersionPolicy.latest(1),
          Optional.empty(),
          List.of(),
          List.of(),
          Map.of(),
          false,
          false,
          LoadPriority.NORMAL,
          1,
          BatchingConfig.DEFAULTS,
          WarmupConfig.DEFAULTS,
          CacheConfig.DEFAULTS,
          HealthConfig.DEFAULTS,
          Optional.empty());

  /** Validates and copies. */
  public ModelConfig {
    requireNonNull(backend, "backend is null");
    requireNonNull(defaultModelFilename, "defaultModelFilename is null");
    requireNonNull(versionPolicy, "versionPolicy is null");
    requireNonNull(maxBatchSize, "maxBatchSize is null");
    inputs = List.copyOf(requireNonNull(inputs, "inputs is null"));
    outputs = List.copyOf(requireNonNull(outputs, "outputs is null"));
    parameters = Map.copyOf(requireNonNull(parameters, "parameters is null"));
    requireNonNull(loadPriority, "loadPriority is null");
    requireNonNull(batching, "batching is null");
    requireNonNull(warmup, "warmup is null");
    requireNonNull(responseCache, "responseCache is null");
    requireNonNull(health, "health is null");
    requireNonNull(optimization, "optimization is null");
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be at least 1");
    }
    if (inputs.isEmpty() != outputs.isEmpty()) {
      throw new IllegalArgumentException(
          "'inputs' and 'outputs' go together: declare both, or neither");
    }
    // as Triton: a size past the maximum, set or default, could never be cut
    int max = maxBatchSize.orElse(DEFAULT_MAX_BATCH_SIZE);
    String maxText =
        maxBatchSize.isPresent()
            ? "'max_batch_size' " + max
            : "'max_batch_size' (" + max + " when not set)";
    if (max == 0 && !batching.preferredBatchSizes().isEmpty()) {
      throw new IllegalArgumentException(
          "'dynamic_batching.preferred_batch_sizes' has no use with max_batch_size: 0 (no"
              + " batching); remove one of them");
    }
    for (int size : batching.preferredBatchSizes()) {
      if (max > 0 && size > max) {
        throw new IllegalArgumentException(
            "'dynamic_batching.preferred_batch_sizes' holds "
                + size
                + ", more than "
                + maxText
                + "; raise max_batch_size or remove the size");
      }
    }
    for (int size : warmup.batchSizes()) {
      if (max > 0 && size > max) {
        throw new IllegalArgumentException(
            "'warmup.batch_sizes' holds "
                + size
                + ", more than "
                + maxText
                + "; raise max_batch_size or remove the size");
      }
    }
  }

  /** Returns the declared signature, when the config declares inputs and outputs. */
  public Optional<ModelSignature> declaredSignature() {
    if (inputs.isEmpty()) {
      return Optional.empty();
    }
    List<TensorSpec> in = inputs.stream().map(TensorConfig::toSpec).toList();
    List<TensorSpec> out = outputs.stream().map(TensorConfig::toSpec).toList();
    ModelSignature inferred = ModelSignature.inferBatching(in, out);
    boolean batched = maxBatchSize.map(size -> size > 0).orElse(inferred.batched());
    if (batched && !inferred.batched()) {
      throw new IllegalArgumentException(
          "max_batch_size "
              + maxBatchSize.orElseThrow()
              + " needs dimension 0 free (-1) on every declared input and output, the batch dimension");
    }
    return Optional.of(batched ? inferred : inferred.unbatched());
  }

  /**
   * Returns the signature the model is served with: {@code fromModel} with batching switched off
   * when {@code max_batch_size} is 0.
   */
  public ModelSignature servedSignature(ModelSignature fromModel) {
    return maxBatchSize.orElse(1) == 0 ? fromModel.unbatched() : fromModel;
  }

  /** Returns the maximum batch size for a model served with the given signature. */
  public int effectiveMaxBatchSize(ModelSignature served) {
    if (!served.batched()) {
      return 0;
    }
    return maxBatchSize.orElse(DEFAULT_MAX_BATCH_SIZE);
  }

  /**
   * Reads a model config from a parsed {@code config.yaml}.
   *
   * @throws ConfigurationException naming the file, the key and the problem
   */
  public static ModelConfig from(ConfigNode node) {
    try {
      ModelConfig config = read(node);
      node.finish();
      config.declaredSignature();
      return config;
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(node.source() + ": " + e.getMessage(), e);
    }
  }

  private static ModelConfig read(ConfigNode node) {
    Optional<String> backend = node.string("backend");
    Optional<String> filename = node.string("default_model_filename");
    VersionPolicy policy =
        node.raw("version_policy")
            .map(value -> versionPolicy(node, value))
            .orElse(VersionPolicy.latest(1));
    Optional<Integer> maxBatchSize = node.integer("max_batch_size", 0, MAX_BATCH_SIZE);
    List<TensorConfig> inputs = tensors(node, "inputs");
    List<TensorConfig> outputs = tensors(node, "outputs");
    Map<String, String> parameters = node.stringMap("parameters").orElse(Map.of());
    boolean pinned = node.bool("pinned").orElse(false);
    boolean loadAtStartup = node.bool("load_at_startup").orElse(false);
    LoadPriority priority =
        node.string("load_priority")
            .map(
                value ->
                    switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                      case "normal" -> LoadPriority.NORMAL;
                      case "high" -> LoadPriority.HIGH;
                      default ->
                          throw node.error(
                              "load_priority", "must be normal or high, got '" + value + "'");
                    })
            .orElse(LoadPriority.NORMAL);
    int instances = node.integer("instances", 1, 256).orElse(1);
    BatchingConfig batching =
        node.object("dynamic_batching").map(ModelConfig::batching).orElse(BatchingConfig.DEFAULTS);
    WarmupConfig warmup =
        node.object("warmup").map(ModelConfig::warmup).orElse(WarmupConfig.DEFAULTS);
    CacheConfig cache =
        node.object("response_cache").map(ModelConfig::cache).orElse(CacheConfig.DEFAULTS);
    HealthConfig health =
        node.object("health").map(ModelConfig::health).orElse(HealthConfig.DEFAULTS);
    Optional<OptimizationOptions> optimization =
        node.object("optimization").map(ModelConfig::optimization);
    return new ModelConfig(
        backend,
        filename,
        policy,
        maxBatchSize,
        inputs,
        outputs,
        parameters,
        pinned,
        loadAtStartup || pinned,
        priority,
        instances,
        batching,
        warmup,
        cache,
        health,
        optimization);
  }

  private static VersionPolicy versionPolicy(
      ConfigNode node, com.fasterxml.jackson.databind.JsonNode value) {
    if (value.isTextual()) {
      return switch (value.asText().trim().toLowerCase(java.util.Locale.ROOT)) {
        case "latest" -> VersionPolicy.latest(1);
        case "all" -> VersionPolicy.all();
        default ->
            throw node.error(
                "version_policy",
                "must be latest, all, {latest: N} or {specific: [versions]}, got '"
                    + value.asText()
                    + "'");
      };
    }
    ConfigNode policy = node.object("version_policy").orElseThrow();
    Optional<Integer> latest = policy.integer("latest", 1, 1000);
    Optional<List<Long>> specific = policy.longs("specific", 1, Long.MAX_VALUE);
    policy.finish();
    if (latest.isPresent() == specific.isPresent()) {
      throw node.error(
          "version_policy", "must give exactly one of latest: N or specific: [versions]");
    }
    return latest
        .map(VersionPolicy::latest)
        .orElseGet(() -> VersionPolicy.specific(specific.orElseThrow()));
  }

  private static List<TensorConfig> tensors(ConfigNode node, String key) {
    return node.objects(key)
        .map(
            items ->
                items.stream()
                    .map(
                        item -> {
                          Optional<String> name = item.string("name");
                          Optional<String> type = item.string("datatype");
                          Optional<List<Long>> shape = item.longs("shape", -1, Long.MAX_VALUE);
                          // an unknown key first: Triton's dims or data_type is why one is missing
                          item.finish();
                          return new TensorConfig(
                              name.orElseThrow(() -> node.error(key, "entries need a name")),
                              dataType(
                                  item,
                                  type.orElseThrow(() -> item.error("datatype", "is missing"))),
                              shape.orElseThrow(
                                  () -> item.error("shape", "is missing (use [] for a scalar)")));
                        })
                    .toList())
        .orElse(List.of());
  }

  private static DataType dataType(ConfigNode item, String type) {
    try {
      return DataType.fromProtocolName(type);
    } catch (IllegalArgumentException e) {
      String upper = type.trim().toUpperCase(java.util.Locale.ROOT);
      // Triton's config.pbtxt names: TYPE_FP32 is FP32, TYPE_STRING is BYTES
      String triton = upper.equals("TYPE_STRING") ? "BYTES" : upper.replaceFirst("^TYPE_", "");
      boolean known =
          upper.startsWith("TYPE_")
              && java.util.Arrays.stream(DataType.values()).anyMatch(t -> t.name().equals(triton));
      throw item.error(
          "datatype",
          known
              ? "is '" + type + "', Triton's name; write " + triton + " instead"
              : e.getMessage());
    }
  }

  private static BatchingConfig batching(ConfigNode node) {
    BatchingConfig defaults = BatchingConfig.DEFAULTS;
    int levels = node.integer("priority_levels", 1, 100).orElse(defaults.priorityLevels());
    Duration maxQueueDelay = node.duration("max_queue_delay").orElse(defaults.maxQueueDelay());
    if (maxQueueDelay.isNegative() || maxQueueDelay.compareTo(BatchingConfig.MAX_QUEUE_DELAY) > 0) {
      throw node.error(
          "max_queue_delay",
          // 1m is BatchingConfig.MAX_QUEUE_DELAY, as users write it
          "must be from 0ms to 1m, got " + Durations.format(maxQueueDelay));
    }
    BatchingConfig config =
        new BatchingConfig(
            maxQueueDelay,
            node.ints("preferred_batch_sizes", 1, MAX_BATCH_SIZE).orElse(List.of()),
            node.integer("max_queue_size", 1, 1 << 24).orElse(defaults.maxQueueSize()),
            levels,
            node.integer("default_priority", 1, 100)
                .orElse(Math.min(defaults.defaultPriority(), levels)),
            node.duration("default_timeout"));
    node.finish();
    return config;
  }

  private static WarmupConfig warmup(ConfigNode node) {
    WarmupConfig defaults = WarmupConfig.DEFAULTS;
    WarmupConfig config =
        new WarmupConfig(
            node.bool("enabled").orElse(defaults.enabled()),
            node.integer("iterations", 1, 1000).orElse(defaults.iterations()),
            node.ints("batch_sizes", 1, MAX_BATCH_SIZE).orElse(List.of()),
            node.integer("free_dimension_size", 1, 1 << 16).orElse(defaults.freeDimensionSize()),
            node.strings("samples").orElse(List.of()));
    node.finish();
    return config;
  }

  private static CacheConfig cache(ConfigNode node) {
    CacheConfig config = new CacheConfig(node.bool("enabled").orElse(false), node.duration("ttl"));
    node.finish();
    return config;
  }

  private static OptimizationOptions optimization(ConfigNode node) {
    Level level =
        node.string("level")
            .map(
                value -> {
                  try {
                    return Level.fromConfigName(value);
                  } catch (IllegalArgumentException e) {
                    throw node.error(
                        "level", "must be none, basic, extended or all, got '" + value + "'");
                  }
                })
            .orElse(Level.ALL);
    boolean int8 = node.bool("int8").orElse(false);
    double tolerance =
        node.number("int8_tolerance").orElse(OptimizationOptions.DEFAULT_INT8_TOLERANCE);
    if (!(tolerance > 0) || Double.isInfinite(tolerance)) {
      throw node.error("int8_tolerance", "must be a positive number, got " + tolerance);
    }
    boolean perChannel = node.bool("per_channel").orElse(false);
    node.finish();
    return new OptimizationOptions(
        level, int8, tolerance, perChannel ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR);
  }

  private static HealthConfig health(ConfigNode node) {
    HealthConfig defaults = HealthConfig.DEFAULTS;
    HealthConfig config =
        new HealthConfig(
            node.number("max_error_rate").orElse(defaults.maxErrorRate()),
            node.duration("max_p99_latency"),
            node.duration("window").orElse(defaults.window()),
            node.integer("min_requests", 1, Integer.MAX_VALUE).orElse(defaults.minRequests()));
    node.finish();
    return config;
  }

  /** Returns the per-model default timeout, if any. */
  public Optional<Duration> defaultTimeout() {
    return batching.defaultTimeout();
  }
}
