package dev.hangar.core.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML configuration files into {@link ConfigNode}s. Every message is one line that starts
 * with {@code <file>:<line>:<column>:} where the parser says where the problem lies.
 */
public final class ConfigFiles {
  /** The largest configuration file read: a model's settings take a few KB. */
  public static final long MAX_CONFIG_BYTES = 1L << 20;

  private static final ObjectMapper YAML =
      new ObjectMapper(
          YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  // Jackson names the opening bracket of an unclosed value with its whole source description
  private static final Pattern START_MARKER =
      Pattern.compile(
          "\\s*\\(start marker at \\[Source: .*?; line: (\\d+), column: (\\d+)\\]\\)",
          Pattern.DOTALL);

  private ConfigFiles() {}

  /**
   * Reads a YAML file whose top level is a mapping; an empty file is an empty mapping.
   *
   * @throws ConfigurationException when the file cannot be read, is larger than {@link
   *     #MAX_CONFIG_BYTES}, is not UTF-8 or is not such YAML
   */
  public static ConfigNode read(Path file) {
    byte[] bytes;
    try {
      bytes = readAtMost(file, MAX_CONFIG_BYTES, size -> tooLarge(file, size));
    } catch (IOException e) {
      throw new ConfigurationException(
          file + ": cannot read " + file.getFileName() + ": " + ioProblem(e), e);
    }
    return parse(file.toString(), utf8(file.toString(), bytes));
  }

  /**
   * Reads a file whole when it holds at most {@code limit} bytes; otherwise throws what {@code
   * tooLarge} makes of its size. Checked before reading, as a huge file read whole ends the process
   * with an OutOfMemoryError naming no file, and while reading, as the file may grow meanwhile.
   */
  public static byte[] readAtMost(
      Path file, long limit, LongFunction<? extends RuntimeException> tooLarge) throws IOException {
    long size = Files.size(file);
    if (size <= limit) {
      try (InputStream in = Files.newInputStream(file)) {
        byte[] bytes = in.readNBytes((int) limit + 1);
        if (bytes.length <= limit) {
          return bytes;
        }
        size = bytes.length;
      }
    }
    throw tooLarge.apply(size);
  }

  /** Parses YAML text; {@code source} names it in messages. */
  public static ConfigNode parse(String source, String text) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigurationException(source + yamlProblem(e), e);
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

  /**
   * Decodes UTF-8 text, refusing malformed bytes with their value and offset.
   *
   * @throws ConfigurationException naming {@code source}, the byte and its offset
   */
  public static String utf8(String source, byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw new ConfigurationException(
          source
              + ": not UTF-8 text (byte "
              + String.format(Locale.ROOT, "0x%02X", bytes[in.position()] & 0xFF)
              + " at offset "
              + in.position()
              + "); save the file as UTF-8");
    }
    return out.flip().toString();
  }

  /**
   * Returns {@code ":<line>:<column>: <problem>"} for a JSON or YAML parse failure: the parser's
   * own message on one line, without the excerpt and caret SnakeYAML adds or the source Jackson
   * names.
   */
  public static String parseProblem(JsonProcessingException e) {
    return position(e.getLocation()) + ": " + oneLine(e.getOriginalMessage());
  }

  private static String yamlProblem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblemMark() != null) {
      Mark problem = marked.getProblemMark();
      Mark context = marked.getContextMark();
      String where =
          marked.getContext() == null
              ? ""
              : " ("
                  + marked.getContext()
                  + (context == null
                      ? ""
                      : " at line "
                          + (context.getLine() + 1)
                          + ", column "
                          + (context.getColumn() + 1))
                  + ")";
      return ":"
          + (problem.getLine() + 1)
          + ":"
          + (problem.getColumn() + 1)
          + ": not valid YAML: "
          + oneLine(marked.getProblem())
          + where;
    }
    return position(e.getLocation()) + ": not valid YAML: " + oneLine(e.getOriginalMessage());
  }

  private static String position(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return ":" + location.getLineNr() + ":" + Math.max(1, location.getColumnNr());
  }

  private static String oneLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    Matcher marker = START_MARKER.matcher(message);
    String text =
        marker.find()
            ? message.substring(0, marker.start())
                + " (opened at line "
                + marker.group(1)
                + ", column "
                + marker.group(2)
                + ")"
                + message.substring(marker.end())
            : message;
    return text.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static ConfigurationException tooLarge(Path file, long size) {
    return new ConfigurationException(
        file
            + ": "
            + file.getFileName()
            + " is "
            + DataSize.format(size)
            + ", more than the "
            + DataSize.format(MAX_CONFIG_BYTES)
            + " a config may be; is it the right file?");
  }

  /** The problem of a failed read, for messages: the JDK's exception names the file alone. */
  private static String ioProblem(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
