package dev.hangar.models;

import dev.hangar.backend.onnx.optimizer.TestGraphs;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes the 64-3500-3500-8 MLP (about 50 MB) used by the memory-budget test and the benchmarks.
 * Run in a child JVM, so that building 50 MB of weights does not inflate the measuring JVM.
 */
public final class WriteMlp {
  private WriteMlp() {}

  /**
   * Arguments: the directory to write {@code mlp.onnx} into, and optionally the seed.
   *
   * @throws IOException when the file cannot be written
   */
  public static void main(String[] args) throws IOException {
    long seed = args.length > 1 ? Long.parseLong(args[1]) : 7;
    TestGraphs.write(
        TestGraphs.mlp("mlp", new int[] {64, 3500, 3500, 8}, seed, false), Path.of(args[0]), "mlp");
  }

  /** Writes the MLP into {@code directory} from a child JVM and returns the file. */
  public static Path inChildJvm(Path directory) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                WriteMlp.class.getName(),
                directory.toString())
            .inheritIO()
            .start();
    if (process.waitFor() != 0) {
      throw new IOException("writing the MLP failed with exit code " + process.exitValue());
    }
    return directory.resolve("mlp.onnx");
  }
}
