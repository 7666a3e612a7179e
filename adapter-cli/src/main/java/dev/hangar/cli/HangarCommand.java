package dev.hangar.cli;

import dev.hangar.spi.HangarException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The top-level {@code hangar} command. */
@Command(
    name = "hangar",
    mixinStandardHelpOptions = true,
    versionProvider = HangarCommand.Version.class,
    description =
        "A model server for the JVM: ONNX, TorchScript and CoreML models, kept warm inside a memory budget.",
    subcommands = {
      ServeCommand.class,
      InspectCommand.class,
      InferCommand.class,
      ModelsCommand.class,
      BenchCommand.class,
      OptimizeCommand.class,
      ConvertCommand.class,
      CompletionCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {"", "Run 'hangar <command> --help' for a command's options and an example."})
public final class HangarCommand implements Runnable {
  @Option(
      names = "--verbose",
      description = "Print stack traces with errors, and debug logs.",
      scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command");
  }

  /** Returns the configured command line: exit codes, one-line errors. */
  static CommandLine commandLine() {
    return commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true));
  }

  /** Returns the configured command line writing to the given streams. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new HangarCommand());
    commandLine.setExecutionExceptionHandler(HangarCommand::handleFailure);
    commandLine.setParameterExceptionHandler(HangarCommand::handleUsageError);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    // '@file' is the commands' own syntax (--input @request.json), not picocli's argument files
    commandLine.setExpandAtFiles(false);
    commandLine.setOut(out);
    commandLine.setErr(err);
    return commandLine;
  }

  private static int handleFailure(
      Exception failure, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    PrintWriter err = commandLine.getErr();
    Throwable cause = unwrap(failure);
    err.println("error: " + firstLine(describe(cause)));
    if (parseResult.hasMatchedOption("--verbose") || isVerbose(parseResult)) {
      cause.printStackTrace(err);
    }
    err.flush();
    if (cause instanceof UsageException) {
      return 2;
    }
    return 1;
  }

  /**
   * Says what failed in words: Hangar's own failures and usage errors by their message, a file that
   * could not be read or written by its path and reason, anything else as the defect it is.
   */
  static String describe(Throwable cause) {
    if (cause instanceof HangarException
        || cause instanceof IllegalArgumentException
        || cause instanceof UsageException) {
      return String.valueOf(cause.getMessage());
    }
    IOException io =
        cause instanceof UncheckedIOException unchecked
            ? unchecked.getCause()
            : cause instanceof IOException checked ? checked : null;
    if (io != null) {
      return io instanceof FileSystemException file && file.getFile() != null
          ? file.getFile() + ": " + IoProblems.describe(io)
          : IoProblems.describe(io);
    }
    return "unexpected "
        + cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + firstLine(cause.getMessage()))
        + " (a defect in hangar: --verbose prints where it happened)";
  }

  private static int handleUsageError(CommandLine.ParameterException failure, String[] args) {
    CommandLine commandLine = failure.getCommandLine();
    PrintWriter err = commandLine.getErr();
    err.println("error: " + usageMessage(failure));
    if (failure instanceof CommandLine.UnmatchedArgumentException unmatched) {
      // picocli's "Did you mean" for a misspelled command or option
      CommandLine.UnmatchedArgumentException.printSuggestions(unmatched, err);
    }
    err.println("Run '" + commandLine.getCommandSpec().qualifiedName() + " --help' for usage.");
    err.flush();
    return 2;
  }

  /**
   * picocli's message, except for a word that is no command: picocli calls it an "unmatched
   * argument at index 0".
   */
  private static String usageMessage(CommandLine.ParameterException failure) {
    CommandLine commandLine = failure.getCommandLine();
    if (failure instanceof CommandLine.UnmatchedArgumentException unmatched
        && commandLine.getCommandSpec().userObject() instanceof HangarCommand
        && !unmatched.getUnmatched().isEmpty()
        && !unmatched.getUnmatched().get(0).startsWith("-")) {
      return "unknown command '"
          + unmatched.getUnmatched().get(0)
          + "'; commands: "
          + String.join(", ", commandLine.getSubcommands().keySet());
    }
    return failure.getMessage();
  }

  private static boolean isVerbose(CommandLine.ParseResult parseResult) {
    CommandLine.ParseResult current = parseResult;
    while (current != null) {
      if (current.hasMatchedOption("--verbose")) {
        return true;
      }
      current = current.subcommand();
    }
    return false;
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable current = failure;
    while ((current instanceof java.util.concurrent.CompletionException
            || current instanceof java.util.concurrent.ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown failure";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** Prints the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = HangarCommand.class.getPackage().getImplementationVersion();
      return new String[] {"hangar " + (version == null ? "development build" : version)};
    }
  }
}
