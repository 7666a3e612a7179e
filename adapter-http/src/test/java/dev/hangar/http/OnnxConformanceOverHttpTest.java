package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.backend.onnx.ConformanceCases;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 71 ONNX backend node tests of backend-onnx's test resources, served over HTTP: each case
 * through JSON and through the binary extension, compared with ONNX's expected outputs by ONNX's
 * rule (same dtype and shape, strings exact, rtol 1e-3 and atol 1e-7, NaN equal to NaN). Binary and
 * JSON answers of a case must also agree: JSON carries every value of every type exactly except NaN
 * payloads, which all read back as the one quiet NaN.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OnnxConformanceOverHttpTest {

  TestServer server;

  @BeforeAll
  void start(@TempDir Path repository) throws IOException {
    for (String name : cases().toList()) {
      Path version = Files.createDirectories(repository.resolve(name).resolve("1"));
      Files.copy(ConformanceCases.model(name), version.resolve("model.onnx"));
      // served as declared (no batching), and no synthetic warmup: some graphs need real inputs
      Repositories.config(repository, name, "max_batch_size: 0\nwarmup:\n  enabled: false\n");
    }
    server = new TestServer(repository, DataSize.ofMegabytes(8192), http -> http);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  static Stream<String> cases() throws IOException {
    return ConformanceCases.names().stream();
  }

  @Test
  void allSeventyOneCasesArePresent() throws IOException {
    assertThat(cases()).hasSize(71);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void jsonAndBinaryBothMatchTheExpectedOutputs(String name) throws IOException {
    List<Tensor> inputs = ConformanceCases.inputs(name);
    List<Tensor> expected = ConformanceCases.expectedOutputs(name);

    TestServer.Reply json = server.post("/v2/models/" + name + "/infer", jsonRequest(inputs));
    assertThat(json.status()).as(json.text()).isEqualTo(200);
    V2Schemas.assertValid("inference_response", json.json());
    List<Tensor> fromJson = new ArrayList<>();
    for (JsonNode output : json.json().path("outputs")) {
      fromJson.add(V2Json.readTensor(output));
    }

    BinaryBodies.Body body = binaryRequest(inputs);
    TestServer.Reply binary =
        server.post("/v2/models/" + name + "/infer", body.bytes(), body.headers());
    assertThat(binary.status()).as(binary.text()).isEqualTo(200);
    BinaryBodies.Parts parts = BinaryBodies.split(binary);
    JsonNode header = TestServer.JSON.readTree(parts.header());
    V2Schemas.assertValid("inference_response", header);
    List<Tensor> fromBinary = new ArrayList<>();
    int index = 0;
    for (JsonNode output : header.path("outputs")) {
      fromBinary.add(
          Tensor.of(
              output.path("name").asText(),
              DataType.fromProtocolName(output.path("datatype").asText()),
              V2Json.readShape(output, "output"),
              ByteBuffer.wrap(parts.data().get(index++))));
    }

    assertThat(fromJson).hasSameSizeAs(expected);
    assertThat(fromBinary).hasSameSizeAs(expected);
    for (Tensor want : expected) {
      Tensor viaJson = named(fromJson, want.name());
      Tensor viaBinary = named(fromBinary, want.name());
      ConformanceCases.assertMatches(viaJson, want);
      ConformanceCases.assertMatches(viaBinary, want);
      assertSameValues(viaJson, viaBinary);
    }
  }

  /** JSON and binary answers agree bit for bit, but for NaN payloads (JSON has one NaN). */
  static void assertSameValues(Tensor json, Tensor binary) {
    assertThat(json.dataType()).isEqualTo(binary.dataType());
    assertThat(json.shape()).containsExactly(binary.shape());
    if (!binary.dataType().isFloatingPoint()) {
      assertThat(json.data()).as(json.name() + " bytes").isEqualTo(binary.data());
      return;
    }
    double[] viaJson = json.toDoubleArray();
    double[] viaBinary = binary.toDoubleArray();
    for (int i = 0; i < viaBinary.length; i++) {
      if (Double.isNaN(viaBinary[i])) {
        assertThat(viaJson[i]).isNaN();
      } else {
        assertThat(Double.doubleToRawLongBits(viaJson[i]))
            .as(json.name() + " element " + i)
            .isEqualTo(Double.doubleToRawLongBits(viaBinary[i]));
      }
    }
  }

  static String jsonRequest(List<Tensor> inputs) throws IOException {
    StringWriter text = new StringWriter();
    try (JsonGenerator json = TestServer.JSON.getFactory().createGenerator(text)) {
      json.writeStartObject();
      json.writeArrayFieldStart("inputs");
      for (Tensor input : inputs) {
        V2Json.writeTensor(json, input);
      }
      json.writeEndArray();
      json.writeEndObject();
    }
    return text.toString();
  }

  static BinaryBodies.Body binaryRequest(List<Tensor> inputs) throws IOException {
    StringWriter text = new StringWriter();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    try (JsonGenerator json = TestServer.JSON.getFactory().createGenerator(text)) {
      json.writeStartObject();
      json.writeObjectFieldStart("parameters");
      json.writeBooleanField("binary_data_output", true);
      json.writeEndObject();
      json.writeArrayFieldStart("inputs");
      for (Tensor input : inputs) {
        V2Json.writeBinaryTensor(json, input);
        byte[] bytes = new byte[input.byteSize()];
        input.data().get(bytes);
        data.writeBytes(bytes);
      }
      json.writeEndArray();
      json.writeEndObject();
    }
    return BinaryBodies.of(text.toString(), data.toByteArray());
  }

  private static Tensor named(List<Tensor> tensors, String name) {
    return tensors.stream()
        .filter(tensor -> tensor.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no output " + name));
  }
}
