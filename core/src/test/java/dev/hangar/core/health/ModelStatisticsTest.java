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
    // nothing is allocated before it is written: their histograms and per-batch-size counters
    // held about 560KB each (300 listed models filled the default heap)
    assertThat(held).as("bytes held by 200 unwritten statistics").isLessThan(4L << 20);
  }

  @Test
  void onlyTheModelsOwnFailuresCountAgainstItsHealth() {
    ComputeTimes compute = new ComputeTimes(0, 1_000, 0);
    for (int i = 0; i < 10; i++) {
      statistics.recordSuccess(0, compute, 1_000);
    }
    for (FailureReason notTheModels :
        List.of(
            FailureReason.INVALID_INPUT,
            FailureReason.DEADLINE_EXCEEDED,
            FailureReason.QUEUE_FULL,
            FailureReason.CANCELLED,
            FailureReason.UNAVAILABLE,
            FailureReason.INSUFFICIENT_MEMORY)) {
      for (int i = 0; i < 10; i++) {
        statistics.recordFailure(notTheModels, 1_000);
      }
    }

    StatisticsSnapshot clientsErrors = statistics.snapshot();
    assertThat(clientsErrors.failures()).as("still counted").isEqualTo(60);
    assertThat(clientsErrors.degradedReason()).isEmpty();

    for (int i = 0; i < 10; i++) {
      statistics.recordFailure(FailureReason.BACKEND_FAILURE, 1_000);
    }
    assertThat(statistics.snapshot().degradedReason())
        .hasValueSatisfying(reason -> assertThat(reason).startsWith("error rate 50.0%"));
  }

  @Test
  void newThresholdsJudgeWhatTheWindowAlreadyHolds() {
    ComputeTimes compute = new ComputeTimes(0, 1_000, 0);
    for (int i = 0; i < 30; i++) {
      statistics.recordSuccess(0, compute, 2_000_000);
    }
    assertThat(statistics.snapshot().degradedReason()).isEmpty();

    statistics.setThresholds(
        new HealthConfig(
            0.1, java.util.Optional.of(Duration.ofMillis(1)), Duration.ofMinutes(1), 20));

    assertThat(statistics.snapshot().degradedReason())
        .hasValueSatisfying(reason -> assertThat(reason).startsWith("p99 latency 2.0"));

    statistics.setThresholds(
        new HealthConfig(
            0.1, java.util.Optional.of(Duration.ofMillis(1)), Duration.ofMinutes(5), 20));

    assertThat(statistics.snapshot().degradedReason()).as("a new window starts empty").isEmpty();
  }
}
