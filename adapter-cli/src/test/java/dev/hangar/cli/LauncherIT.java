package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command once through the real {@code ./hangar} launcher at the repository root, as a child
 * process.
 *
 * <p>This class runs in Maven's {@code integration-test} phase (a second surefire execution in this
 * module's pom), after {@code package} has built {@code target/hangar.jar} and {@code target/lib}
 * from the sources under test. It checks that they exist and runs the launcher with {@code
 * HANGAR_SKIP_BUILD=1}, so the launcher never starts a nested Maven build inside the test, and with
 * {@code JAVA_HOME} set to the JVM running the tests.
 */
class LauncherIT {
  private static final Path ROOT =
      Path.of(OneShotCommandsTest.MODELS).toAbsolutePath().normalize().getParent();
  private static final String CACHE =
      Path.of(OneShotCommandsTest.CACHE).toAbsolutePath().toString();
  private static final String ROW =
      "{\"features\": [[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]]}";

  @TempDir Path temporary;

  record Run(int exitCode, String out, String err) {}

  @BeforeAll
  static void theJarIsBuilt() {
    assertThat(ROOT.resolve("hangar")).isExecutable();
    assertThat(ROOT.resolve("adapter-cli/target/hangar.jar"))
        .as("run in the integration-test phase, after package")
        .isRegularFile();
    assertThat(ROOT.resolve("adapter-cli/target/lib")).isDirectory();
  }

