package dev.hangar.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads YAML configuration files into {@link ConfigNode}s. */
public final class ConfigFiles {
  private static final ObjectMapper YAML =
      new ObjectMapper(
          YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private ConfigFiles() {}

  /**
   * Reads a YAML file whose top level is a mapping; an empty file is an empty mapping.
   *
   * @throws ConfigurationException when the file cannot be read or is not such YAML
   */
  public static ConfigNode read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigurationException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return parse(file.toString(), text);
  }

  /** Parses YAML text; {@code source} names it in messages. */
  public static ConfigNode parse(String source, String text) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigurationException(
          source + ": not valid YAML: " + e.getOriginalMessage() + location(e), e);
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return new ConfigNode(source, "", JsonNodeFactory.instance.objectNode());
    }
    if (!root.isObject()) {
      throw new ConfigurationException(
          source + ": the top level must be a mapping of keys to values");
    }
    return new ConfigNode(source, "", (ObjectNode) root);
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null
        ? ""
        : " (line "
            + e.getLocation().getLineNr()
            + ", column "
            + e.getLocation().getColumnNr()
            + ")";
  }
}
