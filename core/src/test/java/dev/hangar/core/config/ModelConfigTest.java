package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
  private static ModelConfig parse(String yaml) {
    return ModelConfig.from(ConfigFiles.parse("models/m/config.yaml", yaml));
  }

  @Test
  void emptyFileGivesTheDefaults() {
    assertThat(parse("")).isEqualTo(ModelConfig.DEFAULTS);
    assertThat(parse("# only a comment\n")).isEqualTo(ModelConfig.DEFAULTS);
  }

  @Test
  void readsEveryKey() {
    ModelConfig config =
        parse(
            """
            backend: onnx
            default_model_filename: net.onnx
            version_policy: {latest: 2}
            max_batch_size: 16
            inputs:
              - {name: x, datatype: FP32, shape: [-1, 3]}
            outputs:
              - {name: y, datatype: INT64, shape: [-1]}
            parameters: {intra_op_threads: 2, memory_arena: false}
            pinned: true
            load_priority: high
            instances: 2
            dynamic_batching:
              max_queue_delay: 500us
              preferred_batch_sizes: [4, 8]
              max_queue_size: 10
              priority_levels: 4
              default_priority: 3
              default_timeout: 2s
            warmup: {enabled: true, iterations: 3, batch_sizes: [1, 4], free_dimension_size: 5, samples: [a.json]}
            response_cache: {enabled: true, ttl: 5m}
            health: {max_error_rate: 0.2, max_p99_latency: 50ms, window: 30s, min_requests: 5}
            """);
    assertThat(config.backend()).contains("onnx");
    assertThat(config.defaultModelFilename()).contains("net.onnx");
    assertThat(config.versionPolicy()).isEqualTo(VersionPolicy.latest(2));
    assertThat(config.maxBatchSize()).contains(16);
    assertThat(config.parameters())
        .isEqualTo(Map.of("intra_op_threads", "2", "memory_arena", "false"));
    assertThat(config.pinned()).isTrue();
    assertThat(config.loadAtStartup()).as("pinned implies start-up").isTrue();
    assertThat(config.loadPriority()).isEqualTo(LoadPriority.HIGH);
    assertThat(config.instances()).isEqualTo(2);
    assertThat(config.batching())
        .isEqualTo(
            new BatchingConfig(
                Duration.ofNanos(500_000),
                List.of(4, 8),
                10,
                4,
                3,
                Optional.of(Duration.ofSeconds(2))));
    assertThat(config.warmup())
        .isEqualTo(new WarmupConfig(true, 3, List.of(1, 4), 5, List.of("a.json")));
    assertThat(config.responseCache())
        .isEqualTo(new CacheConfig(true, Optional.of(Duration.ofMinutes(5))));
    assertThat(config.health())
        .isEqualTo(
            new HealthConfig(0.2, Optional.of(Duration.ofMillis(50)), Duration.ofSeconds(30), 5));
    ModelSignature signature = config.declaredSignature().orElseThrow();
    assertThat(signature.batched()).isTrue();
    assertThat(signature.outputs().get(0).dataType()).isEqualTo(DataType.INT64);
  }

  @Test
  void anUnknownKeyNamesTheKeyTheFileAndTheClosestKnownKey() {
    assertThatThrownBy(() -> parse("max_batch: 4\n"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("models/m/config.yaml")
        .hasMessageContaining("unknown key 'max_batch'")
        .hasMessageContaining("did you mean 'max_batch_size'");
    assertThatThrownBy(() -> parse("dynamic_batching: {max_queue_dely: 1ms}\n"))
        .hasMessageContaining("unknown key 'dynamic_batching.max_queue_dely'")
        .hasMessageContaining("did you mean 'max_queue_delay'");
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, datatype: FP32, shape: [1], dims: [2]}]\noutputs: [{name: y, datatype: FP32, shape: [1]}]\n"))
        .hasMessageContaining("unknown key 'inputs[0].dims'");
  }

  @Test
  void wrongValuesNameTheKeyAndWhatIsExpected() {
    assertThatThrownBy(() -> parse("max_batch_size: lots\n"))
        .hasMessageContaining("'max_batch_size' must be an integer");
    assertThatThrownBy(() -> parse("max_batch_size: -1\n"))
        .hasMessageContaining("'max_batch_size' must be from 0");
    assertThatThrownBy(() -> parse("pinned: maybe\n"))
        .hasMessageContaining("'pinned' must be true or false");
    assertThatThrownBy(() -> parse("dynamic_batching: {max_queue_delay: soon}\n"))
        .hasMessageContaining("'dynamic_batching.max_queue_delay' is invalid")
        .hasMessageContaining("250ms");
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, datatype: FLOAT, shape: [1]}]\noutputs: [{name: y, datatype: FP32, shape: [1]}]\n"))
        .hasMessageContaining("unknown datatype 'FLOAT'");
    assertThatThrownBy(() -> parse("load_priority: urgent\n"))
        .hasMessageContaining("must be normal or high");
    assertThatThrownBy(() -> parse("version_policy: newest\n"))
        .hasMessageContaining("version_policy");
    assertThatThrownBy(() -> parse("dynamic_batching: {priority_levels: 2, default_priority: 3}\n"))
        .hasMessageContaining("default_priority");
    assertThatThrownBy(() -> parse("parameters: {threads: [1, 2]}\n"))
        .hasMessageContaining("'parameters.threads' must be a plain value");
    assertThatThrownBy(() -> parse("[1, 2]\n")).hasMessageContaining("top level must be a mapping");
    assertThatThrownBy(() -> parse("a: 1\na: 2\n"))
        .hasMessageContaining("not valid YAML")
        .hasMessageContaining("Duplicate");
  }

  @Test
  void numbersOutOfRangeNameTheKeyTheRangeAndTheValueHoweverLarge() {
    assertThat(
            List.of(
                "max_batch_size: 99999999999\n",
                "warmup: {batch_sizes: [99999999999]}\n",
                "dynamic_batching: {preferred_batch_sizes: [99999999999]}\n",
                "dynamic_batching: {preferred_batch_sizes: [0]}\n",
                "version_policy: {specific: [18446744073709551617]}\n",
                "version_policy: {specific: [-1, 1]}\n",
                "inputs: [{name: x, datatype: FP32, shape: [-2]}]\n"
                    + "outputs: [{name: y, datatype: FP32, shape: [-1]}]\n"))
        .allSatisfy(
            yaml ->
                assertThatThrownBy(() -> parse(yaml))
                    .as(yaml)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageStartingWith("models/m/config.yaml: '")
                    .hasMessageMatching("(?s).* from -?\\d+ to \\d+, got -?\\d+"));
    assertThatThrownBy(() -> parse("max_batch_size: 99999999999\n"))
        .hasMessage(
            "models/m/config.yaml: 'max_batch_size' must be from 0 to 1048576, got 99999999999");
    assertThatThrownBy(() -> parse("warmup: {batch_sizes: [99999999999]}\n"))
        .hasMessage(
            "models/m/config.yaml: 'warmup.batch_sizes' must hold integers from 1 to 1048576, got"
                + " 99999999999");
    assertThatThrownBy(() -> parse("max_batch_size: 2.5\n"))
        .hasMessage("models/m/config.yaml: 'max_batch_size' must be an integer, got '2.5'");
  }

  @Test
  void batchSizesPastMaxBatchSizeAndAQueueDelayPastAMinuteAreRefused() {
    assertThatThrownBy(
            () -> parse("max_batch_size: 64\ndynamic_batching: {preferred_batch_sizes: [1000]}\n"))
        .hasMessage(
            "models/m/config.yaml: 'dynamic_batching.preferred_batch_sizes' holds 1000, more than"
                + " 'max_batch_size' 64; raise max_batch_size or remove the size");
    assertThatThrownBy(
            () -> parse("max_batch_size: 0\ndynamic_batching: {preferred_batch_sizes: [2]}\n"))
        .hasMessageContaining(
            "'dynamic_batching.preferred_batch_sizes' has no use with max_batch_size: 0");
    assertThatThrownBy(() -> parse("max_batch_size: 64\nwarmup: {batch_sizes: [1, 100000]}\n"))
        .hasMessageContaining(
            "'warmup.batch_sizes' holds 100000, more than 'max_batch_size' 64; raise");
    assertThatThrownBy(() -> parse("dynamic_batching: {max_queue_delay: 2m}\n"))
        .hasMessageContaining("'dynamic_batching.max_queue_delay' must be from 0ms to 1m, got 2m");
    assertThat(parse("dynamic_batching: {max_queue_delay: 1m}\n").batching().maxQueueDelay())
        .isEqualTo(Duration.ofMinutes(1));
    assertThat(parse("version_policy: Latest\n").versionPolicy().select(List.of(1L, 2L)))
        .containsExactly(2L);
  }

  @Test
  void batchingNeedsAFreeDimensionZeroEverywhere() {
    assertThatThrownBy(
            () ->
                parse(
                    "max_batch_size: 8\ninputs: [{name: x, datatype: FP32, shape: [1, 3]}]\noutputs: [{name: y, datatype: FP32, shape: [-1]}]\n"))
        .hasMessageContaining("max_batch_size 8 needs dimension 0 free");
    ModelConfig unbatched =
        parse(
            "max_batch_size: 0\ninputs: [{name: x, datatype: FP32, shape: [-1, 3]}]\noutputs: [{name: y, datatype: FP32, shape: [-1]}]\n");
    assertThat(unbatched.declaredSignature().orElseThrow().batched()).isFalse();
  }

  @Test
  void versionPolicies() {
    assertThat(parse("version_policy: all\n").versionPolicy().select(List.of(1L, 3L, 2L)))
        .containsExactly(3L, 2L, 1L);
    assertThat(parse("version_policy: latest\n").versionPolicy().select(List.of(1L, 3L, 2L)))
        .containsExactly(3L);
    assertThat(parse("version_policy: {latest: 2}\n").versionPolicy().select(List.of(1L, 3L, 2L)))
        .containsExactly(3L, 2L);
    assertThat(
            parse("version_policy: {specific: [1, 7]}\n").versionPolicy().select(List.of(1L, 3L)))
        .containsExactly(1L);
    assertThatThrownBy(() -> parse("version_policy: {latest: 1, specific: [1]}\n"))
        .hasMessageContaining("exactly one");
  }

  @Test
  void sizesAndDurations() {
    assertThat(DataSize.parse("750MB").bytes()).isEqualTo(750L << 20);
    assertThat(DataSize.parse("1.5GiB").bytes()).isEqualTo(3L << 29);
    assertThat(DataSize.parse("64m").bytes()).isEqualTo(64L << 20);
    assertThat(DataSize.parse("512KB").bytes()).isEqualTo(512L << 10);
    assertThat(DataSize.parse("1024B").bytes()).isEqualTo(1024);
    assertThatThrownBy(() -> DataSize.parse("lots")).hasMessageContaining("750MB");
    assertThat(DataSize.parse("2 gib").bytes()).isEqualTo(2L << 30);
    assertThat(DataSize.parse("3k").bytes()).isEqualTo(3L << 10);
    assertThat(DataSize.parse("7b").bytes()).isEqualTo(7);
    assertThatThrownBy(() -> DataSize.parse("500ib")).hasMessageContaining("is not a size");
    assertThatThrownBy(() -> DataSize.parse("99999999999999TB"))
        .hasMessage("'99999999999999TB' is larger than any memory");
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("10us")).isEqualTo(Duration.ofNanos(10_000));
    assertThatThrownBy(() -> Durations.parse("5")).hasMessageContaining("unit");
    assertThatThrownBy(() -> Durations.parse("9999999999999d"))
        .hasMessage("'9999999999999d' is longer than any duration Hangar takes (about 292 years)");
    assertThatThrownBy(() -> parse("dynamic_batching: {default_timeout: 9999999999999d}\n"))
        .hasMessageContaining("'dynamic_batching.default_timeout' is invalid");
  }

  @Test
  void batchSizesPastTheDefaultMaxBatchSizeAreRefusedAsPastAWrittenOne() {
    assertThatThrownBy(() -> parse("dynamic_batching: {preferred_batch_sizes: [128]}\n"))
        .hasMessage(
            "models/m/config.yaml: 'dynamic_batching.preferred_batch_sizes' holds 128, more than"
                + " 'max_batch_size' (64 when not set); raise max_batch_size or remove the size");
    assertThatThrownBy(() -> parse("warmup: {batch_sizes: [65]}\n"))
        .hasMessageContaining("'warmup.batch_sizes' holds 65, more than 'max_batch_size' (64");
    assertThat(parse("dynamic_batching: {preferred_batch_sizes: [64]}\n").batching())
        .extracting(BatchingConfig::preferredBatchSizes)
        .isEqualTo(List.of(64));
  }

  @Test
  void recordChecksNameTheKeyPathAsTheReaderDoes() {
    assertThatThrownBy(() -> parse("dynamic_batching: {priority_levels: 3, default_priority: 7}\n"))
        .hasMessage(
            "models/m/config.yaml: 'dynamic_batching.default_priority' must be from 1 to"
                + " 'dynamic_batching.priority_levels' (3), got 7");
    assertThatThrownBy(() -> parse("dynamic_batching: {default_timeout: 0s}\n"))
        .hasMessage(
            "models/m/config.yaml: 'dynamic_batching.default_timeout' must be positive, got 0s");
    assertThatThrownBy(() -> parse("health: {max_error_rate: 1.5}\n"))
        .hasMessage("models/m/config.yaml: 'health.max_error_rate' must be from 0 to 1, got 1.5");
    assertThatThrownBy(
            () -> new HealthConfig(Double.NaN, Optional.empty(), Duration.ofMinutes(1), 20))
        .as("NaN passed both comparisons")
        .hasMessage("'health.max_error_rate' must be from 0 to 1, got NaN");
    assertThatThrownBy(() -> parse("health: {window: 0s}\n"))
        .hasMessage("models/m/config.yaml: 'health.window' must be positive, got 0s");
    assertThatThrownBy(() -> parse("health: {max_p99_latency: 0ms}\n"))
        .as("every request would pass it")
        .hasMessage("models/m/config.yaml: 'health.max_p99_latency' must be positive, got 0s");
    assertThatThrownBy(() -> parse("response_cache: {enabled: true, ttl: 0s}\n"))
        .hasMessage("models/m/config.yaml: 'response_cache.ttl' must be positive, got 0s");
  }

  @Test
  void aNegativeDurationIsRefusedAsNegativeNotAsUnreadable() {
    assertThatThrownBy(() -> parse("dynamic_batching: {max_queue_delay: -5ms}\n"))
        .hasMessage(
            "models/m/config.yaml: 'dynamic_batching.max_queue_delay' must not be negative, got"
                + " '-5ms'");
    assertThatThrownBy(() -> parse("response_cache: {ttl: -1m}\n"))
        .hasMessage("models/m/config.yaml: 'response_cache.ttl' must not be negative, got '-1m'");
  }

  @Test
  void tritonKeysInATensorAreReportedAsUnknownWithOurName() {
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, datatype: FP32, dims: [-1, 3]}]\n"
                        + "outputs: [{name: y, datatype: FP32, shape: [-1]}]\n"))
        .hasMessage(
            "models/m/config.yaml: unknown key 'inputs[0].dims'; did you mean 'shape'? (Triton's"
                + " dims) (allowed in 'inputs[0]': name, datatype, shape)");
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, data_type: FP32, shape: [-1, 3]}]\n"
                        + "outputs: [{name: y, datatype: FP32, shape: [-1]}]\n"))
        .hasMessageStartingWith(
            "models/m/config.yaml: unknown key 'inputs[0].data_type'; did you mean 'datatype'?");
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, datatype: TYPE_FP32, shape: [-1, 3]}]\n"
                        + "outputs: [{name: y, datatype: TYPE_STRING, shape: [-1]}]\n"))
        .hasMessage(
            "models/m/config.yaml: 'inputs[0].datatype' is 'TYPE_FP32', Triton's name; write FP32"
                + " instead");
    assertThatThrownBy(
            () ->
                parse(
                    "inputs: [{name: x, datatype: FP32, shape: [-1, 3]}]\n"
                        + "outputs: [{name: y, datatype: TYPE_STRING, shape: [-1]}]\n"))
        .hasMessageContaining("'outputs[0].datatype' is 'TYPE_STRING', Triton's name; write BYTES");
    assertThatThrownBy(() -> parse("platform: onnxruntime_onnx\n"))
        .hasMessageStartingWith(
            "models/m/config.yaml: unknown key 'platform'; did you mean 'backend'? (Triton's"
                + " platform)");
  }

  @Test
  void aKeyWithNoValueIsNotSetAsWithNull() {
    assertThat(parse("max_batch_size:\n")).isEqualTo(parse("max_batch_size: null\n"));
    assertThat(parse("max_batch_size:\n").maxBatchSize()).isEmpty();
    assertThat(parse("dynamic_batching:\nhealth:\n")).isEqualTo(ModelConfig.DEFAULTS);
  }
}