  private static ProcessBuilder launcher(List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("hangar").toString());
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
    builder.environment().put("HANGAR_SKIP_BUILD", "1");
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().remove("HANGAR_MEMORY");
    return builder;
  }

  private Run hangar(String... args) throws IOException, InterruptedException {
    return run(launcher(List.of(args)));
  }

  private Run run(ProcessBuilder launcher) throws IOException, InterruptedException {
    List<String> args = launcher.command().subList(1, launcher.command().size());
    Path out = Files.createTempFile(temporary, "out", ".txt");
    Path err = Files.createTempFile(temporary, "err", ".txt");
    Process process =
        launcher
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("hangar %s finished", args).isTrue();
    Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    // the launcher's output never goes to a terminal here: no control characters but newlines
    assertThat(BenchCommandTest.CONTROL.matcher(run.out() + run.err()).find())
        .as("control characters in the output of %s", args)
        .isFalse();
    return run;
  }

  @Test
  void theOneShotCommands() throws Exception {
    Run help = hangar("--help");
    assertThat(help.exitCode()).isZero();
    for (String command : CompletionAndHelpTest.COMMANDS) {
      assertThat(help.out()).contains("  " + command + " ");
    }

    Run completion = hangar("completion", "bash");
    assertThat(completion.exitCode()).isZero();
    assertThat(completion.out()).startsWith("#!/usr/bin/env bash").contains("bench");

    Run inspect = hangar("inspect", "quality_predictor", "--repo", "models", "--cache-dir", CACHE);
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    assertThat(inspect.out()).contains("input:             features  FP32 [-1, 10]");

    Run infer =
        hangar(
            "infer", "quality_predictor", "--repo", "models", "--cache-dir", CACHE, "--input", ROW);
    assertThat(infer.exitCode()).as(infer.err()).isZero();
    assertThat(infer.out()).contains("\"name\":\"ssim\"");

    Run models = hangar("models", "--repo", "models", "--cache-dir", CACHE);
    assertThat(models.exitCode()).as(models.err()).isZero();
    assertThat(models.out()).contains("routing_classifier");

    Run optimize =
        hangar(
            "optimize",
            "routing_classifier",
            "--repo",
            "models",
            "--cache-dir",
            CACHE,
            "--level",
            "basic",
            "--runs",
            "3",
            "--warmup-runs",
            "1",
            "--out",
            temporary.resolve("optimized").toString());
    assertThat(optimize.exitCode()).as(optimize.err()).isZero();
    assertThat(optimize.out()).contains("level basic");

    Run bench =
        hangar(
            "bench",
            "routing_classifier",
            "--repo",
            "models",
            "--cache-dir",
            CACHE,
            "--concurrency",
            "1,4",
            "--warmup",
            "100ms",
            "--window",
            "200ms",
            "--max-windows",
            "2");
    assertThat(bench.exitCode()).as(bench.err()).isZero();
    assertThat(bench.out()).contains("routing_classifier version 1, in process");
    assertThat(bench.err()).contains("concurrency 4: ");

    Run usage = hangar("bench");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.err()).contains("Missing required parameter: 'MODEL'");
    Run unknown =
        hangar("infer", "no_such_model", "--repo", "models", "--cache-dir", CACHE, "--input", ROW);
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err().strip().lines()).hasSize(1);

    // a model that fails to load, beside one that cannot be read: one line, about the one asked for
    Path broken = Files.createDirectories(temporary.resolve("repo/broken/1"));
    Files.writeString(broken.resolve("model.onnx"), "not a model");
    Files.createDirectories(temporary.resolve("repo/typo/1"));
    Files.writeString(temporary.resolve("repo/typo/1/model.onnx"), "not a model either");
    Files.writeString(temporary.resolve("repo/typo/config.yaml"), "max_batch_sise: 4\n");
    Run failed =
        hangar(
            "infer",
            "broken",
            "--repo",
            temporary.resolve("repo").toString(),
            "--cache-dir",
            CACHE,
            "--input",
            "{}");
    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(failed.err().strip().lines())
        .singleElement()
        .asString()
        .startsWith("error: model 'broken' version 1 failed to load: ");
  }

  @Test
  void theHeapComesFromTheBudgetHoweverItIsWritten() throws Exception {
    // a java that prints what the launcher gives it
    Path fakeJava = temporary.resolve("jdk/bin/java");
    Files.createDirectories(fakeJava.getParent());
    Files.writeString(fakeJava, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    assertThat(fakeJava.toFile().setExecutable(true)).isTrue();
    Path config = temporary.resolve("hangar.yaml");
    for (String written :
        List.of("2GB", "\"2GB\"", "'2GB'", "2 GB", "\"2 GB\"  # two gigabytes", "2GB # two")) {
      Files.writeString(config, "repository: models\nmemory_budget: " + written + "\n");
      Run run = withJava(temporary.resolve("jdk"), "models", "--config", config.toString());
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out().lines()).as("memory_budget: " + written).contains("-Xmx512m");
    }
    Files.writeString(config, "memory_budget : 2GB\n");
    assertThat(withJava(temporary.resolve("jdk"), "models", "--config", config.toString()).out())
        .contains("-Xmx512m");
    Run flag = withJava(temporary.resolve("jdk"), "models", "--memory", "1GB");
    assertThat(flag.out().lines()).contains("-Xmx256m");
    // given last without a value, the option goes on to the command, which reports it (exit 2)
    Run bare = withJava(temporary.resolve("jdk"), "models", "--memory");
    assertThat(bare.exitCode()).as(bare.err()).isZero();
    assertThat(bare.out().lines()).contains("-Xmx125m").endsWith("--memory");
    Run real = hangar("models", "--memory");
    assertThat(real.exitCode()).isEqualTo(2);
    assertThat(real.err()).contains("Missing required parameter for option '--memory'");
  }

  @Test
  void anInputTooLargeForTheHeapIsOneLineSayingWhatToDo() throws Exception {
    Path input = temporary.resolve("large.json");
    try (var writer = Files.newBufferedWriter(input)) {
      writer.write("{\"features\": [");
      String row = "[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]";
      for (int i = 0; i < 1_000_000; i++) {
        writer.write(i == 0 ? row : "," + row);
      }
      writer.write("]}");
    }
    ProcessBuilder builder =
        launcher(
            List.of(
                "infer",
                "quality_predictor",
                "--repo",
                "models",
                "--cache-dir",
                CACHE,
                "--input",
                "@" + input));
    builder.environment().put("HANGAR_HEAP", "48m");
    Run run = run(builder);
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err().strip())
        .startsWith("error: out of heap memory (the heap is at most ")
        .endsWith(
            "set HANGAR_HEAP (such as HANGAR_HEAP=2g), or raise --memory, a quarter of"
                + " which the hangar launcher gives the heap")
        .doesNotContain("\n");
  }

  private Run withJava(Path javaHome, String... args) throws IOException, InterruptedException {
    ProcessBuilder builder = launcher(List.of(args));
    builder.environment().put("JAVA_HOME", javaHome.toString());
    return run(builder);
  }

  @Test
  void serveAndTheCommandsThatTalkToIt() throws Exception {
    Process serve =
        launcher(List.of("serve", "--repo", "models", "--cache-dir", CACHE, "--port", "0"))
            .redirectErrorStream(true)
            .start();
    ServeOutput output = ServeOutput.of(serve);
    try {
      String server = output.awaitUrl();

      Run infer =
          hangar(
              "infer",
              "quality_predictor",
              "--url",
              server,
              "--input",
              ROW,
              "--protocol",
              "binary");
      assertThat(infer.exitCode()).as(infer.err()).isZero();
      assertThat(infer.out()).contains("\"name\":\"ssim\"");
      // --verbose shows Hangar's debug lines, not the JDK HTTP client's and security events'
      Run verbose =
          hangar("infer", "quality_predictor", "--url", server, "--input", ROW, "--verbose");
      assertThat(verbose.exitCode()).as(verbose.err()).isZero();
      assertThat(verbose.err().lines()).noneMatch(line -> line.contains("DEBUG security"));
      assertThat(verbose.err().lines().count()).isLessThan(100);

      Run models = hangar("models", "--url", server);
      assertThat(models.exitCode()).as(models.err()).isZero();
      assertThat(models.out()).containsPattern("(?m)^quality_predictor +1\\* +onnx +READY ");

      Path report = temporary.resolve("report.html");
      Run bench =
          hangar(
              "bench",
              "quality_predictor",
              "--url",
              server,
              "--protocol",
              "binary",
              "--concurrency",
              "1,4",
              "--warmup",
              "100ms",
              "--window",
              "200ms",
              "--max-windows",
              "2",
              "--report",
              report.toString());
      assertThat(bench.exitCode()).as(bench.err()).isZero();
      assertThat(bench.out()).contains("quality_predictor version 1, " + server + " (binary)");
      assertThat(report).content().contains("<svg");

      assertThat(serve.toHandle().destroy()).isTrue();
      assertThat(serve.waitFor(60, TimeUnit.SECONDS)).isTrue();
      List<String> lines = output.awaitEnd();
      assertThat(serve.exitValue()).as(String.join("\n", lines)).isZero();

      Run refused = hangar("models", "--url", server);
      assertThat(refused.exitCode()).isEqualTo(1);
      assertThat(refused.err().strip())
          .isEqualTo(
              "error: cannot connect to "
                  + server
                  + ": connection refused (is 'hangar serve' running there?)");
    } finally {
      serve.destroyForcibly();
    }
  }
}
