package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class InferenceCodecTest {
  private static InferenceCodec.Decoded decode(String json) {
    return InferenceCodec.decode(
        "m", OptionalLong.empty(), json.getBytes(StandardCharsets.UTF_8), -1, bytes -> {});
  }

  /** What {@code work} returns, and the bytes it allocated on this thread. */
  private record Allocated<T>(T result, long bytes) {}

  /**
   * Runs {@code work} twice, the first time to load and compile what it uses, and measures the
   * second.
   */
  private static <T> Allocated<T> allocatedBy(Supplier<T> work) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    work.get();
    long before = threads.getCurrentThreadAllocatedBytes();
    T result = work.get();
    return new Allocated<>(result, threads.getCurrentThreadAllocatedBytes() - before);
  }

  /**
   * Encodes, measuring what it allocates, the answer of model {@code m} with the one output {@code
   * y} to the request {@code json}.
   */
  private static Allocated<InferenceCodec.Encoded> encodingOf(Tensor y, String json) {
    dev.hangar.core.inference.InferenceResponse response =
        new dev.hangar.core.inference.InferenceResponse("m", 1, "", java.util.List.of(y), false);
    InferenceCodec.Decoded request = decode(json);
    return allocatedBy(() -> InferenceCodec.encode(response, request));
  }

  @Test
  void jsonDataIsReadIntoItsTensorWithoutATreeOfNodes() {
    int count = 1_000_000;
    byte[] body =
        ("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1000, 1000],"
                + " \"data\": ["
                + "0.5, ".repeat(count - 1)
                + "0.25]}]}")
            .getBytes(StandardCharsets.UTF_8);
    Allocated<InferenceCodec.Decoded> decoding =
        allocatedBy(() -> InferenceCodec.decode("m", OptionalLong.empty(), body, -1, bytes -> {}));
    InferenceCodec.Decoded decoded = decoding.result();
    long allocated = decoding.bytes();

    float[] values = decoded.request().inputs().get(0).toFloatArray();
    assertThat(values).hasSize(count);
    assertThat(values[0]).isEqualTo(0.5f);
    assertThat(values[count - 1]).isEqualTo(0.25f);
    // the tensor's 4MB and the buffers it grew through; a tree took about 30 bytes a value (~40MB)
    assertThat(allocated).isLessThan(12L * count);
  }

  @Test
  void aBinaryAnswerIsWrittenIntoOneArrayOfItsSize() {
    int count = 2_000_000;
    float[] values = new float[count];
    values[count - 1] = 0.25f;
    java.nio.ByteBuffer data =
        java.nio.ByteBuffer.allocate(4 * count).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    data.asFloatBuffer().put(values);
    Tensor y = Tensor.of("y", dev.hangar.spi.DataType.FP32, new long[] {1, count}, data);
    Allocated<InferenceCodec.Encoded> encoding =
        encodingOf(
            y,
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
                + " \"data\": [1]}], \"parameters\": {\"binary_data_output\": true}}");
    InferenceCodec.Encoded encoded = encoding.result();
    long allocated = encoding.bytes();

    int headerLength = encoded.headerLength();
    assertThat(encoded.body()).hasSize(headerLength + 4 * count);
    assertThat(
            java.nio.ByteBuffer.wrap(encoded.body())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getFloat(headerLength + 4 * (count - 1)))
        .isEqualTo(0.25f);
    // the answer's 8MB and its small header; a growing stream copied the data into buffers of
    // 8MB and 16MB (and smaller ones), then once more into the answer: over 32MB
    assertThat(allocated).isLessThan(4L * count + (1 << 20));
  }

  @Test
  void aJsonAnswerTakesAtMostTwiceItsSizeWhileItIsBuilt() {
    int count = 1_000_000;
    java.nio.ByteBuffer data =
        java.nio.ByteBuffer.allocate(4 * count).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      data.putInt(7); // written without a string a value, so the buffers are what is measured
    }
    data.flip();
    Tensor y = Tensor.of("y", dev.hangar.spi.DataType.INT32, new long[] {1, count}, data);
    Allocated<InferenceCodec.Encoded> encoding =
        encodingOf(
            y,
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
                + " \"data\": [1]}]}");
    InferenceCodec.Encoded encoded = encoding.result();
    long allocated = encoding.bytes();

    String json = new String(encoded.body(), StandardCharsets.UTF_8);
    assertThat(encoded.headerLength()).isEqualTo(-1);
    assertThat(json).endsWith(",7,7]}]}").hasSizeGreaterThan(2 * count);
    // the segments and the answer, each about 2MB; a doubling stream allocated buffers of up to
    // 4MB on the way (about 4MB in all), then the answer: about 6MB
    assertThat(allocated).isLessThan(2L * encoded.body().length + (1 << 20));
  }

  @Test
  void dataMayComeBeforeTheTypeAndShapeThatReadIt() {
    Tensor x =
        decode(
                "{\"inputs\": [{\"data\": [[1, 2], [3, 4]], \"name\": \"x\", \"shape\": [2, 2],"
                    + " \"datatype\": \"INT64\"}], \"id\": \"7\"}")
            .request()
            .inputs()
            .get(0);
    assertThat(x.shape()).containsExactly(2, 2);
    assertThat(x.toLongArray()).containsExactly(1, 2, 3, 4);
    // the other fields of an input are checked as before, whatever the order
    assertThatThrownBy(
            () -> decode("{\"inputs\": [{\"data\": [1], \"name\": \"x\", \"shape\": [1]}]}"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("tensor 'x' needs \"datatype\" as a string");
    // JSON in UTF-16 has no byte offsets to leave the data at: read as a tree, as it was
    byte[] utf16 =
        "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"INT32\", \"data\": [5, 6]}]}"
            .getBytes(StandardCharsets.UTF_16BE);
    assertThat(
            InferenceCodec.decode("m", OptionalLong.empty(), utf16, -1, bytes -> {})
                .request()
                .inputs()
                .get(0)
                .toLongArray())
        .containsExactly(5, 6);
    assertThatThrownBy(() -> decode("{\"inputs\": []} {\"inputs\": []}"))
        .hasMessage("the request is not valid JSON: more follows the request at line 1, column 16");
  }

  @Test
  void valuesInDataPastTheParsersLimitsAreRefusedNamingTheInput() {
    // Jackson reads strings of at most 20000000 characters; the first pass skips data unmeasured
    String longText = "a".repeat(20_000_001);
    assertThatThrownBy(
            () ->
                decode(
                    "{\"inputs\": [{\"name\": \"s\", \"datatype\": \"BYTES\", \"shape\": [1],"
                        + " \"data\": [\""
                        + longText
                        + "\"]}]}"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage(
            "tensor 's' element 0 is a string of more than the 20000000 characters this server"
                + " reads in a JSON string; send long BYTES elements as binary data (the"
                + " binary_tensor_data extension: \"parameters\": {\"binary_data_size\": N})");
    // the same string where a number goes, and a number of more than 1000 digits
    assertThatThrownBy(
            () ->
                decode(
                    "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
                        + " \"data\": [\""
                        + longText
                        + "\"]}]}"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageStartingWith("input 'x' data is not valid JSON: String value length");
    assertThatThrownBy(
            () ->
                decode(
                    "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", \"shape\": [1],"
                        + " \"data\": ["
                        + "1".repeat(1001)
                        + "]}]}"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("1000");
  }
}
