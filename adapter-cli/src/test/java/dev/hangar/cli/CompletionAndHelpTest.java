package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The completion script, and every command's help. */
class CompletionAndHelpTest {
  static final List<String> COMMANDS =
      List.of("serve", "inspect", "infer", "models", "bench", "optimize", "completion");

  @TempDir Path temporary;

  @Test
  void theBashScriptCompletesEveryCommandAndIsValidBash() throws IOException, InterruptedException {
    CliRunner.Result result = CliRunner.run("completion", "bash");
    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(result.out()).startsWith("#!/usr/bin/env bash").contains("complete -F");
    for (String command : COMMANDS) {
      assertThat(result.out()).as(command).contains(command);
    }
    assertThat(result.out()).contains("--concurrency").contains("--input-npy");

    Path script = temporary.resolve("hangar_completion");
    Files.writeString(script, result.out());
    Process syntax = new ProcessBuilder("bash", "-n", script.toString()).start();
    assertThat(syntax.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(syntax.exitValue())
        .as(new String(syntax.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
        .isZero();

    CliRunner.Result zsh = CliRunner.run("completion", "zsh");
    assertThat(zsh.exitCode()).isZero();
    assertThat(zsh.out()).contains("bashcompinit").contains("bench");
    assertThat(CliRunner.run("completion", "fish").exitCode()).isEqualTo(2);
  }

  @Test
  void everyCommandHasHelpWithAnExample() {
    for (String command : COMMANDS) {
      CliRunner.Result result = CliRunner.run(command, "--help");
      assertThat(result.exitCode()).as(command + ": " + result.err()).isZero();
      assertThat(result.out()).as(command).contains("Usage: hangar " + command).contains("Example");
    }
    CliRunner.Result top = CliRunner.run("--help");
    assertThat(top.exitCode()).isZero();
    for (String command : COMMANDS) {
      assertThat(top.out()).containsPattern("(?m)^  " + command + " ");
    }
  }

  @Test
  void aMisspelledCommandOrOptionGetsASuggestion() {
    CliRunner.Result command = CliRunner.run("infr");
    assertThat(command.exitCode()).isEqualTo(2);
    assertThat(command.err()).contains("Did you mean").contains("infer");
    CliRunner.Result option = CliRunner.run("bench", "m", "--concurency", "4");
    assertThat(option.exitCode()).isEqualTo(2);
    assertThat(option.err()).contains("--concurrency");
  }
}
