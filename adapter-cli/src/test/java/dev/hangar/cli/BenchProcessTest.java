package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hangar bench} in a child JVM stopped by SIGTERM during its second level. */
class BenchProcessTest {
  @TempDir Path temporary;

  @Test
  void aSignalDuringARunReportsTheLevelsMeasuredAndFails() throws Exception {
    Path output = temporary.resolve("output.txt");
    Path json = temporary.resolve("bench.json");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.hangar.cli.Main",
                "bench",
                "quality_predictor",
                "--repo",
                OneShotCommandsTest.MODELS,
                "--cache-dir",
                OneShotCommandsTest.CACHE,
                "--concurrency",
                "1,2",
                "--warmup",
                "100ms",
                "--window",
                "300ms",
                "--max-windows",
                "40",
                "--stability",
                "0.0001",
                "--json",
                json.toString())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    try {
      // the first level's summary line: the second level is being measured
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.readString(output).contains("concurrency 1: ")
          || !Files.readString(output).contains("concurrency 2: window")) {
        assertThat(System.nanoTime()).as("the second level began").isLessThan(deadline);
        assertThat(process.isAlive()).as(Files.readString(output)).isTrue();
        Thread.sleep(50);
      }
      assertThat(process.toHandle().destroy()).isTrue();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
    } finally {
      process.destroyForcibly();
    }

    String text = Files.readString(output);
    assertThat(process.exitValue()).as(text).isEqualTo(1);
    assertThat(text)
        .contains("stopping: the levels measured so far are reported")
        .contains(
            "error: stopped by a signal after 1 of 2 levels; the table holds the levels measured");
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("results")).hasSize(1);
    assertThat(report.get("results").get(0).get("requests").asLong()).isPositive();
  }
}
