package dev.hangar.cli;

import dev.hangar.core.config.DataSize;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The {@code hangar} command's entry point. */
public final class Main {
  private Main() {}

  /** Runs the command line and exits with its status: 0 success, 1 failure, 2 usage error. */
  public static void main(String[] args) {
    configureLogging(args);
    System.exit(run(args));
  }

  /** Runs the command line in this JVM and returns its exit status. */
  public static int run(String... args) {
    picocli.CommandLine commandLine = HangarCommand.commandLine();
    try {
      return commandLine.execute(args);
    } catch (OutOfMemoryError e) {
      // an input too large for the heap: one line that says what to do, not the JVM's trace
      java.io.PrintWriter err = commandLine.getErr();
      err.println(
          "error: out of heap memory (the heap is at most "
              + DataSize.format(Runtime.getRuntime().maxMemory())
              + "); this run needs more (a large input, or many models): set HANGAR_HEAP (such"
              + " as HANGAR_HEAP=2g), or"
              + " raise --memory, a quarter of which the hangar launcher gives the heap");
      if (java.util.Arrays.asList(args).contains("--verbose")) {
        e.printStackTrace(err);
      }
      return 1;
    } finally {
      commandLine.getOut().flush();
      commandLine.getErr().flush();
    }
  }

  private static void configureLogging(String[] args) {
    boolean serving = args.length > 0 && args[0].equals("serve");
    boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
    // one-shot commands print results on stdout and keep stderr for problems
    String level = verbose ? "debug" : serving ? "info" : "warn";
    System.setProperty(
        "org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("hangar.log.level", level));
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
    System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
    // a one-shot command's failure is its one error line; the manager's warning of the same load
    // failing, or of other models in the repository it was not asked about, would add lines
    if (!serving && !verbose) {
      System.setProperty("org.slf4j.simpleLogger.log.dev.hangar.core.model.ModelManager", "error");
    }
    // --verbose is for Hangar's own debug lines: the JDK's HTTP client and security events would
    // bury them (600 lines for one remote infer)
    System.setProperty("org.slf4j.simpleLogger.log.jdk.internal.httpclient.debug", "info");
    System.setProperty("org.slf4j.simpleLogger.log.jdk.event.security", "info");
    // DJL probes for CUDA on every start and warns when there is none: not news on a CPU server
    System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
    // Jetty and Javalin narrate their start-up; `hangar serve` logs its own one line instead
    System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty", verbose ? "info" : "warn");
    System.setProperty("org.slf4j.simpleLogger.log.io.javalin", verbose ? "info" : "warn");
    // its start failure reaches `hangar serve` as an exception, which says it once, in its words
    System.setProperty("org.slf4j.simpleLogger.log.io.javalin.Javalin", verbose ? "info" : "off");
    // ONNX Runtime's loader logs through java.util.logging
    Logger.getLogger("").setLevel(verbose ? Level.FINE : Level.WARNING);
  }
}
