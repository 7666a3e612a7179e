package dev.hangar.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hangar.core.config.BatchingConfig;
import dev.hangar.core.config.CacheConfig;
import dev.hangar.core.config.HealthConfig;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.config.TensorConfig;
import dev.hangar.core.config.WarmupConfig;
import dev.hangar.core.health.BatchStatistics;
import dev.hangar.core.health.ModelHealth;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.model.ModelState;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.TensorSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON shapes of the v2 protocol and of Triton's extensions, built from core's values. Pure
 * translation: no decision about models is made here.
 */
final class V2Views {
  static final ObjectMapper JSON = new ObjectMapper();
  // request bodies: text after the JSON, or a key given twice, is an error, not silently dropped
  static final ObjectReader REQUEST_READER =
      JSON.reader()
          .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          // numbers straight from the parser's characters, with no String each: as exact
          .with(StreamReadFeature.USE_FAST_DOUBLE_PARSER);

  private V2Views() {}

  /** The v2 platform name of a backend format ({@code <project>_<format>}). */
  static String platform(String format) {
    return switch (format) {
      case "onnx" -> "onnxruntime_onnx";
      case "torchscript" -> "pytorch_libtorch";
      case "coreml" -> "coreml_mlmodel";
      default -> format;
    };
  }

  /** {@code $metadata_model_response}. */
  static ObjectNode modelMetadata(
      String name, List<Long> versions, String format, ModelSignature signature) {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", name);
    ArrayNode versionList = node.putArray("versions");
    versions.forEach(version -> versionList.add(Long.toString(version)));
    node.put("platform", platform(format));
    node.set("inputs", tensors(signature.inputs()));
    node.set("outputs", tensors(signature.outputs()));
    return node;
  }

  private static ArrayNode tensors(List<TensorSpec> specs) {
    ArrayNode list = JSON.createArrayNode();
    for (TensorSpec spec : specs) {
      ObjectNode tensor = list.addObject();
      tensor.put("name", spec.name());
      tensor.put("datatype", spec.dataType().name());
      ArrayNode shape = tensor.putArray("shape");
      for (long dimension : spec.shape()) {
        shape.add(dimension);
      }
    }
    return list;
  }

  /**
   * Triton's repository index entry state: READY, LOADING, UNLOADING or UNAVAILABLE (with Hangar's
   * own state in the reason when that says more), and under {@code "hangar"} what {@code hangar
   * models} shows: Hangar's own state, format, memory in bytes, last use (epoch milliseconds, null
   * when never), pinned, whether it is the default version, requests in flight, the reason, and the
   * health verdict (HEALTHY, DEGRADED or NOT_READY) with why it is DEGRADED (else null).
   */
  static ObjectNode indexEntry(ModelHealth health) {
    ModelStatus status = health.status();
    ObjectNode node = JSON.createObjectNode();
    node.put("name", status.name());
    if (status.version() > 0) {
      node.put("version", Long.toString(status.version()));
    }
    String state =
        switch (status.state()) {
          case READY -> "READY";
          case LOADING, WARMING -> "LOADING";
          case UNLOADING -> "UNLOADING";
          case AVAILABLE, UNLOADED, EVICTED, FAILED -> "UNAVAILABLE";
        };
    node.put("state", state);
    String reason = status.reason().orElse("");
    if (status.state() == ModelState.AVAILABLE
        || status.state() == ModelState.UNLOADED
        || status.state() == ModelState.EVICTED) {
      String label = status.state().name().toLowerCase(java.util.Locale.ROOT);
      reason = reason.isEmpty() ? label : label + ": " + reason;
    }
    node.put("reason", reason);
    ObjectNode hangar = node.putObject("hangar");
    hangar.put("state", status.state().name());
    if (status.format().isPresent()) {
      hangar.put("format", status.format().get());
    } else {
      hangar.putNull("format");
    }
    hangar.put("memory_bytes", status.memoryBytes());
    if (status.lastUsed().isPresent()) {
      hangar.put("last_used", status.lastUsed().get().toEpochMilli());
    } else {
      hangar.putNull("last_used");
    }
    hangar.put("pinned", status.pinned());
    hangar.put("default_version", status.isDefault());
    hangar.put("active_requests", status.activeRequests());
    if (status.reason().isPresent()) {
      hangar.put("reason", status.reason().get());
    } else {
      hangar.putNull("reason");
    }
    hangar.put("health", health.verdict().name());
    if (health.verdict() == ModelHealth.Verdict.DEGRADED) {
      hangar.put("health_reason", health.statistics().degradedReason().orElse(""));
    } else {
      hangar.putNull("health_reason");
    }
    return node;
  }

