package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hangar optimize} in a child JVM stopped by SIGTERM while its variants exist, several
 * times: the stop races the run's steps.
 */
class OptimizeProcessTest {
  @TempDir Path temporary;

  @org.junit.jupiter.api.RepeatedTest(3)
  void sigtermLeavesNoTemporaryFileInTheOutputDirectory() throws Exception {
    Path out = Files.createDirectories(temporary.resolve("out"));
    try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
      out.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
      // minutes of timed runs: the process is still measuring when it is stopped
      Process process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  // a crash log, were ONNX Runtime torn down under a call, lands here
                  "-XX:ErrorFile=" + temporary.resolve("hs_err_%p.log"),
                  "-cp",
                  System.getProperty("java.class.path"),
                  "dev.hangar.cli.Main",
                  "optimize",
                  "quality_predictor",
                  "--repo",
                  OneShotCommandsTest.MODELS,
                  "--cache-dir",
                  temporary.resolve("cache").toString(),
                  "--int8",
                  "--warmup-runs",
                  "0",
                  "--runs",
                  "2000000",
                  "--out",
                  out.toString())
              .redirectErrorStream(true)
              .redirectOutput(temporary.resolve("output.txt").toFile())
              .start();
      try {
        awaitCreated(watcher, "quality_predictor.int8.tmp");
        assertThat(process.toHandle().destroy()).isTrue();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited within 60s").isTrue();
      } finally {
        process.destroyForcibly();
      }
      // caught: the run stopped at its next step and the command failed in its own words (a JVM
      // ended by the signal would exit 143, or crash, 134, were ONNX Runtime torn down under a
      // call)
      String output = Files.readString(temporary.resolve("output.txt"));
      assertThat(process.exitValue()).as(output).isEqualTo(1);
      assertThat(output)
          .contains("stopping at the run's next step (a second Ctrl-C quits at once)")
          .contains(
              "error: stopped by a signal before the run finished; its temporary files are"
                  + " removed");
    }
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files).isEmpty();
    }
    try (Stream<Path> files = Files.list(temporary)) {
      assertThat(files.map(file -> file.getFileName().toString()))
          .noneMatch(name -> name.startsWith("hs_err"));
    }
  }

  /** Waits for the file to be created in the watched directory. */
  private static void awaitCreated(WatchService watcher, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      WatchKey key = watcher.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (key == null) {
        break;
      }
      for (WatchEvent<?> event : key.pollEvents()) {
        if (event.context() instanceof Path created && created.toString().equals(name)) {
          return;
        }
      }
      key.reset();
    }
    throw new AssertionError(name + " was not created within 120s");
  }
}
