package dev.hangar.backend.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.hangar.backend.onnx.optimizer.CpuFeatures;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.spi.Backend;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Loads {@code .onnx} files, or ONNX graphs compiled from other formats ({@link #loadGraph}), into
 * ONNX Runtime sessions.
 */
public final class OnnxBackend implements Backend {
  private final OnnxNativeLibrary nativeLibrary;
  private final Path cacheRoot;
  // guards the optimizer's creation
  private final Object lock = new Object();
  private OnnxOptimizer optimizer;

  OnnxBackend(OnnxNativeLibrary nativeLibrary, Path cacheRoot) {
    this.nativeLibrary = nativeLibrary;
    this.cacheRoot = cacheRoot;
  }

  /**
   * Offers a {@link ModelOptimizer} (an {@link OnnxOptimizer}): graph optimization and int8
   * quantization, cached under {@code <cache>/onnx/optimized/}.
   */
  @Override
  public <T> Optional<T> capability(Class<T> type) {
    if (type == ModelOptimizer.class || type == OnnxOptimizer.class) {
      return Optional.of(type.cast(optimizer()));
    }
    return Optional.empty();
  }

  /** Returns this backend's optimizer, created on first use. */
  public OnnxOptimizer optimizer() {
    synchronized (lock) {
      if (optimizer == null) {
        optimizer = new OnnxOptimizer(this, nativeLibrary, cacheRoot, CpuFeatures.detect());
      }
      return optimizer;
    }
  }

  /** Deletes the optimized models kept in a temporary directory (see {@link OnnxOptimizer}). */
  @Override
  public void close() {
    synchronized (lock) {
      if (optimizer != null) {
        optimizer.close();
      }
    }
  }

  @Override
  public String engineVersion() {
    return "onnxruntime " + OnnxNativeLibrary.runtimeVersion();
  }

  @Override
  public void prepare() {
    nativeLibrary.environment();
  }

  /** ONNX Runtime's libraries and environment: 12MB measured on linux-x64 with 1.24. */
  @Override
  public long engineMemoryEstimateBytes() {
    return 15L << 20;
  }

  @Override
  public LoadedModel load(ModelSource source) {
    Path file = source.file();
    long size = source.checkedFileSize();
    return open(
        source,
        (environment, options) -> createSession(environment, file, options),
        () -> parse(file),
        size);
  }

  /**
   * Loads a model from an ONNX graph held in memory, such as one compiled from another format.
   * {@code source} names the model and carries its configuration; its file is named in messages.
   *
   * @throws ModelLoadException when ONNX Runtime refuses the graph
   */
  public LoadedModel loadGraph(ModelSource source, ModelProto graph) {
    byte[] bytes = graph.toByteArray();
    return open(
        source,
        (environment, options) -> createSession(environment, bytes, source.file(), options),
        () -> graph,
        bytes.length);
  }

  /** ONNX Runtime's session option naming where a graph loaded from memory has its side files. */
  static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

  @FunctionalInterface
  private interface SessionFactory {
    OrtSession create(OrtEnvironment environment, SessionOptions options);
  }

  @FunctionalInterface
  private interface GraphReader {
    ModelProto read() throws IOException;
  }

  private LoadedModel open(
      ModelSource source, SessionFactory factory, GraphReader graph, long weightBytes) {
    OnnxSessionSettings settings = OnnxSessionSettings.from(source.parameters());
    OrtEnvironment environment = nativeLibrary.environment();
    try (SessionOptions options = settings.toSessionOptions()) {
      OrtSession session = factory.create(environment, options);
      Map<String, String> sessionInputNames = Map.of();
      try {
        if (hasUnsignedInput(session)) {
          // ONNX Runtime's Java API cannot create UINT16/32/64 tensors: feed them as signed ones
          UnsignedInputRewriter.Rewrite rewrite = UnsignedInputRewriter.rewrite(graph.read());
          // a graph loaded from memory finds its external data (weights in side files) relative
          // to the working directory unless told where the model lies
          options.addConfigEntry(
              EXTERNAL_DATA_FOLDER, source.file().toAbsolutePath().getParent().toString());
          OrtSession rewritten = environment.createSession(rewrite.model().toByteArray(), options);
          session.close();
          session = rewritten;
          sessionInputNames = rewrite.sessionInputNames();
        }
        ModelSignature signature = signatureOf(session, sessionInputNames, source);
        Set<String> divisors =
            IntegerDivisors.possible(signature)
                ? IntegerDivisors.of(graph.read(), signature)
                : Set.of();
        return new OnnxLoadedModel(
            source.name(),
            environment,
            session,
            signature,
            sessionInputNames,
            weightBytes,
            divisors);
      } catch (OrtException | IOException | RuntimeException e) {
        session.close();
        throw e;
      }
    } catch (OrtException e) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE,
          "ONNX Runtime failed to load " + source.file() + ": " + e.getMessage(),
          e);
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "cannot read " + source.file() + ": " + e.getMessage(), e);
    }
  }

  private static OrtSession createSession(
      OrtEnvironment environment, Path file, SessionOptions options) {
    try {
      return environment.createSession(file.toString(), options);
    } catch (OrtException e) {
      throw unloadable(file, e);
    }
  }

  private static OrtSession createSession(
      OrtEnvironment environment, byte[] graph, Path origin, SessionOptions options) {
    try {
      return environment.createSession(graph, options);
    } catch (OrtException e) {
      throw unloadable(origin, e);
    }
  }

  private static ModelLoadException unloadable(Path file, OrtException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    boolean badFile =
        switch (e.getCode()) {
          case ORT_INVALID_PROTOBUF,
              ORT_INVALID_GRAPH,
              ORT_NO_MODEL,
              ORT_NO_SUCHFILE,
              ORT_NOT_IMPLEMENTED,
              ORT_INVALID_ARGUMENT,
              ORT_FAIL ->
              true;
          default -> false;
        };
    return new ModelLoadException(
        badFile ? ErrorCategory.USER_ERROR : ErrorCategory.BACKEND_FAILURE,
        file
            + " is not a model ONNX Runtime "
            + OnnxNativeLibrary.runtimeVersion()
            + " can load (empty, truncated or corrupt file, or an unsupported operator): "
            + firstLine(message),
        e);
  }

  private static ModelProto parse(Path file) throws IOException {
    try {
      return ModelProto.parseFrom(Files.readAllBytes(file));
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, file + " is not a valid ONNX protobuf: " + e.getMessage(), e);
    }
  }

  private static boolean hasUnsignedInput(OrtSession session) throws OrtException {
    for (NodeInfo info : session.getInputInfo().values()) {
      if (info.getInfo() instanceof TensorInfo tensor) {
        DataType type = OnnxTypes.fromRuntime(tensor.onnxType).orElse(null);
        if (type != null && OnnxTypes.needsSignedCarrier(type)) {
          return true;
        }
      }
    }
    return false;
  }

  private static ModelSignature signatureOf(
      OrtSession session, Map<String, String> sessionInputNames, ModelSource source)
      throws OrtException {
    Map<String, String> userNames = invert(sessionInputNames);
    List<TensorSpec> inputs = new ArrayList<>();
    for (NodeInfo info : session.getInputInfo().values()) {
      String name = userNames.getOrDefault(info.getName(), info.getName());
      DataType type = specType(info, "input", source);
      // a rewritten input reports its signed carrier type; the user sees the unsigned type
      if (sessionInputNames.containsKey(name)) {
        type = unsignedOf(type);
      }
      inputs.add(new TensorSpec(name, type, ((TensorInfo) info.getInfo()).getShape()));
    }
    List<TensorSpec> outputs = new ArrayList<>();
    for (NodeInfo info : session.getOutputInfo().values()) {
      outputs.add(
          new TensorSpec(
              info.getName(),
              specType(info, "output", source),
              ((TensorInfo) info.getInfo()).getShape()));
    }
    ModelSignature fromFile = ModelSignature.inferBatching(inputs, outputs);
    return source
        .declaredSignature()
        .map(declared -> reconcile(declared, fromFile, source))
        .orElse(fromFile);
  }

  private static DataType unsignedOf(DataType signed) {
    return switch (signed) {
      case INT16 -> DataType.UINT16;
      case INT32 -> DataType.UINT32;
      case INT64 -> DataType.UINT64;
      default -> signed;
    };
  }

  private static DataType specType(NodeInfo info, String kind, ModelSource source) {
    ValueInfo value = info.getInfo();
    if (!(value instanceof TensorInfo tensor)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "model "
              + source.label()
              + " has "
              + kind
              + " '"
              + info.getName()
              + "' of kind "
              + value
              + ", but the v2 protocol carries tensors only (a scikit-learn ZipMap output, say:"
              + " export the model without it)");
    }
    return OnnxTypes.fromRuntime(tensor.onnxType)
        .orElseThrow(
            () ->
                new ModelLoadException(
                    ErrorCategory.USER_ERROR,
                    "model "
                        + source.label()
                        + " has "
                        + kind
                        + " '"
                        + info.getName()
                        + "' of element type "
                        + tensor.onnxType
                        + ", which has no v2 datatype"));
  }

  /**
   * A signature declared in config.yaml must name the model's own inputs and outputs with their
   * types; its shapes may be narrower than the file's, and it decides batching.
   */
  private static ModelSignature reconcile(
      ModelSignature declared, ModelSignature fromFile, ModelSource source) {
    checkSameTensors(declared.inputs(), fromFile.inputs(), "input", source);
    checkSameTensors(declared.outputs(), fromFile.outputs(), "output", source);
    return declared;
  }

  private static void checkSameTensors(
      List<TensorSpec> declared, List<TensorSpec> actual, String kind, ModelSource source) {
    List<String> actualNames = actual.stream().map(TensorSpec::name).toList();
    List<String> declaredNames = declared.stream().map(TensorSpec::name).toList();
    if (!actualNames.stream().sorted().toList().equals(declaredNames.stream().sorted().toList())) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "the config of model '"
              + source.name()
              + "' declares "
              + kind
              + "s "
              + declaredNames
              + " but "
              + source.file()
              + " has "
              + actualNames);
    }
    for (TensorSpec spec : declared) {
      TensorSpec real =
          actual.stream().filter(a -> a.name().equals(spec.name())).findFirst().orElseThrow();
      if (real.dataType() != spec.dataType() || !compatible(spec.shape(), real.shape())) {
        throw new ModelLoadException(
            ErrorCategory.USER_ERROR,
            "the config of model '"
                + source.name()
                + "' declares "
                + kind
                + " "
                + spec
                + " but "
                + source.file()
                + " has "
                + real);
      }
    }
  }

  private static boolean compatible(long[] declared, long[] actual) {
    if (actual.length == 0) {
      // a scalar, or a tensor the file gives no shape (ONNX Runtime reports both so): the declared
      // shape stands, and one the model cannot take fails at warmup
      return true;
    }
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

  private static Map<String, String> invert(Map<String, String> map) {
    Map<String, String> inverse = new java.util.HashMap<>();
    map.forEach((key, value) -> inverse.put(value, key));
    return inverse;
  }

  private static String firstLine(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
