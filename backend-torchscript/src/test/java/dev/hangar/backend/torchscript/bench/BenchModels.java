package dev.hangar.backend.torchscript.bench;

import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the benchmarks load, and how they read the process's resident memory. */
final class BenchModels {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));

  private BenchModels() {}

  /** The file of quality_predictor_torchscript. */
  static Path qualityPredictorFile() {
    return MODELS.resolve("quality_predictor_torchscript/1/model.pt").toAbsolutePath();
  }

  /** quality_predictor_torchscript as its config.yaml declares it. */
  static ModelSource qualityPredictor(String name) {
    return new ModelSource(
        name,
        1,
        qualityPredictorFile(),
        Optional.of(
            new ModelSignature(
                List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 10})),
                List.of(new TensorSpec("ssim", DataType.FP32, new long[] {-1, 1})),
                true)),
        new ModelParameters(Map.of("intra_op_threads", "1")));
  }

  /** Returns the process's resident set size in KiB, from /proc/self/status (Linux). */
  static long residentKibibytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      return -1;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
