package dev.hangar.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SyntheticInputsTest {
  @Test
  void integersAreNeverZeroSoThatAModelDividingByAnInputSurvivesWarmup() {
    Random random = new Random(42);
    for (DataType type :
        new DataType[] {
          DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16,
          DataType.INT32, DataType.UINT32, DataType.INT64, DataType.UINT64
        }) {
      Tensor tensor = SyntheticInputs.tensor("x", type, new long[] {64, 16}, random);
      var data = tensor.data().order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < tensor.elementCount(); i++) {
        long value =
            switch (type.byteSize()) {
              case 1 -> data.get(i);
              case 2 -> data.getShort(i * 2);
              case 4 -> data.getInt(i * 4);
              default -> data.getLong(i * 8);
            };
        assertThat(value).as(type + " element " + i).isBetween(1L, 3L);
      }
    }
  }
}
