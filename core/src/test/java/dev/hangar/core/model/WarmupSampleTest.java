package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.testing.Harness;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warmup sample files that cannot be used fail the load with a one-line message. */
class WarmupSampleTest {
  @TempDir Path root;
  private Harness harness;
  private Path sample;

  @BeforeEach
  void setUp() throws IOException {
    harness = new Harness(root, DataSize.ofMegabytes(100), 10 * MB);
    harness.model("m", 1, 1);
    harness.config("m", "warmup: {samples: [sample.json]}\n");
    sample = root.resolve("m/sample.json");
  }

  @AfterEach
  void tearDown() {
    harness.close();
  }

  private String failure() {
    harness.manager.start().join();
    assertThatThrownBy(() -> harness.manager.load("m", LoadPriority.NORMAL).join());
    return harness.manager.status("m").get(0).reason().orElseThrow();
  }

  @Test
  void aSampleLargerThanARequestBodyMayBeIsRefusedBeforeItIsRead() throws IOException {
    try (RandomAccessFile file = new RandomAccessFile(sample.toFile(), "rw")) {
      file.setLength(65 * MB); // sparse
    }

    assertThat(failure())
        .isEqualTo(
            "warmup sample "
                + sample
                + " is 65.0MB, more than the 64.0MB a sample may be (a request body's default"
                + " limit); give a smaller request");
  }

  @Test
  void aSampleThatIsNotJsonIsNamedWithItsLineAndColumnOnOneLine() throws IOException {
    Files.writeString(sample, "{\"inputs\": [\n  {\"name\": \"x\"\n");

    assertThat(failure())
        .isEqualTo(
            "warmup sample "
                + sample
                + ":3:1: Unexpected end-of-input: expected close marker for Object (opened at line"
                + " 2, column 3); fix the JSON");
  }

  @Test
  void aMissingSampleSaysWhereItIsNamed() {
    assertThat(failure())
        .isEqualTo(
            "warmup sample " + sample + " does not exist; fix warmup.samples in config.yaml");
  }
}
