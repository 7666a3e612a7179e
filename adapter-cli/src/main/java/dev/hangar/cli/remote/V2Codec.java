package dev.hangar.cli.remote;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of the v2 inference body: requests encoded as JSON or with Triton's binary tensor
 * extension, responses decoded from either.
 */
public final class V2Codec {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFactory FACTORY = JSON.getFactory();

  /** The request and response body format. */
  public enum Protocol {
    /** Tensors as JSON arrays. */
    JSON,
    /** Tensors as raw little-endian bytes after a JSON header (Triton's binary extension). */
    BINARY
  }

  /**
   * An encoded request body.
   *
   * @param body the bytes
   * @param headerLength the {@code Inference-Header-Content-Length}, or -1 for plain JSON
   */
  public record Body(byte[] body, int headerLength) {}

  private V2Codec() {}

  /**
   * Encodes a request. In binary form every input travels as binary data and every output is asked
   * for as binary data.
   *
   * @param outputs the outputs wanted; empty for all
   */
  public static Body encode(List<Tensor> inputs, List<String> outputs, Protocol protocol) {
    boolean binary = protocol == Protocol.BINARY;
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    try (JsonGenerator json = FACTORY.createGenerator(header)) {
      json.writeStartObject();
      json.writeArrayFieldStart("inputs");
      for (Tensor input : inputs) {
        if (!binary) {
          V2Json.writeTensor(json, input);
          continue;
        }
        V2Json.writeBinaryTensor(json, input);
      }
      json.writeEndArray();
      if (!outputs.isEmpty()) {
        json.writeArrayFieldStart("outputs");
        for (String output : outputs) {
          json.writeStartObject();
          json.writeStringField("name", output);
          if (binary) {
            json.writeObjectFieldStart("parameters");
            json.writeBooleanField("binary_data", true);
            json.writeEndObject();
          }
          json.writeEndObject();
        }
        json.writeEndArray();
      }
      if (binary) {
        json.writeObjectFieldStart("parameters");
        json.writeBooleanField("binary_data_output", true);
        json.writeEndObject();
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!binary) {
      return new Body(header.toByteArray(), -1);
    }
    int headerLength = header.size();
    for (Tensor input : inputs) {
      ByteBuffer data = input.data();
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      header.writeBytes(bytes);
    }
    return new Body(header.toByteArray(), headerLength);
  }

  /**
   * Decodes a response body.
   *
   * @param headerLength the response's {@code Inference-Header-Content-Length}, or -1 when absent
   * @throws RemoteException when the body is not a v2 response
   */
  public static InferenceResponse decode(byte[] body, int headerLength) {
    int jsonLength = headerLength < 0 ? body.length : headerLength;
    if (jsonLength > body.length) {
      throw malformed("its JSON header is longer than the body");
    }
    JsonNode root;
    try {
      root = JSON.readTree(body, 0, jsonLength);
    } catch (IOException e) {
      throw malformed("it is not JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject() || !root.path("outputs").isArray()) {
      throw malformed("it has no \"outputs\" list");
    }
    List<Tensor> outputs = new ArrayList<>();
    int offset = jsonLength;
    try {
      for (JsonNode output : root.get("outputs")) {
        JsonNode size = output.path("parameters").path("binary_data_size");
        if (size.isMissingNode()) {
          outputs.add(V2Json.readTensor(output));
          continue;
        }
        String name = output.path("name").asText();
        DataType type = V2Json.readDataType(output, name);
        long[] shape = V2Json.readShape(output, name);
        int length = size.asInt(-1);
        if (length < 0 || offset + length > body.length) {
          throw malformed("output '" + name + "' says it has more binary data than the body");
        }
        outputs.add(Tensor.copyOf(name, type, shape, ByteBuffer.wrap(body, offset, length)));
        offset += length;
      }
    } catch (InvalidInputException | IllegalArgumentException e) {
      throw malformed(e.getMessage());
    }
    long version = 0;
    try {
      version = Long.parseLong(root.path("model_version").asText("0"));
    } catch (NumberFormatException e) {
      version = 0;
    }
    return new InferenceResponse(
        root.path("model_name").asText(""), version, root.path("id").asText(""), outputs, false);
  }

  private static RemoteException malformed(String why) {
    return new RemoteException(
        ErrorCategory.INTERNAL, 200, "the server's response is not a v2 response: " + why, null);
  }
}
