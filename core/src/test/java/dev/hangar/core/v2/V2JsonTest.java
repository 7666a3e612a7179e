package dev.hangar.core.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import org.junit.jupiter.api.Test;

class V2JsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long[] TWO_BY_THREE = {2, 3};

  private static JsonNode json(String text) throws JsonProcessingException {
    return JSON.readTree(text);
  }

  private static Tensor read(long[] shape, String data) throws JsonProcessingException {
    return V2Json.readData("x", DataType.INT32, shape, json(data));
  }

  @Test
  void dataNestedLikeTheShapeAndFlatDataReadTheSame() throws JsonProcessingException {
    Tensor nested = read(TWO_BY_THREE, "[[1, 2, 3], [4, 5, 6]]");
    Tensor flat = read(TWO_BY_THREE, "[1, 2, 3, 4, 5, 6]");
    assertThat(nested).isEqualTo(flat);
    assertThat(nested.shape()).containsExactly(2, 3);
    assertThat(read(new long[] {}, "7").shape()).isEmpty();
    assertThat(read(new long[] {0, 3}, "[]").shape()).containsExactly(0, 3);
  }

  @Test
  void dataNestedUnlikeTheShapeIsRefusedNamingWhereItDiffers() {
    // six values, but two rows of three declared as [3, 2]
    assertThatThrownBy(() -> read(new long[] {3, 2}, "[[1, 2, 3], [4, 5, 6]]"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "tensor 'x' shape [3, 2]: data[0] has 3 entries where the shape has 2; nest the data"
                + " like the shape or send it flat");
    assertThatThrownBy(() -> read(new long[] {3, 3}, "[[1, 2, 3], [4, 5, 6]]"))
        .hasMessageStartingWith(
            "tensor 'x' shape [3, 3]: data has 2 entries where the shape has 3");
    assertThatThrownBy(() -> read(TWO_BY_THREE, "[[1, 2, 3], [4, 5]]"))
        .hasMessageStartingWith(
            "tensor 'x' shape [2, 3]: data[1] has 2 entries where the shape has 3");
    assertThatThrownBy(() -> read(TWO_BY_THREE, "[[1, 2, 3], [4, [5], 6]]"))
        .hasMessageStartingWith(
            "tensor 'x' shape [2, 3]: data[1][1] is a list, deeper than the shape goes");
    assertThatThrownBy(() -> read(TWO_BY_THREE, "[[1, 2, 3], 4]"))
        .hasMessageStartingWith(
            "tensor 'x' shape [2, 3]: data[1] is a value where the shape has a dimension of 3");
    assertThatThrownBy(() -> read(TWO_BY_THREE, "[1, 2, [3], 4, 5, 6]"))
        .hasMessage(
            "tensor 'x' data mixes values and lists: data[0] is a value, data[2] a list; nest the"
                + " data like the shape or send it flat");
  }

  @Test
  void aSyntaxErrorIsOneLineSayingWhereWithoutJacksonsSource() {
    JsonProcessingException error =
        org.junit.jupiter.api.Assertions.assertThrows(
            JsonProcessingException.class, () -> JSON.readTree("{\"a\": [1,\n 2"));
    assertThat(V2Json.syntaxError(error))
        .isEqualTo(
            "Unexpected end-of-input: expected close marker for Array (start marker at line 1,"
                + " column 7) at line 2, column 3");
  }

  @Test
  void bytesTextWithALoneSurrogateIsRefusedNotReplaced() throws JsonProcessingException {
    // a pair of escapes is one character, its four UTF-8 bytes kept
    Tensor pair =
        V2Json.readData("s", DataType.BYTES, new long[] {1}, json("[\"a\\ud83d\\ude00b\"]"));
    assertThat(pair.byteSize()).isEqualTo(4 + 6);
    for (String lone : new String[] {"a\\ud800b", "a\\udc00", "\\ude00\\ud83d"}) {
      assertThatThrownBy(
              () ->
                  V2Json.readData(
                      "s", DataType.BYTES, new long[] {2}, json("[\"ok\", \"" + lone + "\"]")))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageStartingWith("tensor 's' element 1 is not valid text: character ")
          .hasMessageContaining("is a lone UTF-16 surrogate (\\u")
          .hasMessageEndingWith(
              "which UTF-8 cannot encode; send the element's bytes as binary data");
    }
  }
}
