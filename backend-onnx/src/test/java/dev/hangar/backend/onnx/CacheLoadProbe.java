package dev.hangar.backend.onnx;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.Tensor;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Run in a fresh JVM by {@link ReadOnlyCacheProcessTest}, since ONNX Runtime's native library is
 * loaded once per process: loads the sample {@code quality_predictor} as it is and with {@code
 * optimization: {level: all}}, from the cache directory given, as a server does, and writes a
 * report (with the error, when a load fails).
 *
 * <p>Arguments: the cache directory, the model file, the report file.
 */
public final class CacheLoadProbe {
  private CacheLoadProbe() {}

  /** Runs the probe. */
  public static void main(String[] args) throws Exception {
    Properties report = new Properties();
    ModelSource source = ModelSource.of("quality_predictor", 1, Path.of(args[1]));
    List<Tensor> inputs = List.of(Tensor.ofFloats("features", new long[] {1, 10}, new float[10]));
    Path optimizedFile = null;
    try (Backend backend = new OnnxBackendProvider().create(new BackendContext(Path.of(args[0])))) {
      try (LoadedModel model = backend.load(source)) {
        report.setProperty("plain.output", output(model, inputs));
      }
      ModelSource optimized =
          backend
              .capability(ModelOptimizer.class)
              .orElseThrow()
              .prepare(source, OptimizationOptions.graphOnly(Level.ALL));
      optimizedFile = optimized.file();
      report.setProperty("optimized.file", optimizedFile.toString());
      try (LoadedModel model = backend.load(optimized)) {
        report.setProperty("optimized.output", output(model, inputs));
      }
    } catch (HangarException e) {
      report.setProperty("error.category", e.category().name());
      report.setProperty("error.message", e.getMessage());
    }
    if (optimizedFile != null) {
      // a model optimized outside a read-only cache is deleted with the backend
      report.setProperty(
          "optimized.exists.after.close", Boolean.toString(Files.exists(optimizedFile)));
    }
    report.setProperty(
        "onnxruntime.native.path", String.valueOf(System.getProperty("onnxruntime.native.path")));
    try (OutputStream out = Files.newOutputStream(Path.of(args[2]))) {
      report.store(out, "CacheLoadProbe");
    }
  }

  private static String output(LoadedModel model, List<Tensor> inputs) {
    return Float.toString(model.infer(inputs).get(0).toFloatArray()[0]);
  }
}
