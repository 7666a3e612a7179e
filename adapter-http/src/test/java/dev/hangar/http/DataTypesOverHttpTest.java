package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.core.v2.HalfFloats;
import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every v2 datatype through an echo model: binary carries every bit (NaN payloads, -0, subnormals,
 * the extremes of each integer type, bytes that are not UTF-8); JSON does what the module README
 * says it does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataTypesOverHttpTest {
  TestServer server;

  @BeforeAll
  void start(@TempDir Path repository) {
    // one echo model per datatype: the output is the input (doubled for FP32, as the fake does)
    for (DataType type : DataType.values()) {
      Repositories.fake(
          repository,
          "echo_" + type.name().toLowerCase(java.util.Locale.ROOT),
          "x=" + type + " -1,-1",
          "y=" + type + " -1,-1",
          Repositories.MB);
    }
    server = new TestServer(repository, http -> http);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  static List<Tensor> samples() {
    List<Tensor> tensors = new ArrayList<>();
    tensors.add(Tensor.ofBooleans("x", new long[] {1, 3}, true, false, true));
    tensors.add(bytes(DataType.UINT8, 0, 255, 7));
    tensors.add(bytes(DataType.INT8, 0x80, 0x7F, 0xFF));
    tensors.add(shorts(DataType.UINT16, 0, 0xFFFF, 1));
    tensors.add(shorts(DataType.INT16, 0x8000, 0x7FFF, 0xFFFF));
    tensors.add(ints(DataType.UINT32, 0, 0xFFFF_FFFF, 1));
    tensors.add(ints(DataType.INT32, Integer.MIN_VALUE, Integer.MAX_VALUE, -1));
    tensors.add(longs(DataType.UINT64, 0, -1L, Long.MIN_VALUE));
    tensors.add(longs(DataType.INT64, Long.MIN_VALUE, Long.MAX_VALUE, -1));
    // a NaN with a payload, infinity, -0, the smallest subnormal, 1/3
    tensors.add(shorts(DataType.FP16, 0x7E01, 0x7C00, 0x8000, 0x0001, 0x3555));
    tensors.add(shorts(DataType.BF16, 0x7FC1, 0xFF80, 0x8000, 0x0001, 0x3EAB));
    tensors.add(
        Tensor.ofFloats(
            "x", new long[] {1, 4}, Float.MIN_VALUE, -0.0f, Float.POSITIVE_INFINITY, 0.1f));
    tensors.add(
        longs(
            DataType.FP64,
            0x7FF0_0000_0000_0001L,
            Double.doubleToRawLongBits(Double.NEGATIVE_INFINITY),
            Double.doubleToRawLongBits(0.1),
            1L));
    tensors.add(
        Tensor.ofByteElements(
            "x",
            new long[] {1, 3},
            List.of(
                new byte[0],
                "héllo".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xFF, 0})));
    return tensors;
  }

  @Test
  void everyDatatypeRoundTripsBitExactlyInBinary() throws Exception {
    for (Tensor input : samples()) {
      String model = "echo_" + input.dataType().name().toLowerCase(java.util.Locale.ROOT);
      BinaryBodies.Body body = OnnxConformanceOverHttpTest.binaryRequest(List.of(input));
      TestServer.Reply reply =
          server.post("/v2/models/" + model + "/infer", body.bytes(), body.headers());
      assertThat(reply.status()).as(model + ": " + reply.text()).isEqualTo(200);
      BinaryBodies.Parts parts = BinaryBodies.split(reply);
      JsonNode output = TestServer.JSON.readTree(parts.header()).path("outputs").get(0);
      assertThat(output.path("datatype").asText()).isEqualTo(input.dataType().name());
      byte[] expected = new byte[input.byteSize()];
      input.data().get(expected);
      if (input.dataType() == DataType.FP32) {
        float[] doubled = input.toFloatArray();
        for (int i = 0; i < doubled.length; i++) {
          doubled[i] *= 2;
        }
        Tensor.ofFloats("y", input.shape(), doubled).data().get(expected);
      }
      assertThat(parts.data().get(0)).as(model).isEqualTo(expected);
    }
  }

  @Test
  void jsonWritesTheDocumentedForms() throws Exception {
    JsonNode fp16 =
        jsonOutput("echo_fp16", shorts(DataType.FP16, 0x7E01, 0x7C00, 0x8000, 0x0001, 0x3555));
    // NaN as a string (its payload is not kept), infinities as strings, and otherwise a decimal
    // that reads back as exactly the stored value (the JDK's shortest float form)
    assertThat(fp16.get(0).asText()).isEqualTo("NaN");
    assertThat(fp16.get(1).asText()).isEqualTo("Infinity");
    assertThat(halfBits(fp16.get(2))).isEqualTo(0x8000);
    assertThat(halfBits(fp16.get(3))).isEqualTo(0x0001);
    assertThat(halfBits(fp16.get(4))).isEqualTo(0x3555);
    JsonNode bf16 = jsonOutput("echo_bf16", shorts(DataType.BF16, 0x7FC1, 0xFF80, 0x3EAB));
    assertThat(bf16.get(0).asText()).isEqualTo("NaN");
    assertThat(bf16.get(1).asText()).isEqualTo("-Infinity");
    assertThat(HalfFloats.toBf16((float) bf16.get(2).asDouble()) & 0xFFFF).isEqualTo(0x3EAB);
    JsonNode uint64 = jsonOutput("echo_uint64", longs(DataType.UINT64, -1L, Long.MIN_VALUE));
    assertThat(uint64.toString()).isEqualTo("[18446744073709551615,9223372036854775808]");
    JsonNode fp64 =
        jsonOutput(
            "echo_fp64",
            longs(DataType.FP64, 0x7FF0_0000_0000_0001L, Double.doubleToRawLongBits(0.1)));
    assertThat(fp64.toString()).isEqualTo("[\"NaN\",0.1]");
    JsonNode bool = jsonOutput("echo_bool", Tensor.ofBooleans("x", new long[] {1, 2}, true, false));
    assertThat(bool.toString()).isEqualTo("[true,false]");
  }

  @Test
  void jsonInputsRoundToTheNearestHalfFloatAndReadNonFiniteStrings() throws Exception {
    TestServer.Reply reply =
        server.post(
            "/v2/models/echo_fp16/infer",
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP16\", \"shape\": [1, 5],"
                + " \"data\": [0.1, \"NaN\", \"-Infinity\", 70000, 1e-9]}],"
                + " \"parameters\": {\"binary_data_output\": true}}");
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    ByteBuffer bits =
        ByteBuffer.wrap(BinaryBodies.split(reply).data().get(0)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(bits.getShort() & 0xFFFF)
        .isEqualTo(HalfFloats.toFp16(0.1f) & 0xFFFF)
        .isEqualTo(0x2E66);
    assertThat(bits.getShort() & 0xFFFF).isEqualTo(0x7E00);
    assertThat(bits.getShort() & 0xFFFF).isEqualTo(0xFC00);
    assertThat(bits.getShort() & 0xFFFF).as("past the largest half: infinity").isEqualTo(0x7C00);
    assertThat(bits.getShort() & 0xFFFF).as("below the smallest subnormal: zero").isEqualTo(0x0000);

    TestServer.Reply bf16 =
        server.post(
            "/v2/models/echo_bf16/infer",
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"BF16\", \"shape\": [1, 1], \"data\": [0.1]}]}");
    JsonNode rounded = bf16.json().path("outputs").get(0).path("data").get(0);
    assertThat(HalfFloats.toBf16(0.1f) & 0xFFFF).isEqualTo(0x3DCD);
    assertThat((float) rounded.asDouble()).isEqualTo(HalfFloats.bf16ToFloat((short) 0x3DCD));

    TestServer.Reply big =
        server.post(
            "/v2/models/echo_uint64/infer",
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"UINT64\", \"shape\": [1, 1], \"data\": [18446744073709551615]}]}");
    assertThat(big.json().path("outputs").get(0).path("data").toString())
        .isEqualTo("[18446744073709551615]");
    TestServer.Reply outside =
        server.post(
            "/v2/models/echo_uint8/infer",
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"UINT8\", \"shape\": [1, 1], \"data\": [256]}]}");
    assertThat(outside.status()).isEqualTo(400);
    assertThat(outside.json().path("error").asText()).contains("outside UINT8");
  }

  @Test
  void bytesThatAreNotUtf8NeedBinaryOutput() {
    Tensor input = Tensor.ofByteElements("x", new long[] {1, 1}, List.of(new byte[] {(byte) 0xFF}));
    TestServer.Reply json;
    try {
      json =
          server.post(
              "/v2/models/echo_bytes/infer",
              OnnxConformanceOverHttpTest.jsonRequest(
                  List.of(Tensor.ofStrings("x", new long[] {1, 1}, "ok"))));
      assertThat(json.json().path("outputs").get(0).path("data").toString()).isEqualTo("[\"ok\"]");
      BinaryBodies.Body body = OnnxConformanceOverHttpTest.binaryRequest(List.of(input));
      String header =
          new String(body.bytes(), 0, body.headerLength(), StandardCharsets.UTF_8)
              .replace("{\"binary_data_output\":true}", "{}");
      BinaryBodies.Body jsonOut = BinaryBodies.of(header, new byte[] {1, 0, 0, 0, (byte) 0xFF});
      TestServer.Reply refused =
          server.post("/v2/models/echo_bytes/infer", jsonOut.bytes(), jsonOut.headers());
      assertThat(refused.status()).isEqualTo(400);
      assertThat(refused.json().path("error").asText())
          .contains("not UTF-8")
          .contains("binary data");
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void bytesTextThatUtf8CannotCarryIsRefusedNotReplaced() {
    // a lone surrogate escaped in JSON: String.getBytes made it '?' and answered 200
    TestServer.Reply lone =
        server.post(
            "/v2/models/echo_bytes/infer",
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"shape\": [1, 1],"
                + " \"data\": [\"a\\ud800b\"]}]}");
    assertThat(lone.status()).as(lone.text()).isEqualTo(400);
    V2Schemas.assertValid("error_response", lone.json());
    assertThat(lone.json().path("error").asText())
        .isEqualTo(
            "tensor 'x' element 0 is not valid text: character 1 is a lone UTF-16 surrogate"
                + " (\\ud800), which UTF-8 cannot encode; send the element's bytes as binary data");
  }

  @Test
  void aBytesStringLongerThanJsonReadingAllowsIs400NamingTheInput() {
    // over Jackson's 20000000 characters: a 500 (UncheckedIOException) before; in "id", a 400
    String body =
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"shape\": [1, 1],"
            + " \"data\": [\""
            + "a".repeat(20_000_001)
            + "\"]}]}";
    TestServer.Reply refused = server.post("/v2/models/echo_bytes/infer", body);
    assertThat(refused.status()).as("%.300s", refused.text()).isEqualTo(400);
    assertThat(refused.json().path("error").asText())
        .startsWith("tensor 'x' element 0 is a string of more than the 20000000 characters")
        .contains("binary_tensor_data");
  }

  private static int halfBits(JsonNode value) {
    return HalfFloats.toFp16((float) value.asDouble()) & 0xFFFF;
  }

  private JsonNode jsonOutput(String model, Tensor input) throws Exception {
    BinaryBodies.Body body = OnnxConformanceOverHttpTest.binaryRequest(List.of(input));
    String header =
        new String(body.bytes(), 0, body.headerLength(), StandardCharsets.UTF_8)
            .replace("{\"binary_data_output\":true}", "{}");
    byte[] data = new byte[input.byteSize()];
    input.data().get(data);
    BinaryBodies.Body jsonOut = BinaryBodies.of(header, data);
    TestServer.Reply reply =
        server.post("/v2/models/" + model + "/infer", jsonOut.bytes(), jsonOut.headers());
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.header("Inference-Header-Content-Length")).isNull();
    V2Schemas.assertValid("inference_response", reply.json());
    return reply.json().path("outputs").get(0).path("data");
  }

  private static Tensor bytes(DataType type, int... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length);
    for (int value : values) {
      buffer.put((byte) value);
    }
    return Tensor.of("x", type, new long[] {1, values.length}, buffer.flip());
  }

  private static Tensor shorts(DataType type, int... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int value : values) {
      buffer.putShort((short) value);
    }
    return Tensor.of("x", type, new long[] {1, values.length}, buffer.flip());
  }

  private static Tensor ints(DataType type, int... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int value : values) {
      buffer.putInt(value);
    }
    return Tensor.of("x", type, new long[] {1, values.length}, buffer.flip());
  }

  private static Tensor longs(DataType type, long... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long value : values) {
      buffer.putLong(value);
    }
    return Tensor.of("x", type, new long[] {1, values.length}, buffer.flip());
  }
}
