package dev.hangar.backend.torchscript;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.Backend;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Loads TorchScript ({@code .pt}) files into libtorch through DJL's PyTorch engine.
 *
 * <p>A TorchScript file carries no description of its inputs and outputs, so every model must
 * declare its signature in {@code config.yaml}; the backend checks it against the model with one
 * probe inference on zeros when loading.
 *
 * <p>Thread-safe: models may be loaded concurrently. The first load unpacks and loads libtorch.
 */
public final class TorchScriptBackend implements Backend {
  private static final System.Logger LOG = System.getLogger(TorchScriptBackend.class.getName());

  /** What libtorch keeps per module beyond its tensors (graph, code, executor plans), estimated. */
  static final long MODULE_OVERHEAD_BYTES = 256 * 1024;

  private final LibTorchRuntime runtime;
  // guards the bridge's creation and the process-wide thread settings below
  private final Object lock = new Object();
  private volatile DtypeBridge bridge;
  private Integer intraOpThreads;
  private Integer interOpThreads;

  TorchScriptBackend(LibTorchRuntime runtime) {
    this.runtime = runtime;
  }

  @Override
  public String engineVersion() {
    return runtime.engineVersion();
  }

  @Override
  public void prepare() {
    runtime.engine();
  }

  /** libtorch's libraries and allocator: about 103MB measured on linux-x64 with 2.7.1. */
  @Override
  public long engineMemoryEstimateBytes() {
    return 110L << 20;
  }

  @Override
  public LoadedModel load(ModelSource source) {
    return load(source, 0);
  }

  /**
   * Offers a {@link ModelOptimizer} ({@link TorchScriptOptimizer}): settings chosen by measurement,
   * since DJL can neither freeze nor quantize a loaded module.
   */
  @Override
  public <T> Optional<T> capability(Class<T> type) {
    if (type == ModelOptimizer.class) {
      return Optional.of(type.cast(new TorchScriptOptimizer(this)));
    }
    return Optional.empty();
  }

