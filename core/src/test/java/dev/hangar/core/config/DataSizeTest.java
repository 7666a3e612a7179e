package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DataSizeTest {
  @Test
  void aNumberWithoutAUnitIsRefusedSayingWhichUnitToWrite() {
    // read as bytes, '--memory 500' gave a budget no model fits
    assertThatThrownBy(() -> DataSize.parse("500"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'500' has no unit: write 500MB");
    assertThatThrownBy(() -> DataSize.parse(" 1.5 ")).hasMessage("'1.5' has no unit: write 1.5MB");
  }

  @Test
  void zeroNeedsNoUnitAndBytesAreWrittenWithB() {
    assertThat(DataSize.parse("0").bytes()).isZero();
    assertThat(DataSize.parse("0KB").bytes()).isZero();
    assertThat(DataSize.parse("1024B").bytes()).isEqualTo(1024);
    assertThat(DataSize.parse("1024 b").bytes()).isEqualTo(1024);
  }
}
