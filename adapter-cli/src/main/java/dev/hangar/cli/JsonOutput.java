package dev.hangar.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/** Writes responses as v2 JSON. */
final class JsonOutput {
  private static final JsonFactory FACTORY = new JsonFactory();

  private JsonOutput() {}

  /** Returns the response in the v2 response form, one tensor per line. */
  static String response(InferenceResponse response) {
    StringWriter text = new StringWriter();
    try (JsonGenerator json = FACTORY.createGenerator(text)) {
      json.writeStartObject();
      json.writeStringField("model_name", response.model());
      json.writeStringField("model_version", Long.toString(response.version()));
      if (!response.id().isEmpty()) {
        json.writeStringField("id", response.id());
      }
      json.writeArrayFieldStart("outputs");
      for (Tensor output : response.outputs()) {
        json.writeRaw("\n  ");
        V2Json.writeTensor(json, output);
      }
      json.writeRaw("\n");
      json.writeEndArray();
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