  /**
   * Loads a model whose calls run with {@code forcedIntraOpThreads} libtorch threads, whatever
   * count is in force for the process (0: the usual rule, see {@link #applyThreadSettings}). For
   * the optimizer, which measures thread counts one after the other in one process; each call of
   * such a model sets libtorch's count to its own.
   */
  LoadedModel load(ModelSource source, int forcedIntraOpThreads) {
    Path file = source.file();
    long fileSize = source.checkedFileSize();
    TorchScriptSettings settings = TorchScriptSettings.from(source.parameters());
    ModelSignature signature =
        source.declaredSignature().orElseThrow(() -> missingSignature(source));
    checkDataTypes(signature, source);
    checkInputOrder(signature, source);
    DtypeBridge dtypeBridge = bridge();
    int effectiveIntraOpThreads;
    if (forcedIntraOpThreads > 0) {
      JniUtils.setNumThreads(forcedIntraOpThreads);
      effectiveIntraOpThreads = forcedIntraOpThreads;
    } else {
      effectiveIntraOpThreads = applyThreadSettings(settings, source);
    }
    NDManager manager = runtime.engine().newBaseManager();
    try {
      PtSymbolBlock module = loadModule((PtNDManager) manager, source);
      // eval(): dropout off, batch norm on its running statistics
      JniUtils.enableInferenceMode(module);
      long memory = estimateMemory(module, (PtNDManager) manager, fileSize);
      TorchScriptLoadedModel model =
          new TorchScriptLoadedModel(
              source.name(),
              signature,
              settings,
              effectiveIntraOpThreads,
              manager,
              module,
              dtypeBridge,
              memory);
      try {
        model.probe(source.file());
      } catch (RuntimeException e) {
        model.close();
        throw e;
      }
      return model;
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  private static PtSymbolBlock loadModule(PtNDManager manager, ModelSource source) {
    Path file = source.file();
    try {
      return JniUtils.loadModule(
          manager, file.toAbsolutePath(), true, new String[0], new String[0], false);
    } catch (EngineException e) {
      String hint =
          switch (TorchScriptArchive.kindOf(file)) {
            case PICKLE_ARCHIVE ->
                " It looks like a file written by torch.save (a state_dict or a pickled module),"
                    + " which is not TorchScript: export it with"
                    + " torch.jit.script(model).save(path) or torch.jit.trace(model, example).save(path).";
            case OTHER -> " The file is empty, truncated, corrupt or not a TorchScript archive.";
            case TORCHSCRIPT ->
                " The archive looks like TorchScript; it may need a libtorch newer than "
                    + NativeArtifacts.PYTORCH_VERSION
                    + " or custom operators that are not loaded.";
          };
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "libtorch "
              + NativeArtifacts.PYTORCH_VERSION
              + " cannot load "
              + file
              + ": "
              + TorchScriptErrors.summary(e)
              + "."
              + hint,
          e);
    }
  }

  /**
   * The backend's own estimate: the bytes of the module's parameters or the file's size, whichever
   * is larger (TorchScript stores tensors uncompressed, so the file holds every parameter and
   * buffer), plus a fixed allowance for libtorch's graph and executor state.
   */
  private static long estimateMemory(PtSymbolBlock module, PtNDManager manager, long fileSize) {
    long parameterBytes = 0;
    NDList parameters = JniUtils.moduleGetParams(module, manager);
    try {
      for (NDArray parameter : parameters) {
        parameterBytes += parameter.size() * Math.max(0, parameter.getDataType().getNumOfBytes());
      }
    } finally {
      parameters.close();
    }
    return Math.max(parameterBytes, fileSize) + MODULE_OVERHEAD_BYTES;
  }

  private DtypeBridge bridge() {
    DtypeBridge current = bridge;
    if (current != null) {
      return current;
    }
    synchronized (lock) {
      if (bridge == null) {
        Engine engine = runtime.engine();
        bridge = DtypeBridge.load(engine);
      }
      return bridge;
    }
  }

  /**
   * Applies the thread counts to libtorch, where they are process-wide: the first model that sets
   * one decides it; a later model asking for another count is warned about and runs with the count
   * in force. Returns the intra-op count the model's calls keep their thread at, 0 for none.
   */
  private int applyThreadSettings(TorchScriptSettings settings, ModelSource source) {
    synchronized (lock) {
      if (settings.intraOpThreads().isPresent()) {
        int requested = settings.intraOpThreads().get();
        if (intraOpThreads == null) {
          JniUtils.setNumThreads(requested);
          intraOpThreads = requested;
          LOG.log(
              Level.INFO,
              "libtorch intra-op threads set to {0} by model {1}",
              requested,
              source.label());
        } else if (intraOpThreads != requested) {
          LOG.log(
              Level.WARNING,
              "model {0} asks for intra_op_threads {1}, but libtorch''s intra-op thread count is"
                  + " process-wide and already {2}; the model runs with {2}",
              source.label(),
              requested,
              intraOpThreads);
        }
      }
      if (settings.interOpThreads().isPresent()) {
        int requested = settings.interOpThreads().get();
        if (interOpThreads == null) {
          interOpThreads = setInterOpThreads(requested, source);
        } else if (interOpThreads != requested) {
          LOG.log(
              Level.WARNING,
              "model {0} asks for inter_op_threads {1}, but libtorch''s inter-op pool is"
                  + " process-wide and already has {2} threads",
              source.label(),
              requested,
              interOpThreads);
        }
      }
      return settings.intraOpThreads().isPresent() ? intraOpThreads : 0;
    }
  }

  private static int setInterOpThreads(int requested, ModelSource source) {
    try {
      JniUtils.setNumInteropThreads(requested);
      LOG.log(
          Level.INFO,
          "libtorch inter-op threads set to {0} by model {1}",
          requested,
          source.label());
      return requested;
    } catch (EngineException e) {
      // libtorch allows this once, before its inter-op pool has started
      int current = JniUtils.getNumInteropThreads();
      if (current != requested) {
        LOG.log(
            Level.WARNING,
            "model {0} asks for inter_op_threads {1}, but libtorch''s inter-op pool has already"
                + " started with {2} threads and cannot be resized",
            source.label(),
            requested,
            current);
      }
      return current;
    }
  }

  private static void checkDataTypes(ModelSignature signature, ModelSource source) {
    List<TensorSpec> all = new ArrayList<>(signature.inputs());
    all.addAll(signature.outputs());
    for (TensorSpec spec : all) {
      if (!TorchTypes.SUPPORTED.contains(spec.dataType())) {
        String kind = signature.inputs().contains(spec) ? "input" : "output";
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "the config of model "
                + source.label()
                + " declares "
                + kind
                + " '"
                + spec.name()
                + "' of datatype "
                + spec.dataType()
                + ", which the TorchScript backend does not support; it supports "
                + TorchTypes.supportedList()
                + (spec.dataType().isUnsignedInteger()
                    ? " (libtorch's unsigned types beyond UINT8 have almost no operators: use"
                        + " INT32 or INT64)"
                    : "")
                + (spec.dataType() == dev.hangar.spi.DataType.BYTES
                    ? " (TorchScript tensors hold numbers; tokenize text before the model)"
                    : ""));
      }
    }
  }

