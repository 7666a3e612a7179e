package dev.hangar.core.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class EvictionReturnsTest {
  private static final long MB = 1L << 20;
  private final EvictionReturns returns = new EvictionReturns();

  @Test
  void aFormatNothingWasSeenOfIsExpectedToGiveBackAll() {
    assertThat(returns.share("onnx")).isEqualTo(1.0);
    assertThat(returns.expectedReturn("onnx", 30 * MB)).isEqualTo(30 * MB);
  }

  @Test
  void theShareIsWhatUnloadsOfTheFormatGaveBackWeightedByTheirSize() {
    returns.record("onnx", 100 * MB, 400 * MB, 310 * MB); // gave back 90 of 100
    returns.record("onnx", 10 * MB, 310 * MB, 310 * MB); // nothing: an engine's one-off state

    assertThat(returns.share("onnx")).isCloseTo(90 / 110.0, within(1e-9));
    assertThat(returns.expectedReturn("onnx", 11 * MB)).isEqualTo(9 * MB);
    assertThat(returns.share("torchscript")).as("per format").isEqualTo(1.0);
  }

  @Test
  void whatOtherWorkAllocatedMeanwhileCountsAsNothingGivenBackAndMoreThanTheChargeAsAll() {
    returns.record("onnx", 10 * MB, 300 * MB, 305 * MB);
    assertThat(returns.share("onnx")).isZero();

    EvictionReturns other = new EvictionReturns();
    other.record("onnx", 10 * MB, 300 * MB, 250 * MB);
    assertThat(other.share("onnx")).isEqualTo(1.0);
  }

  @Test
  void modelsChargedUnderAMegabyteTeachNothing() {
    returns.record("onnx", MB - 1, 300 * MB, 300 * MB);
    assertThat(returns.share("onnx")).isEqualTo(1.0);
  }

  @Test
  void onlyTheLastEightUnloadsCount() {
    returns.record("onnx", 10 * MB, 300 * MB, 300 * MB);
    for (int i = 0; i < 7; i++) {
      returns.record("onnx", 10 * MB, 300 * MB, 290 * MB);
    }
    assertThat(returns.share("onnx")).isCloseTo(7 / 8.0, within(1e-9));

    returns.record("onnx", 10 * MB, 300 * MB, 290 * MB);
    assertThat(returns.share("onnx")).isEqualTo(1.0);
  }
}
