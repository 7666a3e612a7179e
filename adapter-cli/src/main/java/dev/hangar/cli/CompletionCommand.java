package dev.hangar.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hangar completion}: a shell completion script generated from the command model. */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description =
        "Print a completion script for bash or zsh, generated from hangar's commands and options.",
    footer = {
      "",
      "Examples:",
      "  source <(hangar completion bash)              # this shell; add it to ~/.bashrc to keep it",
      "  hangar completion bash > /etc/bash_completion.d/hangar",
      "  source <(hangar completion zsh)               # in ~/.zshrc (uses zsh's bashcompinit)"
    })
final class CompletionCommand implements Callable<Integer> {
  /** The shells the script works in. */
  enum Shell {
    BASH,
    ZSH
  }

  @Parameters(
      index = "0",
      arity = "0..1",
      defaultValue = "bash",
      paramLabel = "SHELL",
      completionCandidates = CompletionCandidates.Shells.class,
      description = "bash or zsh (default: ${DEFAULT-VALUE}).")
  Shell shell;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    // picocli's script is bash; it turns on zsh's bashcompinit itself when zsh sources it
    String script = AutoComplete.bash("hangar", spec.root().commandLine());
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
