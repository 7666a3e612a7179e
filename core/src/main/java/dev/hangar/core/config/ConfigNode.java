package dev.hangar.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A YAML mapping being read into typed configuration. Every getter records its key as known; {@link
 * #finish()} then rejects any key nobody asked for, naming it with a "did you mean" hint and the
 * keys that are allowed there. Errors name the file and the key's path.
 */
public final class ConfigNode {
  // Triton's config.pbtxt names that no edit distance leads to ours
  private static final Map<String, String> TRITON_NAMES =
      Map.of("dims", "shape", "platform", "backend", "instance_group", "instances");

  private final String source;
  private final String path;
  private final ObjectNode node;
  private final Set<String> known = new LinkedHashSet<>();

  /**
   * Wraps a mapping.
   *
   * @param source the file (or flag) the mapping came from, for messages
   * @param path the key path of the mapping, empty at the top
   * @param node the mapping
   */
  public ConfigNode(String source, String path, ObjectNode node) {
    this.source = source;
    this.path = path;
    this.node = node;
  }

  /** Returns the source named in messages. */
  public String source() {
    return source;
  }

  /** Returns an optional string value. */
  public Optional<String> string(String key) {
    return scalar(key, "a string", JsonNode::isValueNode, JsonNode::asText);
  }

  /** Returns an optional integer within {@code [min, max]}. */
  public Optional<Integer> integer(String key, int min, int max) {
    return scalar(key, "an integer", JsonNode::isIntegralNumber, value -> value)
        .map(value -> (int) within(key, value, min, max, "must be"));
  }

  /** Returns an optional number. */
  public Optional<Double> number(String key) {
    return scalar(key, "a number", JsonNode::isNumber, JsonNode::asDouble);
  }

  /** Returns an optional boolean ({@code true} or {@code false}). */
  public Optional<Boolean> bool(String key) {
    return scalar(key, "true or false", JsonNode::isBoolean, JsonNode::asBoolean);
  }

  /** Returns an optional duration such as {@code 250ms}; a negative one is refused as such. */
  public Optional<Duration> duration(String key) {
    return string(key)
        .map(
            text -> {
              if (text.trim().startsWith("-")) {
                throw error(key, "must not be negative, got '" + text + "'");
              }
              return parse(key, text, Durations::parse);
            });
  }

  /** Returns an optional size such as {@code 750MB}. */
  public Optional<DataSize> size(String key) {
    return string(key).map(text -> parse(key, text, DataSize::parse));
  }

  /** Returns an optional nested mapping. */
  public Optional<ConfigNode> object(String key) {
    JsonNode value = take(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isObject()) {
      throw error(key, "must be a mapping of keys to values");
    }
    return Optional.of(new ConfigNode(source, qualified(key), (ObjectNode) value));
  }

  /** Returns an optional list of nested mappings. */
  public Optional<List<ConfigNode>> objects(String key) {
    JsonNode value = take(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isArray()) {
      throw error(key, "must be a list");
    }
    List<ConfigNode> items = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isObject()) {
        throw error(key, "item " + (i + 1) + " must be a mapping");
      }
      items.add(new ConfigNode(source, qualified(key) + "[" + i + "]", (ObjectNode) item));
    }
    return Optional.of(items);
  }

  /** Returns an optional list of integers, each within {@code [min, max]}. */
  public Optional<List<Long>> longs(String key, long min, long max) {
    JsonNode value = take(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isArray()) {
      throw error(key, "must be a list of integers, such as [1, 8]");
    }
    List<Long> items = new ArrayList<>();
    for (JsonNode item : value) {
      if (!item.isIntegralNumber()) {
        throw error(key, "must be a list of integers, but holds '" + item.asText() + "'");
      }
      items.add(within(key, item, min, max, "must hold integers"));
    }
    return Optional.of(items);
  }

  /** Returns an optional list of integers, each within {@code [min, max]}. */
  public Optional<List<Integer>> ints(String key, int min, int max) {
    return longs(key, min, max).map(items -> items.stream().map(Long::intValue).toList());
  }

  /** The value of an integral node, refused outside {@code [min, max]}, however large it is. */
  private long within(String key, JsonNode value, long min, long max, String must) {
    if (!value.canConvertToLong() || value.asLong() < min || value.asLong() > max) {
      throw error(key, must + " from " + min + " to " + max + ", got " + value.asText());
    }
    return value.asLong();
  }

  /** Returns an optional list of strings. */
  public Optional<List<String>> strings(String key) {
    JsonNode value = take(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!value.isArray()) {
      throw error(key, "must be a list");
    }
    List<String> items = new ArrayList<>();
    for (JsonNode item : value) {
      if (!item.isValueNode()) {
        throw error(key, "must be a list of plain values");
      }
      items.add(item.asText());
    }
    return Optional.of(items);
  }

  /** Returns an optional mapping of names to plain values, as strings. */
  public Optional<Map<String, String>> stringMap(String key) {
    return object(key)
        .map(
            nested -> {
              Map<String, String> values = new LinkedHashMap<>();
              Iterator<Map.Entry<String, JsonNode>> fields = nested.node.fields();
              while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (!field.getValue().isValueNode() || field.getValue().isNull()) {
                  throw nested.error(
                      field.getKey(), "must be a plain value (a string, number or boolean)");
                }
                values.put(field.getKey(), field.getValue().asText());
              }
              return values;
            });
  }

  /** Returns the raw value of a key, for shapes that need their own reading. */
  public Optional<JsonNode> raw(String key) {
    return Optional.ofNullable(take(key));
  }

  /**
   * Rejects every key that no getter asked for.
   *
   * @throws ConfigurationException naming the first unknown key
   */
  public void finish() {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw new ConfigurationException(
            source
                + ": unknown key '"
                + qualified(name)
                + "'"
                + hint(name)
                + " (allowed"
                + (path.isEmpty() ? "" : " in '" + path + "'")
                + ": "
                + String.join(", ", known)
                + ")");
      }
    }
  }

  private String hint(String name) {
    String ours = TRITON_NAMES.get(name.toLowerCase(Locale.ROOT));
    return ours != null && known.contains(ours)
        ? "; did you mean '" + ours + "'? (Triton's " + name + ")"
        : Suggestions.hint(name, known);
  }

  /** Returns an error about a key of this mapping, naming the file and the key's path. */
  public ConfigurationException error(String key, String problem) {
    return new ConfigurationException(source + ": '" + qualified(key) + "' " + problem);
  }

  private <T> T parse(String key, String text, Function<String, T> parser) {
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      throw error(key, "is invalid: " + e.getMessage());
    }
  }

  private <T> Optional<T> scalar(
      String key,
      String expected,
      java.util.function.Predicate<JsonNode> accepts,
      Function<JsonNode, T> read) {
    JsonNode value = take(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!accepts.test(value) || value.isContainerNode()) {
      throw error(key, "must be " + expected + ", got '" + value + "'");
    }
    return Optional.of(read.apply(value));
  }

  /**
   * The value of a key, null when it has none: {@code key:} (read as an empty string) is YAML's
   * null, as {@code key: null} is, and both mean the key is not set.
   */
  private JsonNode take(String key) {
    known.add(key);
    JsonNode value = node.get(key);
    boolean empty = value != null && value.isTextual() && value.asText().isEmpty();
    return value == null || value.isNull() || empty ? null : value;
  }

  private String qualified(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }
}
