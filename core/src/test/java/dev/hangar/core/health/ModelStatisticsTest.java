package dev.hangar.core.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.core.config.HealthConfig;
import dev.hangar.core.testing.FakeTime;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelStatisticsTest {
  private final ModelStatistics statistics =
      new ModelStatistics(new FakeTime(), HealthConfig.DEFAULTS);

  @Test
  void executionPhasesAddUpPerBatchSizeAndOncePerRequest() {
    ComputeTimes fours = new ComputeTimes(1_000, 5_000, 300);
    ComputeTimes one = new ComputeTimes(10, 2_000, 0);
    statistics.recordExecution(4, fours);
    statistics.recordExecution(4, fours);
    statistics.recordExecution(1, one);
    for (int i = 0; i < 8; i++) {
      statistics.recordSuccess(0, fours, 9_000);
    }
    statistics.recordSuccess(0, one, 3_000);

    StatisticsSnapshot snapshot = statistics.snapshot();

    assertThat(snapshot.batches().get(4))
        .isEqualTo(
            new BatchStatistics(
                2, Duration.ofNanos(2_000), Duration.ofNanos(10_000), Duration.ofNanos(600)));
    assertThat(snapshot.batches().get(1))
        .isEqualTo(
            new BatchStatistics(1, Duration.ofNanos(10), Duration.ofNanos(2_000), Duration.ZERO));
    // as Triton counts them: each request carries its whole batch's phases
    assertThat(snapshot.computeInputTime()).isEqualTo(Duration.ofNanos(8 * 1_000 + 10));
    assertThat(snapshot.computeOutputTime()).isEqualTo(Duration.ofNanos(8 * 300));
    assertThat(snapshot.computeTime().count()).isEqualTo(9);
    assertThat(snapshot.computeTime().total()).isEqualTo(Duration.ofNanos(8 * 5_000 + 2_000));
  }

  @Test
  void aCacheMissTakesItsLookupAndTheStoringOfTheResponseComputedForIt() {
    statistics.recordCacheMiss(400);
    statistics.recordCacheInsertion(600);
    statistics.recordCacheMiss(100);

    StatisticsSnapshot snapshot = statistics.snapshot();

    assertThat(snapshot.cacheMisses()).isEqualTo(2);
    assertThat(snapshot.cacheMissTime()).isEqualTo(Duration.ofNanos(1_100));
    assertThat(snapshot.cacheHits()).isZero();
  }

  @Test
  void statisticsNotYetWrittenHoldLittleMemory() {
    // every version the repository lists has statistics, loaded or not: a repository of many
    // models must not fill the heap before anything is served
    Runtime runtime = Runtime.getRuntime();
    System.gc();
    long before = runtime.totalMemory() - runtime.freeMemory();
    List<ModelStatistics> many = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      many.add(new ModelStatistics(new FakeTime(), HealthConfig.DEFAULTS));
    }
    System.gc();
    long held = runtime.totalMemory() - runtime.freeMemory() - before;
    assertThat(many).hasSize(200);
    // about 420KB each (sized for an hour up front, their histograms held over 3MB)
    assertThat(held).as("bytes held by 200 unwritten statistics").isLessThan(120L << 20);
  }
}
