package dev.hangar.core.inference;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.testing.FakeTime;
import dev.hangar.core.testing.Harness;
import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

    ResponseCache.Key square =
        ResponseCache.keyOf("m", 1, List.of(Tensor.ofFloats("x", new long[] {2, 2}, values)));
    ResponseCache.Key row =
        ResponseCache.keyOf("m", 1, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)));
    ResponseCache.Key ints =
        ResponseCache.keyOf(
            "m",
            1,
            List.of(
                Tensor.ofInts(
                    "x",
                    new long[] {1, 4},
                    Float.floatToRawIntBits(1),
                    Float.floatToRawIntBits(2),
                    Float.floatToRawIntBits(3),
                    Float.floatToRawIntBits(4))));
    ResponseCache.Key otherVersion =
        ResponseCache.keyOf("m", 2, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)));
    ResponseCache.Key otherModel =
        ResponseCache.keyOf("n", 1, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)));
    ResponseCache.Key otherName =
        ResponseCache.keyOf("m", 1, List.of(Tensor.ofFloats("z", new long[] {1, 4}, values)));
    assertThat(List.of(square, ints, otherVersion, otherModel, otherName))
        .allSatisfy(key -> assertThat(key).isNotEqualTo(row));

    ResponseCache cache = new ResponseCache(DataSize.ofMegabytes(1), new FakeTime());
    cache.store(row, List.of(Tensor.ofFloats("y", new long[] {1}, 9)), Optional.empty());
    assertThat(
            cache.lookup(
                ResponseCache.keyOf(
                    "m", 1, List.of(Tensor.ofFloats("x", new long[] {1, 4}, values)))))
        .isPresent();
    for (ResponseCache.Key different : List.of(square, ints, otherVersion, otherModel, otherName)) {
      assertThat(cache.lookup(different)).isEmpty();
    }
  }

  @Test
  void inputOrderDoesNotMatterButEveryInputCounts() {
    Tensor a = Tensor.ofFloats("a", new long[] {1}, 1);
    Tensor b = Tensor.ofFloats("b", new long[] {1}, 2);
    assertThat(ResponseCache.keyOf("m", 1, List.of(a, b)))
        .isEqualTo(ResponseCache.keyOf("m", 1, List.of(b, a)));
    assertThat(ResponseCache.keyOf("m", 1, List.of(a, b)))
        .isNotEqualTo(ResponseCache.keyOf("m", 1, List.of(a)));
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
    for (int i = 0; i < 64; i++) {
      Tensor big = Tensor.ofFloats("x", new long[] {1024}, new float[1024]);
      cache.store(ResponseCache.keyOf("m", i, List.of(big)), List.of(big), Optional.empty());
    }
    // each entry weighs 4 KiB of input, 4 KiB of output and 1 KiB of bookkeeping: 7 fit in 64 KiB
    assertThat(cache.statistics().entries()).isLessThanOrEqualTo(7);
    assertThat(cache.statistics().evictions()).isGreaterThanOrEqualTo(57);
  }
}
