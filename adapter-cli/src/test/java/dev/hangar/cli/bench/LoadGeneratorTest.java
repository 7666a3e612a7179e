package dev.hangar.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.cli.bench.LoadGenerator.Distribution;
import dev.hangar.cli.bench.LoadGenerator.Level;
import dev.hangar.cli.bench.LoadGenerator.Mode;
import dev.hangar.cli.remote.V2Client.BatchCounts;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The load generator against a fake target that answers after a fixed delay. */
class LoadGeneratorTest {
  private static final LoadGenerator.Listener QUIET =
      new LoadGenerator.Listener() {
        @Override
        public void warmingUp(Level level) {}

        @Override
        public void window(Level level, int index, double throughput) {}
      };

  /**
   * Answers every request after {@code delayMillis}, on a timer thread; counts what is in flight.
   */
  static final class DelayedTarget implements BenchTarget {
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    final long delayMillis;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger mostInFlight = new AtomicInteger();

    DelayedTarget(long delayMillis) {
      this.delayMillis = delayMillis;
    }

    @Override
    public int requests() {
      return 3;
    }

    @Override
    public CompletableFuture<Outcome> send(int index) {
      mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      CompletableFuture<Outcome> answer = new CompletableFuture<>();
      timer.schedule(
          () -> {
            inFlight.decrementAndGet();
            answer.complete(
                index == 2 ? Outcome.failed("http_503", "busy (HTTP 503)") : Outcome.SUCCESS);
          },
          delayMillis,
          TimeUnit.MILLISECONDS);
      return answer;
    }

    @Override
    public boolean blocksCaller() {
      return false;
    }

    @Override
    public Optional<BatchCounts> batchCounts() {
      return Optional.empty();
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }

  private static LoadGenerator.Settings settings(int maxWindows, int maxOutstanding) {
    return new LoadGenerator.Settings(
        Duration.ofMillis(100),
        Duration.ofMillis(300),
        10,
        maxWindows,
        1,
        maxOutstanding,
        Distribution.CONSTANT,
        Duration.ofSeconds(5));
  }

  @Test
  void stabilityNeedsEveryThroughputWithinTheToleranceOfTheirMean() {
    assertThat(LoadGenerator.isStable(List.of(100.0, 105.0, 95.0), 10)).isTrue();
    assertThat(LoadGenerator.isStable(List.of(100.0, 130.0, 95.0), 10)).isFalse();
    assertThat(LoadGenerator.isStable(List.of(0.0, 0.0, 0.0), 10)).isFalse();
  }

  @Test
  void aClosedLoopKeepsExactlyTheConcurrencyOutstanding() throws InterruptedException {
    try (DelayedTarget target = new DelayedTarget(5)) {
      LevelResult result =
          new LoadGenerator(target, settings(2, 1000)).run(new Level(Mode.CONCURRENCY, 4), QUIET);
      assertThat(target.mostInFlight.get()).isEqualTo(4);
      assertThat(result.requests()).isPositive();
      assertThat(result.latency().p50()).isGreaterThanOrEqualTo(5);
      // every third request fails: errors are counted by kind, with an example
      assertThat(result.errors()).containsOnlyKeys("http_503");
      assertThat(result.errorExamples()).containsEntry("http_503", "busy (HTTP 503)");
      assertThat(result.windowsRun()).isEqualTo(2);
      assertThat(result.stable()).isFalse();
      assertThat(result.lag()).isEmpty();
    }
  }

  @Test
  void anOpenLoopChargesTheWaitForAFreeSlotToLatency() throws InterruptedException {
    // 100 requests a second are asked for, but only one may be outstanding and each takes 50 ms:
    // at most 20 a second get out. A closed loop would report 50 ms; from the intended send
    // times, requests wait longer and longer.
    try (DelayedTarget target = new DelayedTarget(50)) {
      LevelResult result =
          new LoadGenerator(target, settings(2, 1)).run(new Level(Mode.RATE, 100), QUIET);
      assertThat(target.mostInFlight.get()).isEqualTo(1);
      assertThat(result.latency().p99()).isGreaterThan(150);
      assertThat(result.lag()).isPresent();
      assertThat(result.lag().get().keptUp()).isFalse();
      assertThat(result.lag().get().blocked()).isPositive();
      assertThat(result.requestRate()).isLessThan(30);
    }
  }

  @Test
  void aLowRateEndsItsLevelWithoutWaitingForTheNextSend() throws InterruptedException {
    // one request every 10s: the level's 100ms warmup and one 300ms window end long before
    try (DelayedTarget target = new DelayedTarget(2)) {
      long start = System.nanoTime();
      new LoadGenerator(target, settings(1, 1000)).run(new Level(Mode.RATE, 0.1), QUIET);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(9));
    }
  }

  @Test
  void levelsOutOfRangeAreRefusedNamingTheRange() {
    for (double rate : new double[] {0.05, 1e-308, Double.POSITIVE_INFINITY, Double.NaN, -5}) {
      assertThatThrownBy(() -> new Level(Mode.RATE, rate))
          .hasMessageStartingWith("a rate must be from 0.1 to 10000000 a second, got ");
    }
    for (double clients : new double[] {0, 100_000}) {
      assertThatThrownBy(() -> new Level(Mode.CONCURRENCY, clients))
          .hasMessageStartingWith("a concurrency must be from 1 to 10000, got ");
    }
    assertThat(new Level(Mode.RATE, 0.1).label()).isEqualTo("rate 0.1/s");
  }

  @Test
  void anOpenLoopWithinReachKeepsUp() throws InterruptedException {
    try (DelayedTarget target = new DelayedTarget(2)) {
      LevelResult result =
          new LoadGenerator(target, settings(3, 1000)).run(new Level(Mode.RATE, 200), QUIET);
      // 200/s with a third failing: about 133 successes a second
      assertThat(result.requestRate()).isBetween(90.0, 180.0);
      assertThat(result.latency().p50()).isBetween(2.0, 50.0);
      assertThat(result.lag().get().blocked()).isZero();
    }
  }
}
