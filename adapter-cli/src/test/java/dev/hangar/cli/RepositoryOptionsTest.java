package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the repository and the memory budget come from, and the usage errors about them. */
class RepositoryOptionsTest {
  @TempDir Path temporary;

  @Test
  void aModelsDirectoryGivenAsTheRepositoryIsAUsageErrorNamingTheRepository() {
    // listed as a model '1' with advice to move its files into 1/1/
    CliRunner.Result model =
        CliRunner.run("models", "--repo", OneShotCommandsTest.MODELS + "/quality_predictor");
    // listed as a model called 'model'
    CliRunner.Result version =
        CliRunner.run("models", "--repo", OneShotCommandsTest.MODELS + "/quality_predictor/1");
    CliRunner.Result serve =
        CliRunner.run(
            "serve", "--repo", OneShotCommandsTest.MODELS + "/quality_predictor", "--port", "0");

    String repository = Path.of(OneShotCommandsTest.MODELS).normalize().toString();
    assertThat(model.exitCode()).as(model.err()).isEqualTo(2);
    assertThat(model.err().strip())
        .isEqualTo(
            "error: --repo "
                + OneShotCommandsTest.MODELS
                + "/quality_predictor looks like one model's directory; give the repository that"
                + " holds it: --repo "
                + repository);
    assertThat(version.exitCode()).as(version.err()).isEqualTo(2);
    assertThat(version.err().strip())
        .endsWith(
            "/quality_predictor/1 looks like a version directory of one model; give the"
                + " repository that holds it: --repo "
                + repository);
    assertThat(serve.exitCode()).isEqualTo(2);
    assertThat(serve.err()).contains("looks like one model's directory").doesNotContain("INFO");
  }

  @Test
  void aRepositoryOfBareFilesAndModelDirectoriesIsNoModelsDirectory() throws IOException {
    Files.copy(
        Path.of(OneShotCommandsTest.MODELS, "routing_classifier/1/model.onnx"),
        temporary.resolve("routing.onnx"));
    Files.createDirectories(temporary.resolve("docs"));
    Files.writeString(temporary.resolve("docs/README.md"), "notes");

    CliRunner.Result listed = CliRunner.run("models", "--repo", temporary.toString());

    assertThat(listed.exitCode()).as(listed.err()).isZero();
    assertThat(listed.out()).contains("routing");
  }

  @Test
  void aMissingRepositoryInTheConfigFileNamesTheFileAndTheKey() throws IOException {
    Path file = Files.writeString(temporary.resolve("hangar.yaml"), "repository: nothere\n");

    CliRunner.Result result = CliRunner.run("models", "--config", file.toString());

    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err().strip())
        .isEqualTo(
            "error: "
                + file
                + ": 'repository' "
                + temporary.toAbsolutePath().resolve("nothere")
                + ": no such directory");
  }

  @Test
  void aMemorySizeWithoutAUnitIsAUsageErrorSayingWhichUnitToWrite() throws IOException {
    CliRunner.Result flag =
        CliRunner.run("models", "--repo", OneShotCommandsTest.MODELS, "--memory", "500");
    Path file = Files.writeString(temporary.resolve("hangar.yaml"), "memory_budget: 500\n");
    CliRunner.Result config =
        CliRunner.run("models", "--repo", OneShotCommandsTest.MODELS, "--config", file.toString());
    CliRunner.Result body =
        CliRunner.run("serve", "--repo", OneShotCommandsTest.MODELS, "--body-memory", "64");

    assertThat(flag.exitCode()).isEqualTo(2);
    assertThat(flag.err())
        .contains("error: Invalid value for option '--memory': '500' has no unit: write 500MB")
        .doesNotContain("java.lang")
        .doesNotContain("DataSize");
    assertThat(config.exitCode()).isEqualTo(2);
    assertThat(config.err())
        .contains(file + ": 'memory_budget' is invalid: '500' has no unit: write 500MB");
    assertThat(body.exitCode()).isEqualTo(2);
    assertThat(body.err()).contains("--body-memory").contains("'64' has no unit: write 64MB");
  }

  @Test
  void aMissingDefaultRepositoryHintsAtRepoAndABadVariableIsNamed() throws Exception {
    // both read the environment and the current directory: a child JVM
    Run models = hangar(temporary, List.of(), "models");
    Run serve = hangar(temporary, List.of(), "serve", "--port", "0");
    Run memory =
        hangar(
            temporary,
            List.of("HANGAR_MEMORY=abc"),
            "models",
            "--repo",
            Path.of(OneShotCommandsTest.MODELS).toAbsolutePath().toString());

    String missing =
        "error: no model repository: there is no directory models in "
            + temporary.toRealPath()
            + " (the default); give one with --repo DIR";
    assertThat(models.exitCode()).as(models.output()).isEqualTo(2);
    assertThat(models.output().strip()).isEqualTo(missing);
    assertThat(serve.exitCode()).as(serve.output()).isEqualTo(2);
    // before the memory budget's line, or any other
    assertThat(serve.output().strip()).isEqualTo(missing);
    assertThat(memory.exitCode()).as(memory.output()).isEqualTo(2);
    assertThat(memory.output().strip())
        .isEqualTo(
            "error: HANGAR_MEMORY=abc is not a memory size: 'abc' is not a size; write a number"
                + " and a unit such as 750MB, 2GB or 512KB");
  }

  record Run(int exitCode, String output) {}

  /** Runs hangar in a child JVM in {@code directory}, with extra environment variables. */
  private static Run hangar(Path directory, List<String> environment, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.hangar.cli.Main"));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
    builder.environment().remove("HANGAR_MEMORY");
    builder.environment().remove("HANGAR_CONFIG");
    for (String variable : environment) {
      int equals = variable.indexOf('=');
      builder.environment().put(variable.substring(0, equals), variable.substring(equals + 1));
    }
    Process process = builder.start();
    try {
      String output = new String(process.getInputStream().readAllBytes());
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
      return new Run(process.exitValue(), output);
    } finally {
      process.destroyForcibly();
    }
  }
}
