package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.backend.onnx.OnnxBackend;
import dev.hangar.backend.onnx.OnnxSessionSettings;
import dev.hangar.spi.Backend;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.FormatConverter;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Serves CoreML {@code .mlmodel} files: reads the specification, compiles it into an ONNX graph and
 * loads that graph into ONNX Runtime through the ONNX backend. Thread-safe: loads share nothing.
 */
public final class CoreMlBackend implements Backend {
  /** The tensor types CoreML features map onto, for messages. */
  static final String EXPRESSIBLE_TYPES =
      "FP32, FP64, INT32, FP16, INT8 (MultiArray), FP64 (Double), INT64 (Int64), BYTES (String)"
          + " and UINT8 (Image)";

  private final OnnxBackend onnx;

  CoreMlBackend(OnnxBackend onnx) {
    this.onnx = onnx;
  }

  @Override
  public String engineVersion() {
    return "hangar CoreML-to-ONNX compiler on " + onnx.engineVersion();
  }

  @Override
  public void prepare() {
    onnx.prepare();
  }

  @Override
  public long engineMemoryEstimateBytes() {
    return onnx.engineMemoryEstimateBytes();
  }

  /**
   * Loads a {@code .mlmodel} file, or the optimized {@code .onnx} file its optimizer prepared from
   * one (see {@link CoreMlOptimizer}): the original is compiled again for its signature and input
   * checks, and the optimized graph is loaded in its place.
   */
  @Override
  public LoadedModel load(ModelSource source) {
    if (source.file().getFileName().toString().endsWith(".onnx")) {
      return loadOptimized(source);
    }
    // a wrong parameter is the user's mistake, not a graph ONNX Runtime refuses (below)
    OnnxSessionSettings.from(source.parameters());
    CoreMlCompiler.Compiled compiled = compile(source);
    ModelSource compiledSource = compiledSource(source, compiled);
    LoadedModel model;
    try {
      model = onnx.loadGraph(compiledSource, compiled.graph());
    } catch (ModelLoadException e) {
      if (e.category() != ErrorCategory.USER_ERROR) {
        throw e;
      }
      // the specification passed the compiler's checks, so a graph ONNX Runtime refuses is ours
      throw new ModelLoadException(
          ErrorCategory.INTERNAL,
          "ONNX Runtime refused the graph Hangar compiled from CoreML model "
              + source.label()
              + " (a bug in Hangar's CoreML compiler): "
              + e.getMessage(),
          e);
    }
    return compiled.checks().isEmpty() ? model : new CoreMlLoadedModel(model, compiled.checks());
  }

  private LoadedModel loadOptimized(ModelSource source) {
    Path original =
        onnx.optimizer()
            .originOf(source.file())
            .orElseThrow(
                () ->
                    new ModelLoadException(
                        ErrorCategory.USER_ERROR,
                        source.file()
                            + " is not a CoreML model: the CoreML backend reads .mlmodel files,"
                            + " and .onnx files only from its optimizer's cache"));
    ModelSource mlmodel =
        new ModelSource(
            source.name(),
            source.version(),
            original,
            source.declaredSignature(),
            source.parameters());
    CoreMlCompiler.Compiled compiled = compile(mlmodel);
    ModelSource optimized =
        new ModelSource(
            source.name(),
            source.version(),
            source.file(),
            compiledSource(mlmodel, compiled).declaredSignature(),
            source.parameters());
    LoadedModel model = onnx.load(optimized);
    return compiled.checks().isEmpty() ? model : new CoreMlLoadedModel(model, compiled.checks());
  }

  /**
   * Returns {@code source} with the signature its compiled graph is served under: the declared one,
   * checked against the model, or the compiled one.
   */
  ModelSource compiledSource(ModelSource source, CoreMlCompiler.Compiled compiled) {
    ModelSignature signature =
        source
            .declaredSignature()
            .map(declared -> reconcile(declared, compiled.signature(), source))
            .orElse(compiled.signature());
    return new ModelSource(
        source.name(),
        source.version(),
        source.file(),
        Optional.of(signature),
        source.parameters());
  }

