package dev.hangar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Core's sources import no engine, web framework or command-line parser (the build bans the jars
 * too).
 */
class ArchitectureTest {
  private static final Pattern FORBIDDEN =
      Pattern.compile(
          "^import (static )?(ai\\.onnxruntime|ai\\.djl|io\\.javalin|picocli|dev\\.hangar\\.backend|dev\\.hangar\\.cli)\\.",
          Pattern.MULTILINE);

  @Test
  void coreImportsNoEngineAndNoAdapter() throws IOException {
    List<String> offenders;
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      offenders =
          files
              .filter(file -> file.toString().endsWith(".java"))
              .filter(file -> FORBIDDEN.matcher(read(file)).find())
              .map(Path::toString)
              .toList();
    }
    assertThat(offenders).isEmpty();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      assertThat(files.filter(f -> f.toString().endsWith(".java")).count())
          .as("sources scanned")
          .isGreaterThan(20);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
