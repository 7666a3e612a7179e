package dev.hangar.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.TuningReport.Trial;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TuningReportTest {
  private static Trial trial(int threads, int batchSize, long p99Micros, double rowsPerSecond) {
    return new Trial(
        threads,
        batchSize,
        Duration.ofNanos(p99Micros * 500),
        Duration.ofNanos(p99Micros * 1000),
        rowsPerSecond,
        1000);
  }

  @Test
  void choosesTheMostRowsPerSecondWithinTheTargetFewerThreadsWinningATie() {
    List<Trial> trials =
        List.of(
            trial(1, 1, 20, 50_000),
            trial(2, 8, 40, 200_000),
            trial(1, 8, 40, 200_000),
            trial(1, 64, 900, 400_000));

    TuningReport report =
        TuningReport.choose("m", "engine", Duration.ofNanos(500_000), trials, "t");

    assertThat(report.best()).contains(trials.get(2));
    assertThat(report.suggestedParameters()).containsExactlyEntriesOf(java.util.Map.of("t", "1"));
    assertThat(report.suggestedMaxBatchSize()).isEqualTo(8);
    assertThat(report.note())
        .isEqualTo("the most rows per second among the 3 of 4 settings whose p99 is within 500 us");
  }

  @Test
  void aMissedTargetSuggestsNothingAndSaysWhatCameNearest() {
    List<Trial> trials = List.of(trial(1, 1, 14, 70_000), trial(2, 1, 19, 60_000));

    TuningReport report = TuningReport.choose("m", "engine", Duration.ofNanos(1000), trials, "t");

    assertThat(report.best()).isEmpty();
    assertThat(report.suggestedParameters()).isEmpty();
    assertThat(report.suggestedMaxBatchSize()).isZero();
    assertThat(report.lowestP99()).contains(trials.get(0));
    assertThat(report.note())
        .isEqualTo(
            "no setting met the p99 target of 1 us; the lowest p99 was 14 us (1 thread, batch 1)");
  }

  @Test
  void formatsADurationInTheLargestUnitItReaches() {
    assertThat(TuningReport.format(Duration.ofNanos(1000))).isEqualTo("1 us");
    assertThat(TuningReport.format(Duration.ofNanos(14_237))).isEqualTo("14.2 us");
    assertThat(TuningReport.format(Duration.ofMillis(20))).isEqualTo("20 ms");
    assertThat(TuningReport.format(Duration.ofMillis(1))).isEqualTo("1 ms");
    assertThat(TuningReport.format(Duration.ofNanos(1_500_000))).isEqualTo("1.5 ms");
    assertThat(TuningReport.format(Duration.ofSeconds(1))).isEqualTo("1 s");
    assertThat(TuningReport.format(Duration.ofMinutes(2))).isEqualTo("120 s");
    assertThat(TuningReport.format(Duration.ofNanos(7))).isEqualTo("7 ns");
  }
}
