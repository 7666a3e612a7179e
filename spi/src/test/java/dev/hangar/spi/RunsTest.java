package dev.hangar.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RunsTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void stopAtTheCountOrTheLimitWhicheverComesFirst() {
    Runs runs = Runs.warmup(3, Duration.ofSeconds(1));

    assertThat(runs.another(0, 0)).isTrue();
    assertThat(runs.another(2, SECOND - 1)).isTrue();
    assertThat(runs.another(3, 0)).as("the count reached").isFalse();
    assertThat(runs.another(1, SECOND)).as("the limit passed").isFalse();
  }

  @Test
  void theMinimumIsMadeHoweverLongItTakes() {
    assertThat(Runs.warmup(5, Duration.ofNanos(1)).another(0, 10 * SECOND)).isTrue();
    assertThat(Runs.warmup(5, Duration.ofNanos(1)).another(1, 10 * SECOND)).isFalse();
    assertThat(Runs.warmup(0, Duration.ofSeconds(1)).another(0, 0)).isFalse();

    Runs timed = Runs.timed(1000, Duration.ofSeconds(3));
    assertThat(timed.another(99, 60 * SECOND)).as("a p99 of 100 runs at least").isTrue();
    assertThat(timed.another(100, 3 * SECOND)).isFalse();
    assertThat(Runs.timed(5, Duration.ofNanos(1)).another(4, SECOND)).isTrue();
  }

  @Test
  void exactlyMakesEveryRun() {
    Runs exactly = Runs.exactly(1000);

    assertThat(exactly.another(999, Long.MAX_VALUE - 1)).isTrue();
    assertThat(exactly.another(1000, 0)).isFalse();
  }

  @Test
  void theDefaultsTimeSmallModelsLongEnoughAndBoundLargeOnes() {
    assertThat(MeasurementPlan.DEFAULTS.warmup())
        .isEqualTo(new Runs(10_000, Duration.ofSeconds(1), 1));
    assertThat(MeasurementPlan.DEFAULTS.timed())
        .isEqualTo(new Runs(1000, Duration.ofSeconds(3), 100));
    TuningOptions tuning = TuningOptions.defaults(2, Duration.ofMillis(50));
    assertThat(tuning.warmup()).isEqualTo(Runs.DEFAULT_WARMUP);
    assertThat(tuning.timed()).isEqualTo(Runs.DEFAULT_TIMED);
  }

  @Test
  void refusesNegativeCountsAndLimitsThatAreNotPositive() {
    assertThatThrownBy(() -> Runs.warmup(-1, Duration.ofSeconds(1)))
        .hasMessage("runs must not be negative, got -1");
    assertThatThrownBy(() -> Runs.timed(1, Duration.ZERO))
        .hasMessageStartingWith("the limit must be positive");
    assertThatThrownBy(() -> new Runs(3, Duration.ofSeconds(1), 4))
        .hasMessage("the minimum runs must be between 0 and 3, got 4");
  }
}
