package dev.hangar.backend.coreml;

import dev.hangar.backend.onnx.OnnxBackend;
import dev.hangar.backend.onnx.OnnxOptimizer;
import dev.hangar.backend.onnx.optimizer.FileDigests;
import dev.hangar.backend.onnx.optimizer.ModelFiles;
import dev.hangar.backend.onnx.optimizer.Tuner;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.TuningOptions;
import dev.hangar.spi.TuningReport;
import java.nio.file.Path;

/**
 * The CoreML backend's {@link ModelOptimizer}: compiles the {@code .mlmodel} to ONNX as a load
 * does, then hands the graph to the ONNX optimizer ({@link OnnxOptimizer#prepareGraph}), so CoreML
 * models get the same graph optimization and int8 quantization. The optimized graph is cached under
 * the ONNX backend's cache directory, keyed by the {@code .mlmodel}'s SHA-256 and the compiled
 * graph's (a compiler change invalidates it); {@link CoreMlBackend#load} serves it in place of the
 * original, with the original's signature and input checks.
 */
final class CoreMlOptimizer implements ModelOptimizer {
  private final CoreMlBackend backend;
  private final OnnxBackend onnx;

  // the .mlmodel's digest keys its cache entry; remembered so that a reload does not rehash it
  private final FileDigests digests = new FileDigests();

  CoreMlOptimizer(CoreMlBackend backend, OnnxBackend onnx) {
    this.backend = backend;
    this.onnx = onnx;
  }

  @Override
  public ModelSource prepare(ModelSource source, OptimizationOptions options) {
    if (options.isEmpty()) {
      return source;
    }
    CoreMlCompiler.Compiled compiled = backend.compile(source);
    return onnx.optimizer()
        .prepareGraph(
            backend.compiledSource(source, compiled),
            compiled.graph(),
            ModelFiles.sha256(digests, source.file(), "CoreML model"),
            options);
  }

  @Override
  public OptimizationReport optimize(
      ModelSource source,
      OptimizationOptions options,
      MeasurementPlan measurement,
      Path outputDirectory) {
    CoreMlCompiler.Compiled compiled = backend.compile(source);
    return onnx.optimizer()
        .optimizeGraph(
            backend.compiledSource(source, compiled),
            compiled.graph(),
            ModelFiles.sha256(digests, source.file(), "CoreML model"),
            ModelFiles.size(source.file(), "CoreML model"),
            options,
            measurement,
            outputDirectory);
  }

  @Override
  public TuningReport tune(ModelSource source, TuningOptions options) {
    backend.prepare();
    return Tuner.tune(
        source.name(),
        backend.engineVersion(),
        "intra_op_threads",
        threads -> backend.load(OnnxOptimizer.withThreads(source, threads)),
        options);
  }
}