  /**
   * Refuses inputs declared under forward()'s own argument names but in another order: inputs go to
   * forward() by position, so the swap would run silently and answer wrongly.
   */
  private static void checkInputOrder(ModelSignature signature, ModelSource source) {
    List<String> declared = signature.inputs().stream().map(TensorSpec::name).toList();
    Optional<List<String>> forward = TorchScriptArchive.forwardArgumentNames(source.file());
    if (forward.isPresent()
        && !forward.get().equals(declared)
        && Set.copyOf(forward.get()).equals(Set.copyOf(declared))
        && forward.get().size() == declared.size()) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "model "
              + source.label()
              + " declares its inputs in the order "
              + declared
              + ", but forward() takes them as "
              + forward.get()
              + ": inputs reach forward() by position, so declare them in forward()'s order in"
              + " config.yaml"
              + configLocation(source.file()));
    }
  }

  private static ModelLoadException missingSignature(ModelSource source) {
    List<String> names =
        TorchScriptArchive.forwardArgumentNames(source.file())
            .filter(n -> !n.isEmpty())
            .orElse(List.of("input"));
    StringBuilder example = new StringBuilder();
    example.append("backend: torchscript\n");
    example.append("max_batch_size: 64\n");
    example.append("inputs:            # in the order forward() takes them\n");
    for (String name : names) {
      example.append("  - name: ").append(name).append('\n');
      example.append("    datatype: FP32\n");
      example.append("    shape: [-1, 10]  # -1: any size; dimension 0 is the batch\n");
    }
    example.append("outputs:           # a tuple or list by position, a dict by key\n");
    example.append("  - name: output\n");
    example.append("    datatype: FP32\n");
    example.append("    shape: [-1, 1]\n");
    return new ModelLoadException(
        ErrorCategory.USER_ERROR,
        "model "
            + source.label()
            + " has no declared signature: a TorchScript file does not record its inputs and"
            + " outputs, so declare them in the model's config.yaml"
            + configLocation(source.file())
            + ", for example:\n"
            + example);
  }

  /**
   * Returns where the model's config.yaml goes: beside its version folder, or, for a file outside a
   * model directory (which has no config.yaml), where to move it first.
   */
  private static String configLocation(Path file) {
    Path versionDirectory = file.toAbsolutePath().getParent();
    if (versionDirectory == null) {
      return "";
    }
    if (versionDirectory.getParent() == null
        || !versionDirectory.getFileName().toString().matches("[0-9]+")) {
      String name = file.getFileName().toString();
      int dot = name.lastIndexOf('.');
      Path model = versionDirectory.resolve(dot > 0 ? name.substring(0, dot) : name);
      return " (a file outside a model directory has none: move it to "
          + model.resolve("1").resolve("model.pt")
          + " and write "
          + model.resolve("config.yaml")
          + ")";
    }
    return " (" + versionDirectory.getParent().resolve("config.yaml") + ")";
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (bridge != null) {
        bridge.close();
        bridge = null;
      }
    }
  }
}
