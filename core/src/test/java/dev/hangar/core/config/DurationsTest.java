package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void formatsAsAConfigWouldWriteIt() {
    assertThat(Durations.format(Duration.ofHours(1))).isEqualTo("1h");
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(Durations.format(Duration.ofMinutes(2))).isEqualTo("2m");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(Durations.format(Duration.ofMillis(100))).isEqualTo("100ms");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.500s");
  }

  @Test
  void whatItFormatsParsesBackToTheSameDuration() {
    for (Duration duration :
        List.of(
            Duration.ofHours(3),
            Duration.ofMinutes(5),
            Duration.ofSeconds(45),
            Duration.ofMillis(250),
            Duration.ofNanos(1500))) {
      assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
    }
  }
}
