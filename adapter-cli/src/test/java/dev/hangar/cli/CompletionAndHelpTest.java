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
  void theBashScriptOffersOptionValuesAsTheyAreTyped() throws IOException, InterruptedException {
    Path script = temporary.resolve("hangar_completion");
    Files.writeString(script, CliRunner.run("completion", "bash").out());
    // completes each line as bash would after a space, printing what it offers
    String completeEach =
        "source \"$1\"; shift; for line in \"$@\"; do read -ra COMP_WORDS <<< \"$line\";"
            + " COMP_WORDS+=(''); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=\"$line \";"
            + " COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _complete_hangar 2>/dev/null;"
            + " echo \"$line -> ${COMPREPLY[*]}\"; done";
    Process bash =
        new ProcessBuilder(
                "bash",
                "-c",
                completeEach,
                "complete",
                script.toString(),
                "hangar optimize --level",
                "hangar completion",
                "hangar infer --protocol",
                "hangar bench --progress",
                "hangar bench --distribution")
            .redirectErrorStream(true)
            .start();
    String offered = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(offered.lines())
        .containsExactly(
            "hangar optimize --level -> none basic extended all",
            "hangar completion -> bash zsh",
            "hangar infer --protocol -> json binary",
            "hangar bench --progress -> auto bar plain none",
            "hangar bench --distribution -> constant poisson");
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