  /**
   * One entry of Triton's {@code model_stats}; {@code memoryBytes} is what the loaded version holds
   * (0 when not loaded).
   */
  static ObjectNode modelStatistics(
      String name, long version, StatisticsSnapshot stats, long memoryBytes) {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", name);
    node.put("version", Long.toString(version));
    node.put("last_inference", stats.lastInference().map(at -> at.toEpochMilli()).orElse(0L));
    node.put("inference_count", stats.inferences());
    node.put("execution_count", stats.executions());
    ObjectNode inference = node.putObject("inference_stats");
    duration(inference, "success", stats.requestLatency().count(), stats.requestLatency().total());
    duration(inference, "fail", stats.failures(), stats.failureLatency().total());
    duration(inference, "queue", stats.queueTime().count(), stats.queueTime().total());
    // compute_input and compute_output are core's joining and splitting of a batch's tensors; the
    // backend's own copies into and out of its engine are inside compute_infer
    duration(inference, "compute_input", stats.computeTime().count(), stats.computeInputTime());
    duration(inference, "compute_infer", stats.computeTime().count(), stats.computeTime().total());
    duration(inference, "compute_output", stats.computeTime().count(), stats.computeOutputTime());
    duration(inference, "cache_hit", stats.cacheHits(), stats.cacheHitLatency().total());
    duration(inference, "cache_miss", stats.cacheMisses(), stats.cacheMissTime());
    node.putObject("response_stats");
    ArrayNode batches = node.putArray("batch_stats");
    for (Map.Entry<Integer, BatchStatistics> entry : stats.batches().entrySet()) {
      ObjectNode batch = batches.addObject();
      batch.put("batch_size", entry.getKey());
      long count = entry.getValue().count();
      duration(batch, "compute_input", count, entry.getValue().inputTime());
      duration(batch, "compute_infer", count, entry.getValue().computeTime());
      duration(batch, "compute_output", count, entry.getValue().outputTime());
    }
    ArrayNode memory = node.putArray("memory_usage");
    if (memoryBytes > 0) {
      // Triton's MemoryUsage: what the model holds, measured when it loaded; Hangar runs on CPU
      ObjectNode usage = memory.addObject();
      usage.put("type", "CPU");
      usage.put("id", 0);
      usage.put("byte_size", memoryBytes);
    }
    return node;
  }

  private static void duration(ObjectNode parent, String field, long count, Duration total) {
    ObjectNode node = parent.putObject(field);
    node.put("count", count);
    node.put("ns", total.toNanos());
  }

