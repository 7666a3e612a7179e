package dev.hangar.core.inference;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelNotFoundException;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.testing.FakeTime;
import dev.hangar.core.testing.Harness;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResponseCacheTest {
  @TempDir Path root;
  private Harness harness;

  @BeforeEach
  void setUp() throws IOException {
    harness = new Harness(root, DataSize.ofMegabytes(500), 10 * MB);
    harness.model("cached", 1, 1);
    harness.config(
        "cached", "warmup: {enabled: false}\nresponse_cache: {enabled: true, ttl: 1m}\n");
    harness.model("plain", 1, 1);
    harness.config("plain", "warmup: {enabled: false}\n");
    harness.manager.start().join();
  }

  @AfterEach
  void tearDown() {
    harness.close();
  }

  private InferenceResponse infer(String model, Tensor input) {
    return harness.inference.infer(InferenceRequest.of(model, List.of(input)));
  }

  private long executions(String model) {
    return harness.engine.executions(model).size();
  }

  /** The loaded instance serving a model's default version now. */
  private LoadedVersion instance(String model) {
    try (ModelLease lease = harness.manager.acquire(model, OptionalLong.empty()).join()) {
      return lease.version();
    }
  }

  private StatisticsSnapshot statistics(String model, long version) {
    return harness.manager.statistics(new ModelVersionKey(model, version)).orElseThrow().snapshot();
  }

  @Test
  void aRepeatedRequestIsAnsweredFromTheCacheWithoutRunning() {
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
    InferenceResponse first = infer("cached", input);
    InferenceResponse second = infer("cached", Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4));
    assertThat(first.cached()).isFalse();
    assertThat(second.cached()).isTrue();
    assertThat(second.outputs()).isEqualTo(first.outputs());
    assertThat(executions("cached")).isEqualTo(1);
    var statistics =
        harness.manager.statistics(new ModelVersionKey("cached", 1)).orElseThrow().snapshot();
    assertThat(statistics.cacheHits()).isEqualTo(1);
    assertThat(statistics.cacheMisses()).isEqualTo(1);
    assertThat(statistics.cacheHitLatency().count()).isEqualTo(1);
    assertThat(statistics.successes()).isEqualTo(2);
    assertThat(harness.cache.statistics().hits()).isEqualTo(1);
  }

  @Test
  void inputsDifferingInOneBitShapeOrDatatypeNeverShareAnEntry() {
    float[] values = {1, 2, 3, 4};
    infer("cached", Tensor.ofFloats("x", new long[] {1, 4}, values));

    float flipped = Float.intBitsToFloat(Float.floatToRawIntBits(values[3]) ^ 1);
    InferenceResponse oneBit =
        infer("cached", Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, flipped));
    assertThat(oneBit.cached()).isFalse();

    LoadedVersion m = instance("cached");
    ResponseCache.Key square =
        ResponseCache.keyOf(m, List.of(Tensor.ofFloats("x", new long[] {2, 2}, values)));
    ResponseCache.Key row =
        ResponseCache.keyOf(m, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)));
    ResponseCache.Key ints =
        ResponseCache.keyOf(
            m,
            List.of(
                Tensor.ofInts(
                    "x",
                    new long[] {1, 4},
                    Float.floatToRawIntBits(1),
                    Float.floatToRawIntBits(2),
                    Float.floatToRawIntBits(3),
                    Float.floatToRawIntBits(4))));
    ResponseCache.Key otherModel =
        ResponseCache.keyOf(
            instance("plain"), List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)));
    ResponseCache.Key otherName =
        ResponseCache.keyOf(m, List.of(Tensor.ofFloats("z", new long[] {1, 4}, values)));
    assertThat(List.of(square, ints, otherModel, otherName))
        .allSatisfy(key -> assertThat(key).isNotEqualTo(row));

    ResponseCache cache = new ResponseCache(DataSize.ofMegabytes(1), new FakeTime());
    cache.store(row, List.of(Tensor.ofFloats("y", new long[] {1}, 9)), Optional.empty());
    assertThat(
            cache.lookup(
                ResponseCache.keyOf(m, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)))))
        .isPresent();
    for (ResponseCache.Key different : List.of(square, ints, otherModel, otherName)) {
      assertThat(cache.lookup(different)).isEmpty();
    }
  }

  @Test
  void inputOrderDoesNotMatterButEveryInputCounts() {
    Tensor a = Tensor.ofFloats("a", new long[] {1}, 1);
    Tensor b = Tensor.ofFloats("b", new long[] {1}, 2);
    LoadedVersion m = instance("cached");
    assertThat(ResponseCache.keyOf(m, List.of(a, b)))
        .isEqualTo(ResponseCache.keyOf(m, List.of(b, a)));
    assertThat(ResponseCache.keyOf(m, List.of(a, b)))
        .isNotEqualTo(ResponseCache.keyOf(m, List.of(a)));
  }

  @Test
  void failuresAreNotStoredAndUncachedModelsAreNotLookedUp() {
    Tensor nan = Tensor.ofFloats("x", new long[] {1, 4}, Float.NaN, 0, 0, 0);
    assertThatThrownBy(() -> infer("cached", nan)).hasMessageContaining("refuses NaN");
    assertThatThrownBy(() -> infer("cached", nan)).hasMessageContaining("refuses NaN");
    assertThat(executions("cached")).isEqualTo(2);
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
    infer("plain", input);
    assertThat(infer("plain", input).cached()).isFalse();
    assertThat(executions("plain")).isEqualTo(2);
  }

  @Test
  void entriesExpireAfterTheirTimeToLiveOnTheInjectedClock() {
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 5, 6, 7, 8);
    infer("cached", input);
    harness.time.advance(Duration.ofSeconds(59));
    assertThat(infer("cached", input).cached()).isTrue();
    harness.time.advance(Duration.ofSeconds(2));
    assertThat(infer("cached", input).cached()).isFalse();
    assertThat(executions("cached")).isEqualTo(2);
  }

  @Test
  void aCachedResponseCannotBeChangedByAnyCaller() {
    ByteBuffer mine = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    mine.putFloat(1).putFloat(2).putFloat(3).putFloat(4).flip();
    Tensor input = Tensor.of("x", DataType.FP32, new long[] {1, 4}, mine);
    InferenceResponse first = infer("cached", input);
    assertThatThrownBy(() -> first.outputs().get(0).data().putFloat(0, 99))
        .isInstanceOf(ReadOnlyBufferException.class);
    assertThatThrownBy(() -> first.outputs().add(first.outputs().get(0)))
        .isInstanceOf(UnsupportedOperationException.class);

    // the caller still owns its buffer and scribbles on it: the cache kept its own copy of the key
    mine.putFloat(0, 42);
    assertThat(infer("cached", Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).cached())
        .isTrue();
    assertThat(
            infer("cached", Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4))
                .outputs()
                .get(0)
                .toFloatArray())
        .containsExactly(2, 4, 6, 8);
  }

  @Test
  void theCacheIsBoundedByWeightInKibibytes() {
    ResponseCache cache = new ResponseCache(DataSize.parse("64KB"), new FakeTime());
    LoadedVersion m = instance("cached");
    for (int i = 0; i < 64; i++) {
      float[] values = new float[1024];
      values[0] = i;
      Tensor big = Tensor.ofFloats("x", new long[] {1024}, values);
      cache.store(ResponseCache.keyOf(m, List.of(big)), List.of(big), Optional.empty());
    }
    // each entry weighs 4 KiB of input, 4 KiB of output and 1 KiB of bookkeeping: 7 fit in 64 KiB
    assertThat(cache.statistics().entries()).isLessThanOrEqualTo(7);
    assertThat(cache.statistics().evictions()).isGreaterThanOrEqualTo(57);
  }

  @Test
  void aVersionReloadedBecauseItsFileChangedAnswersAfreshAndItsPredecessorsEntriesGo()
      throws IOException {
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
    infer("cached", input);
    assertThat(infer("cached", input).cached()).isTrue();

    harness.model("cached", 1, 2); // the same version, another file
    harness.manager.load("cached", LoadPriority.NORMAL).join();

    assertThat(infer("cached", input).cached()).isFalse();
    assertThat(executions("cached")).isEqualTo(2);
    assertThat(harness.cache.statistics().entries())
        .as("the unloaded instance's entry is gone, the new one's is there")
        .isEqualTo(1);
    assertThat(infer("cached", input).cached()).isTrue();
  }

  @Test
  void aVersionNoLongerServedIsNotFoundEvenWithItsAnswerCached() throws IOException {
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
    InferenceRequest toVersionOne = InferenceRequest.of("cached", List.of(input)).withVersion(1);
    harness.inference.infer(toVersionOne);
    assertThat(harness.inference.infer(toVersionOne).cached()).isTrue();

    harness.model("cached", 2, 1); // the default policy serves the latest version alone
    harness.manager.load("cached", LoadPriority.NORMAL).join();

    assertThatThrownBy(() -> harness.inference.infer(toVersionOne))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("no version 1 being served");
  }

  @Test
  void anInvalidRequestIsRefusedEvenWhenItsInputsAreCachedAndCountsNoLookup() {
    Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
    infer("cached", input);
    assertThat(infer("cached", input).cached()).isTrue();

    InferenceRequest badPriority = InferenceRequest.of("cached", List.of(input)).withPriority(99);
    assertThatThrownBy(() -> harness.inference.infer(badPriority))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("priority must be from 1 (highest) to");
    InferenceRequest wrongShape =
        InferenceRequest.of("cached", List.of(Tensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)));
    assertThatThrownBy(() -> harness.inference.infer(wrongShape))
        .isInstanceOf(InvalidInputException.class);

    StatisticsSnapshot statistics = statistics("cached", 1);
    assertThat(statistics.cacheHits()).isEqualTo(1);
    assertThat(statistics.cacheMisses()).isEqualTo(1);
    assertThat(harness.cache.statistics().misses()).isEqualTo(1);
  }

  @Test
  void anEntryKeepsItsOwnCopyOfItsRowsNotTheBatchTheyCameFrom() {
    ByteBuffer batch = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 8; i++) {
      batch.putFloat(i);
    }
    batch.flip();
    Tensor both = Tensor.of("y", DataType.FP32, new long[] {2, 4}, batch);
    ResponseCache cache = new ResponseCache(DataSize.ofMegabytes(1), new FakeTime());
    ResponseCache.Key key =
        ResponseCache.keyOf(instance("cached"), List.of(Tensor.ofFloats("x", new long[] {1}, 1)));
    cache.store(key, List.of(both.rows(1, 2)), Optional.empty());

    batch.putFloat(16, 99); // the batch's buffer, reused
    assertThat(cache.lookup(key).orElseThrow().get(0).toFloatArray()).containsExactly(4, 5, 6, 7);
  }
}
