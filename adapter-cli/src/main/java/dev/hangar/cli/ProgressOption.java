package dev.hangar.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --progress} option of the commands that report long operations. */
final class ProgressOption {
  @Option(
      names = "--progress",
      paramLabel = "STYLE",
      completionCandidates = CompletionCandidates.ProgressStyles.class,
      defaultValue = "auto",
      description =
          "auto (a bar on a terminal, plain lines otherwise), bar, plain or none (default:"
              + " ${DEFAULT-VALUE}).")
  Progress.Style style;

  /** Returns the progress display chosen, writing to {@code err}. */
  Progress on(PrintWriter err) {
    return Progress.on(style, err);
  }
}
