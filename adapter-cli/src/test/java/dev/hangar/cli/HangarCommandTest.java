package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** The one error line of a command that failed. */
class HangarCommandTest {
  @Test
  void hangarsOwnFailuresAreTheirMessage() {
    assertThat(
            HangarCommand.describe(
                new ModelLoadException(ErrorCategory.USER_ERROR, "model m: no model file")))
        .isEqualTo("model m: no model file");
    assertThat(HangarCommand.describe(new UsageException("--out is a file")))
        .isEqualTo("--out is a file");
  }

  @Test
  void aFileProblemIsItsPathAndReasonInWords() {
    assertThat(HangarCommand.describe(new UncheckedIOException(new NoSuchFileException("/a/b"))))
        .isEqualTo("/a/b: no such file or directory");
    assertThat(HangarCommand.describe(new AccessDeniedException("/etc/x")))
        .isEqualTo("/etc/x: permission denied");
    assertThat(
            HangarCommand.describe(
                new UncheckedIOException(
                    new FileSystemException("/out/m.onnx", null, "No space left on device"))))
        .isEqualTo("/out/m.onnx: No space left on device");
    assertThat(HangarCommand.describe(new IOException("Broken pipe"))).isEqualTo("Broken pipe");
  }

  @Test
  void anUnknownCommandIsNamedWithTheCommands() {
    // picocli said "Unmatched argument at index 0: 'bogus'"
    CliRunner.Result result = CliRunner.run("bogus");

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().lines().findFirst())
        .contains(
            "error: unknown command 'bogus'; commands: serve, inspect, infer, models, bench,"
                + " optimize, convert, completion, help");
    assertThat(CliRunner.run("serv").err()).contains("Did you mean: hangar serve");
  }

  @Test
  void anythingElseIsNamedAsTheDefectItIs() {
    assertThat(HangarCommand.describe(new NullPointerException("x is null\nmore")))
        .isEqualTo(
            "unexpected NullPointerException: x is null (a defect in hangar: --verbose prints"
                + " where it happened)");
    assertThat(HangarCommand.describe(new IllegalStateException()))
        .isEqualTo(
            "unexpected IllegalStateException (a defect in hangar: --verbose prints where it"
                + " happened)");
  }
}
