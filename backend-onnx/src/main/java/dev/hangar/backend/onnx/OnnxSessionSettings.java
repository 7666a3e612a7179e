package dev.hangar.backend.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.hangar.spi.ModelParameters;
import java.util.Optional;
import java.util.Set;

/**
 * The ONNX Runtime session settings a model's {@code config.yaml} may give under {@code
 * parameters:}, parsed and validated.
 *
 * @param optimizationLevel graph optimization level: disable, basic, extended or all (default)
 * @param intraOpThreads threads used inside one operator; empty for ONNX Runtime's default
 * @param interOpThreads threads used across operators in parallel mode; empty for the default
 * @param memoryArena whether the CPU memory arena is on (default true)
 * @param parallelExecution whether operators may run in parallel (default false: sequential)
 * @param allowSpinning whether idle intra-op threads spin (default false, unlike ONNX Runtime's own
 *     default: in a server the spinning threads hold cores that HTTP and other models need)
 */
public record OnnxSessionSettings(
    String optimizationLevel,
    Optional<Integer> intraOpThreads,
    Optional<Integer> interOpThreads,
    boolean memoryArena,
    boolean parallelExecution,
    boolean allowSpinning) {

  static final String OPTIMIZATION_LEVEL = "graph_optimization_level";
  static final String INTRA_OP_THREADS = "intra_op_threads";
  static final String INTER_OP_THREADS = "inter_op_threads";
  static final String MEMORY_ARENA = "memory_arena";
  static final String EXECUTION_MODE = "execution_mode";
  static final String ALLOW_SPINNING = "allow_spinning";

  static final Set<String> PARAMETER_NAMES =
      Set.of(
          OPTIMIZATION_LEVEL,
          INTRA_OP_THREADS,
          INTER_OP_THREADS,
          MEMORY_ARENA,
          EXECUTION_MODE,
          ALLOW_SPINNING);

  private static final Set<String> LEVELS = Set.of("disable", "basic", "extended", "all");

  /**
   * Reads the settings from a model's parameters.
   *
   * @throws dev.hangar.spi.ModelLoadException naming a setting whose value is invalid
   */
  public static OnnxSessionSettings from(ModelParameters parameters) {
    return new OnnxSessionSettings(
        parameters.choice(OPTIMIZATION_LEVEL, LEVELS).orElse("all"),
        parameters.integer(INTRA_OP_THREADS, 0, 1024),
        parameters.integer(INTER_OP_THREADS, 0, 1024),
        parameters.bool(MEMORY_ARENA).orElse(true),
        parameters
            .choice(EXECUTION_MODE, Set.of("sequential", "parallel"))
            .map("parallel"::equals)
            .orElse(false),
        parameters.bool(ALLOW_SPINNING).orElse(false));
  }

  /** Returns new ONNX Runtime session options for these settings; the caller closes them. */
  SessionOptions toSessionOptions() throws OrtException {
    SessionOptions options = new SessionOptions();
    try {
      options.setOptimizationLevel(
          switch (optimizationLevel) {
            case "disable" -> OptLevel.NO_OPT;
            case "basic" -> OptLevel.BASIC_OPT;
            case "extended" -> OptLevel.EXTENDED_OPT;
            default -> OptLevel.ALL_OPT;
          });
      if (intraOpThreads.isPresent()) {
        options.setIntraOpNumThreads(intraOpThreads.get());
      }
      if (interOpThreads.isPresent()) {
        options.setInterOpNumThreads(interOpThreads.get());
      }
      options.setCPUArenaAllocator(memoryArena);
      options.setExecutionMode(
          parallelExecution ? ExecutionMode.PARALLEL : ExecutionMode.SEQUENTIAL);
      options.addConfigEntry("session.intra_op.allow_spinning", allowSpinning ? "1" : "0");
      options.addConfigEntry("session.inter_op.allow_spinning", allowSpinning ? "1" : "0");
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }
}
