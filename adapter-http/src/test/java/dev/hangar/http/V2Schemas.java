package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON Schemas of {@code schemas/v2.schema.json} (transcribed from the v2 REST spec's
 * components and Triton's extension documents), to validate responses against.
 */
final class V2Schemas {
  private static final JsonNode DEFINITIONS = load();
  private static final JsonSchemaFactory FACTORY =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
  private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

  private V2Schemas() {}

  /** Asserts that {@code json} is a valid {@code definition} of the schema file. */
  static void assertValid(String definition, JsonNode json) {
    JsonSchema schema =
        SCHEMAS.computeIfAbsent(
            definition,
            name -> {
              assertThat(DEFINITIONS.path("$defs").has(name)).as("schema " + name).isTrue();
              ObjectNode root = DEFINITIONS.deepCopy();
              root.put("$ref", "#/$defs/" + name);
              return FACTORY.getSchema(root);
            });
    Set<ValidationMessage> problems = schema.validate(json);
    assertThat(problems).as(definition + " of " + json).isEmpty();
  }

  private static JsonNode load() {
    try (InputStream in = V2Schemas.class.getResourceAsStream("/schemas/v2.schema.json")) {
      return TestServer.JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
