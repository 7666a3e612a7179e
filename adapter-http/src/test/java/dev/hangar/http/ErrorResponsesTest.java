package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ErrorResponsesTest {
  @Test
  void anErrorOfSeveralLinesIsOneLine() {
    String body =
        new String(
            ErrorResponses.body(
                "declare them in config.yaml, for example:\n  inputs:\n    - name: x\n\n"),
            StandardCharsets.UTF_8);

    assertThat(body)
        .isEqualTo("{\"error\":\"declare them in config.yaml, for example: inputs: - name: x\"}");
  }
}