  /**
   * Offers a {@link FormatConverter} (to ONNX) and a {@link ModelOptimizer} ({@link
   * CoreMlOptimizer}).
   */
  @Override
  public <T> Optional<T> capability(Class<T> type) {
    if (type == FormatConverter.class) {
      return Optional.of(type.cast(new CoreMlConverter(this)));
    }
    if (type == ModelOptimizer.class) {
      return Optional.of(type.cast(new CoreMlOptimizer(this, onnx)));
    }
    return Optional.empty();
  }

  @Override
  public void close() {
    onnx.close();
  }

  /** Returns the ONNX backend the compiled graphs run on. */
  OnnxBackend onnx() {
    return onnx;
  }

  /**
   * Reads and compiles the model of {@code source}.
   *
   * @throws ModelLoadException (USER_ERROR) naming the file and what is not supported
   */
  CoreMlCompiler.Compiled compile(ModelSource source) {
    Model model = CoreMlModelReader.read(source.file());
    try {
      return CoreMlCompiler.compile(model, source.name());
    } catch (UnsupportedModelException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "cannot serve CoreML model " + source.label() + ": " + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      throw new ModelLoadException(
          ErrorCategory.INTERNAL,
          "Hangar's CoreML compiler failed on " + source.label() + " (a bug): " + e,
          e);
    }
  }

  /**
   * A signature declared in the model's config must name the CoreML model's inputs and outputs with
   * the types they map to; its shapes may be narrower, and it decides batching.
   */
  private static ModelSignature reconcile(
      ModelSignature declared, ModelSignature compiled, ModelSource source) {
    check(declared.inputs(), compiled.inputs(), "input", source);
    check(declared.outputs(), compiled.outputs(), "output", source);
    return declared;
  }

  private static void check(
      List<TensorSpec> declared, List<TensorSpec> actual, String kind, ModelSource source) {
    List<String> declaredNames = declared.stream().map(TensorSpec::name).sorted().toList();
    List<String> actualNames = actual.stream().map(TensorSpec::name).sorted().toList();
    if (!declaredNames.equals(actualNames)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "the config of model '"
              + source.name()
              + "' declares "
              + kind
              + "s "
              + declaredNames
              + " but the CoreML model "
              + source.file()
              + " has "
              + actualNames);
    }
    for (TensorSpec spec : declared) {
      TensorSpec real =
          actual.stream().filter(a -> a.name().equals(spec.name())).findFirst().orElseThrow();
      if (real.dataType() != spec.dataType()) {
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "the config of model '"
                + source.name()
                + "' declares "
                + kind
                + " "
                + spec
                + " but the CoreML model "
                + source.file()
                + " has "
                + real
                + "; a CoreML model cannot take or give "
                + spec.dataType()
                + " tensors"
                + (expressible(spec.dataType()) ? " there" : " at all")
                + " (CoreML features map to "
                + EXPRESSIBLE_TYPES
                + ")");
      }
      if (!narrower(spec.shape(), real.shape())) {
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "the config of model '"
                + source.name()
                + "' declares "
                + kind
                + " "
                + spec
                + " but the CoreML model "
                + source.file()
                + " has "
                + real);
      }
    }
  }

  private static boolean expressible(DataType type) {
    return switch (type) {
      case FP32, FP64, INT32, FP16, INT8, INT64, BYTES, UINT8 -> true;
      default -> false;
    };
  }

  private static boolean narrower(long[] declared, long[] actual) {
    if (declared.length != actual.length) {
      return false;
    }
    for (int i = 0; i < declared.length; i++) {
      if (actual[i] >= 0 && declared[i] != actual[i]) {
        return false;
      }
    }
    return true;
  }
}
