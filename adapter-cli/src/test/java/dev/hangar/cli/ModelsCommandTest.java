package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ModelsCommandTest {
  @Test
  void aServedVersionPastItsHealthThresholdsIsListedDegradedWithWhy() throws Exception {
    String index =
        "[{\"name\": \"a\", \"version\": \"1\", \"state\": \"READY\", \"reason\": \"\","
            + " \"hangar\": {\"state\": \"READY\", \"format\": \"onnx\", \"memory_bytes\": 1048576,"
            + " \"last_used\": null, \"pinned\": false, \"default_version\": true,"
            + " \"active_requests\": 0, \"reason\": \"load 2ms\", \"health\": \"DEGRADED\","
            + " \"health_reason\": \"error rate 50.0% over the last 1m passes 10.0%\"}},"
            + " {\"name\": \"b\", \"version\": \"1\", \"state\": \"READY\", \"reason\": \"\","
            + " \"hangar\": {\"state\": \"READY\", \"format\": \"onnx\", \"memory_bytes\": 1048576,"
            + " \"last_used\": null, \"pinned\": false, \"default_version\": true,"
            + " \"active_requests\": 0, \"reason\": \"load 2ms\", \"health\": \"HEALTHY\","
            + " \"health_reason\": null}}]";

    var rows = ModelsCommand.rows(new ObjectMapper().readTree(index), Instant.EPOCH);

    assertThat(rows.get(0).state()).isEqualTo("DEGRADED");
    assertThat(rows.get(0).detail()).isEqualTo("error rate 50.0% over the last 1m passes 10.0%");
    assertThat(rows.get(1).state()).isEqualTo("READY");
    assertThat(rows.get(1).detail()).isEqualTo("load 2ms");
  }
}
