package dev.hangar.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MemoryEstimatorTest {
  private static final long MB = 1L << 20;
  private final MemoryEstimator estimator = new MemoryEstimator();

  @Test
  void aLoadIsEstimatedByItsPeakAndWhatItKeepsByWhatItHeldOnceWarm() {
    assertThat(estimator.estimate("onnx", 10 * MB)).as("default").isEqualTo(4 * MB + 30 * MB);
    assertThat(estimator.keptEstimate("onnx", 10 * MB)).as("default").isEqualTo(4 * MB + 15 * MB);

    // a 10MB file that peaked at 30MB while loading and held 11MB once warm
    estimator.learn("onnx", 10 * MB, 30 * MB, 11 * MB);

    // each the largest ratio seen, plus 10%: 3.3 and 1.21 times the file
    assertThat(estimator.estimate("onnx", 10 * MB)).isBetween(37 * MB, 37 * MB + 1);
    assertThat(estimator.keptEstimate("onnx", 10 * MB))
        .isBetween(4 * MB + 12 * MB, 4 * MB + 13 * MB);
    assertThat(estimator.keptEstimate("torchscript", 10 * MB))
        .as("another format's loads teach nothing")
        .isEqualTo(4 * MB + 15 * MB);
  }

  @Test
  void filesUnderOneMegabyteTeachNothing() {
    estimator.learn("onnx", MB / 2, 30 * MB, 30 * MB);

    assertThat(estimator.factor("onnx")).isEqualTo(MemoryEstimator.DEFAULT_FACTOR);
    assertThat(estimator.keptEstimate("onnx", 10 * MB)).isEqualTo(4 * MB + 15 * MB);
  }
}
