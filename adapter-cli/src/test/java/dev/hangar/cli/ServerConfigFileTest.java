package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config}: a server configuration file whose settings flags override. */
class ServerConfigFileTest {
  @TempDir Path temporary;

  @Test
  void theFileNamesTheRepositoryAndFlagsWin() throws IOException {
    Path file =
        Files.writeString(
            temporary.resolve("hangar.yaml"),
            "repository: "
                + Path.of(OneShotCommandsTest.MODELS).toAbsolutePath()
                + "\nmemory_budget: 600MB\ncache_directory: "
                + Path.of(OneShotCommandsTest.CACHE).toAbsolutePath()
                + "\n");
    CliRunner.Result listed = CliRunner.run("models", "--config", file.toString());
    assertThat(listed.exitCode()).as(listed.err()).isZero();
    assertThat(listed.out()).contains("quality_predictor");

    CliRunner.Result overridden =
        CliRunner.run("models", "--config", file.toString(), "--repo", temporary.toString());
    assertThat(overridden.exitCode()).as(overridden.err()).isZero();
    assertThat(overridden.out()).doesNotContain("quality_predictor");
  }

  @Test
  void aBadFileIsAUsageErrorNamingTheKey() throws IOException {
    Path file = Files.writeString(temporary.resolve("hangar.yaml"), "memory_budjet: 1GB\n");
    CliRunner.Result result = CliRunner.run("models", "--config", file.toString());
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().strip().lines()).hasSize(1);
    assertThat(result.err())
        .contains("unknown key 'memory_budjet'")
        .contains("did you mean 'memory_budget'")
        .contains(file.toString());
    assertThat(
            CliRunner.run("models", "--config", temporary.resolve("none.yaml").toString())
                .exitCode())
        .isEqualTo(2);
  }
}
