package dev.hangar.spi;

import java.nio.file.Path;

/**
 * An optional {@link Backend} capability, found through {@link Backend#capability(Class)}: makes
 * models of the backend's format smaller or faster, and measures what that gains and costs.
 *
 * <p>Two uses:
 *
 * <ul>
 *   <li>{@link #optimize} for a person deciding (the {@code hangar optimize} command): builds every
 *       variant the options ask for, measures each against the original with one harness, and
 *       writes the chosen one.
 *   <li>{@link #prepare} for the host at load time (a model whose {@code config.yaml} has an {@code
 *       optimization:} block): returns a source the backend's {@link Backend#load} serves the
 *       optimized model from, built once and kept in the backend's cache directory.
 * </ul>
 *
 * <p>Implementations are thread-safe: the host may prepare several models at once. Interrupting the
 * thread that runs {@link #optimize} or {@link #tune} stops it at its next step (between measured
 * calls or files) with a {@link HangarException}, its temporary files deleted: a command line
 * stopped by Ctrl-C ends cleanly instead of exiting under a running engine call.
 */
public interface ModelOptimizer {
  /**
   * Builds the variants {@code options} asks for, measures the original and each variant with the
   * same in-process harness (load time, latency percentiles per batch size of {@code measurement},
   * error against the original on synthetic and random inputs), and writes the chosen variant to
   * {@code outputDirectory}. Optimizations that would cost more than they may (an int8 error above
   * its tolerance, say) are refused and listed with the reason in the report.
   *
   * @param source the model to optimize
   * @param options what to try
   * @param measurement how long to measure
   * @param outputDirectory where the chosen model file is written (created when missing)
   * @return what was done and measured
   * @throws ModelLoadException when the model cannot be read or loaded, naming the file
   */
  OptimizationReport optimize(
      ModelSource source,
      OptimizationOptions options,
      MeasurementPlan measurement,
      Path outputDirectory);

  /**
   * Returns the source to load in place of {@code source}: the same model, name, version and
   * declared signature, with the optimized file and whatever engine settings serving it needs. The
   * optimized file is built on the first call for a given file content, engine version and options,
   * and reused afterwards; a damaged cached file is rebuilt, never served. An optimization that is
   * refused (an int8 error above its tolerance, say) is logged and left out: the model is served
   * without it.
   *
   * @throws ModelLoadException when the model cannot be read or optimized ({@link
   *     ErrorCategory#USER_ERROR} when the options cannot apply to this model or format)
   */
  ModelSource prepare(ModelSource source, OptimizationOptions options);

  /**
   * Measures the model at each thread count and batch size of {@code options} and picks the setting
   * with the highest throughput whose p99 latency stays under the target.
   *
   * @throws ModelLoadException when the model cannot be read or loaded
   * @throws UnsupportedOperationException when the backend cannot tune (the default)
   */
  default TuningReport tune(ModelSource source, TuningOptions options) {
    throw new UnsupportedOperationException("this backend's optimizer does not tune");
  }
}
