package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code optimization:} block of a model's config.yaml: defaults, every key, bad values. */
class OptimizationConfigTest {
  private static ModelConfig parse(String yaml) {
    return ModelConfig.from(ConfigFiles.parse("models/m/config.yaml", yaml));
  }

  @Test
  void withoutTheBlockNothingIsOptimized() {
    assertThat(parse("max_batch_size: 8\n").optimization()).isEmpty();
    assertThat(ModelConfig.DEFAULTS.optimization()).isEmpty();
  }

  @Test
  void anEmptyBlockMeansLevelAllWithoutInt8() {
    assertThat(parse("optimization: {}\n").optimization())
        .contains(new OptimizationOptions(Level.ALL, false, 0.01, Granularity.PER_TENSOR));
  }

  @Test
  void readsEveryKey() {
    ModelConfig config =
        parse(
            """
            optimization:
              level: Extended
              int8: true
              int8_tolerance: 0.05
              per_channel: true
            """);
    assertThat(config.optimization())
        .contains(new OptimizationOptions(Level.EXTENDED, true, 0.05, Granularity.PER_CHANNEL));
    assertThat(parse("optimization: {level: none, int8: true}\n").optimization())
        .map(OptimizationOptions::level)
        .contains(Level.NONE);
  }

  @Test
  void theOtherSettingsAreUntouched() {
    ModelConfig config = parse("max_batch_size: 4\noptimization: {int8: true}\n");
    assertThat(config.maxBatchSize()).contains(4);
    assertThat(config.optimization()).map(OptimizationOptions::int8).contains(true);
    ModelConfig withoutOptimization = parse("max_batch_size: 4\n");
    assertThat(withoutOptimization.optimization()).isEqualTo(Optional.empty());
  }

  @Test
  void anUnknownKeyIsAnErrorNamingItAndTheAllowedKeys() {
    assertThatThrownBy(() -> parse("optimization:\n  int8: true\n  per_chanel: true\n"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("models/m/config.yaml")
        .hasMessageContaining("unknown key 'optimization.per_chanel'")
        .hasMessageContaining("did you mean 'per_channel'")
        .hasMessageContaining("level, int8, int8_tolerance, per_channel");
  }

  @Test
  void wrongValuesNameTheKey() {
    assertThatThrownBy(() -> parse("optimization: {level: max}\n"))
        .hasMessageContaining(
            "'optimization.level' must be none, basic, extended or all, got 'max'");
    assertThatThrownBy(() -> parse("optimization: {int8: yes please}\n"))
        .hasMessageContaining("'optimization.int8' must be true or false");
    assertThatThrownBy(() -> parse("optimization: {int8_tolerance: 0}\n"))
        .hasMessageContaining("'optimization.int8_tolerance' must be a positive number");
    assertThatThrownBy(() -> parse("optimization: {int8_tolerance: small}\n"))
        .hasMessageContaining("'optimization.int8_tolerance' must be a number");
    assertThatThrownBy(() -> parse("optimization: all\n"))
        .hasMessageContaining("'optimization' must be a mapping");
  }
}
