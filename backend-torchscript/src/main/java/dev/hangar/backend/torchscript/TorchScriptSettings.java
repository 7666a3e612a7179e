package dev.hangar.backend.torchscript;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelParameters;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings a model's {@code config.yaml} may give the TorchScript backend under {@code
 * parameters:}, parsed and validated.
 *
 * @param intraOpThreads threads libtorch uses inside one operator (OpenMP/MKL); empty for
 *     libtorch's default (the number of cores, or {@code OMP_NUM_THREADS}). Process-wide in
 *     libtorch: the first model that sets it decides for the process, see the module README
 * @param interOpThreads threads of libtorch's inter-op pool (TorchScript {@code fork}, async
 *     operators); empty for the default. Process-wide and settable once per process
 * @param inferenceMode whether forward runs with autograd off (true, the default); false runs it
 *     with autograd on, for models whose forward needs gradients
 * @param graphExecutorOptimization whether TorchScript's profiling graph executor optimizes the
 *     model after profiling its first runs (true, the default); false runs the graph unoptimized,
 *     for this model's calls only
 */
public record TorchScriptSettings(
    Optional<Integer> intraOpThreads,
    Optional<Integer> interOpThreads,
    boolean inferenceMode,
    boolean graphExecutorOptimization) {

  static final String INTRA_OP_THREADS = "intra_op_threads";
  static final String INTER_OP_THREADS = "inter_op_threads";
  static final String INFERENCE_MODE = "inference_mode";
  static final String GRAPH_EXECUTOR_OPTIMIZATION = "graph_executor_optimization";

  static final Set<String> PARAMETER_NAMES =
      Set.of(INTRA_OP_THREADS, INTER_OP_THREADS, INFERENCE_MODE, GRAPH_EXECUTOR_OPTIMIZATION);

  private static final int MAX_THREADS = 1024;

  /** Validates. */
  public TorchScriptSettings {
    requireNonNull(intraOpThreads, "intraOpThreads is null");
    requireNonNull(interOpThreads, "interOpThreads is null");
  }

  /** Returns the settings of a model that sets none. */
  public static TorchScriptSettings defaults() {
    return new TorchScriptSettings(Optional.empty(), Optional.empty(), true, true);
  }

  /**
   * Reads the settings from a model's parameters.
   *
   * @throws ModelLoadException ({@link ErrorCategory#USER_ERROR}) naming a setting that is unknown
   *     or whose value is invalid
   */
  public static TorchScriptSettings from(ModelParameters parameters) {
    Set<String> unknown = new TreeSet<>(parameters.names());
    unknown.removeAll(PARAMETER_NAMES);
    if (!unknown.isEmpty()) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "unknown TorchScript parameter(s) "
              + unknown
              + "; the TorchScript backend accepts "
              + new TreeSet<>(PARAMETER_NAMES));
    }
    return new TorchScriptSettings(
        parameters.integer(INTRA_OP_THREADS, 1, MAX_THREADS),
        parameters.integer(INTER_OP_THREADS, 1, MAX_THREADS),
        parameters.bool(INFERENCE_MODE).orElse(true),
        parameters.bool(GRAPH_EXECUTOR_OPTIMIZATION).orElse(true));
  }
}
