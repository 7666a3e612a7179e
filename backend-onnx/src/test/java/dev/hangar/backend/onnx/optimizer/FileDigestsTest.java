package dev.hangar.backend.onnx.optimizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDigestsTest {
  private static final FileTime LONG_AGO = FileTime.from(Instant.parse("2026-01-01T00:00:00Z"));

  @TempDir Path directory;

  private final FileDigests digests = new FileDigests();

  @Test
  void aSettledFileIsRememberedUntilItChanges() throws IOException {
    Path file = Files.write(directory.resolve("model.onnx"), new byte[] {1, 2, 3});
    Files.setLastModifiedTime(file, LONG_AGO);
    String first = digests.sha256(file);
    assertThat(first).isEqualTo(Digests.sha256(file));

    // same size, same time, other bytes: only a remembered digest would still say `first`
    Files.write(file, new byte[] {4, 5, 6});
    Files.setLastModifiedTime(file, LONG_AGO);
    assertThat(digests.sha256(file)).isEqualTo(first);

    Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2026-01-02T00:00:00Z")));
    assertThat(digests.sha256(file)).isEqualTo(Digests.sha256(file)).isNotEqualTo(first);
  }

  @Test
  void aFreshlyWrittenFileIsReadAgainEvenWhenItsSizeAndTimeDoNotChange() throws IOException {
    Path file = Files.write(directory.resolve("entry.onnx"), new byte[] {1, 2, 3});
    String first = digests.sha256(file);
    FileTime time = Files.getLastModifiedTime(file);

    Files.write(file, new byte[] {9, 9, 9});
    Files.setLastModifiedTime(file, time);
    assertThat(digests.sha256(file)).isNotEqualTo(first).isEqualTo(Digests.sha256(file));
  }
}