  /**
   * The effective configuration of a model, under the keys of {@code config.yaml} (durations as
   * numbers, their unit in the key: {@code max_queue_delay_us}, {@code ttl_ms}); {@code
   * max_batch_size}, {@code inputs} and {@code outputs} are the served ones when a version is
   * loaded ({@code loaded}), else what the file declares.
   */
  static ObjectNode modelConfig(
      String name,
      String format,
      List<Long> versions,
      ModelConfig config,
      Optional<ModelSignature> signature,
      Optional<Integer> maxBatchSize) {
    ObjectNode node = JSON.createObjectNode();
    node.put("name", name);
    node.put("backend", format);
    node.put("platform", platform(format));
    ArrayNode versionList = node.putArray("versions");
    versions.forEach(version -> versionList.add(Long.toString(version)));
    node.put("version_policy", config.versionPolicy().toString());
    config.defaultModelFilename().ifPresent(file -> node.put("default_model_filename", file));
    Optional<Integer> batch = maxBatchSize.or(config::maxBatchSize);
    if (batch.isPresent()) {
      node.put("max_batch_size", batch.get());
    } else {
      node.putNull("max_batch_size");
    }
    node.put("loaded", signature.isPresent());
    if (signature.isPresent()) {
      node.set("inputs", tensors(signature.get().inputs()));
      node.set("outputs", tensors(signature.get().outputs()));
    } else {
      node.set("inputs", declared(config.inputs()));
      node.set("outputs", declared(config.outputs()));
    }
    ObjectNode parameters = node.putObject("parameters");
    config.parameters().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(entry -> parameters.put(entry.getKey(), entry.getValue()));
    node.put("pinned", config.pinned());
    node.put("load_at_startup", config.loadAtStartup());
    node.put("load_priority", config.loadPriority().name().toLowerCase(java.util.Locale.ROOT));
    node.put("instances", config.instances());
    BatchingConfig batching = config.batching();
    ObjectNode scheduling = node.putObject("dynamic_batching");
    putDuration(scheduling, "max_queue_delay_us", batching.maxQueueDelay(), 1_000);
    ArrayNode preferred = scheduling.putArray("preferred_batch_sizes");
    batching.preferredBatchSizes().forEach(preferred::add);
    scheduling.put("max_queue_size", batching.maxQueueSize());
    scheduling.put("priority_levels", batching.priorityLevels());
    scheduling.put("default_priority", batching.defaultPriority());
    if (batching.defaultTimeout().isPresent()) {
      putDuration(scheduling, "default_timeout_us", batching.defaultTimeout().get(), 1_000);
    } else {
      scheduling.putNull("default_timeout_us");
    }
    WarmupConfig warmup = config.warmup();
    ObjectNode warm = node.putObject("warmup");
    warm.put("enabled", warmup.enabled());
    warm.put("iterations", warmup.iterations());
    ArrayNode sizes = warm.putArray("batch_sizes");
    warmup.batchSizes().forEach(sizes::add);
    warm.put("free_dimension_size", warmup.freeDimensionSize());
    ArrayNode samples = warm.putArray("samples");
    warmup.samples().forEach(samples::add);
    CacheConfig cache = config.responseCache();
    ObjectNode cacheNode = node.putObject("response_cache");
    cacheNode.put("enabled", cache.enabled());
    if (cache.ttl().isPresent()) {
      putDuration(cacheNode, "ttl_ms", cache.ttl().get(), 1_000_000);
    } else {
      cacheNode.putNull("ttl_ms");
    }
    if (config.optimization().isPresent()) {
      OptimizationOptions optimization = config.optimization().get();
      ObjectNode optimized = node.putObject("optimization");
      optimized.put("level", optimization.level().configName());
      optimized.put("int8", optimization.int8());
      optimized.put("int8_tolerance", optimization.int8Tolerance());
      optimized.put("per_channel", optimization.granularity() == Granularity.PER_CHANNEL);
    } else {
      node.putNull("optimization");
    }
    HealthConfig health = config.health();
    ObjectNode healthNode = node.putObject("health");
    healthNode.put("max_error_rate", health.maxErrorRate());
    if (health.maxP99Latency().isPresent()) {
      putDuration(healthNode, "max_p99_latency_ms", health.maxP99Latency().get(), 1_000_000);
    } else {
      healthNode.putNull("max_p99_latency_ms");
    }
    putDuration(healthNode, "window_ms", health.window(), 1_000_000);
    healthNode.put("min_requests", health.minRequests());
    return node;
  }

  /**
   * Puts a duration in the unit of {@code unitNanos}: a whole number when it is one, else a
   * fraction (a config may say 1us where the key counts milliseconds; 0 would misread it).
   */
  private static void putDuration(ObjectNode node, String field, Duration value, long unitNanos) {
    long nanos = value.toNanos();
    if (nanos % unitNanos == 0) {
      node.put(field, nanos / unitNanos);
    } else {
      node.put(field, nanos / (double) unitNanos);
    }
  }

  private static ArrayNode declared(List<TensorConfig> tensors) {
    ArrayNode list = JSON.createArrayNode();
    for (TensorConfig tensor : tensors) {
      ObjectNode node = list.addObject();
      node.put("name", tensor.name());
      node.put("datatype", tensor.datatype().name());
      ArrayNode shape = node.putArray("shape");
      tensor.shape().forEach(shape::add);
    }
    return list;
  }

  /** Serializes a JSON tree. */
  static byte[] bytes(Object node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
