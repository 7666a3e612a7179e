package dev.hangar.backend.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.hangar.spi.BackendException;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelClosedException;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One TorchScript module serving one model version.
 *
 * <p>Each {@link #infer} call works in its own DJL sub-manager, which frees every tensor of the
 * call when it ends; the module itself is shared by all calls, as libtorch allows.
 */
final class TorchScriptLoadedModel implements LoadedModel {
  private final String name;
  private final ModelSignature signature;
  private final TorchScriptSettings settings;
  private final int intraOpThreads;
  private final NDManager manager;
  private final PtSymbolBlock module;
  private final DtypeBridge bridge;
  private final long memoryEstimateBytes;
  private final List<String> outputNames;
  private volatile boolean closed;

  TorchScriptLoadedModel(
      String name,
      ModelSignature signature,
      TorchScriptSettings settings,
      int intraOpThreads,
      NDManager manager,
      PtSymbolBlock module,
      DtypeBridge bridge,
      long memoryEstimateBytes) {
    this.name = name;
    this.signature = signature;
    this.settings = settings;
    this.intraOpThreads = intraOpThreads;
    this.manager = manager;
    this.module = module;
    this.bridge = bridge;
    this.memoryEstimateBytes = memoryEstimateBytes;
    this.outputNames = signature.outputs().stream().map(TensorSpec::name).toList();
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public List<Tensor> infer(List<Tensor> inputs) {
    if (closed) {
      throw new ModelClosedException(name);
    }
    signature.validateInputs(inputs);
    return run(inForwardOrder(inputs));
  }

  /** Returns the inputs in the signature's order, which is the order forward() takes them in. */
  private Tensor[] inForwardOrder(List<Tensor> inputs) {
    List<TensorSpec> specs = signature.inputs();
    Tensor[] ordered = new Tensor[specs.size()];
    for (Tensor input : inputs) {
      for (int i = 0; i < ordered.length; i++) {
        if (specs.get(i).name().equals(input.name())) {
          ordered[i] = input;
          break;
        }
      }
    }
    return ordered;
  }

  /**
   * Runs the model once on zeros shaped like the declared inputs (free dimensions 1) and checks the
   * outputs against the declared ones, so that a config that does not fit the model fails at load.
   *
   * @throws ModelLoadException ({@link ErrorCategory#USER_ERROR}) naming the inputs, outputs and
   *     shapes involved
   */
  void probe(Path file) {
    Tensor[] inputs = new Tensor[signature.inputs().size()];
    for (int i = 0; i < inputs.length; i++) {
      TensorSpec spec = signature.inputs().get(i);
      long[] shape = spec.shape();
      long count = 1;
      for (int d = 0; d < shape.length; d++) {
        shape[d] = shape[d] < 0 ? 1 : shape[d];
        count *= shape[d];
      }
      inputs[i] =
          Tensor.of(
              spec.name(),
              spec.dataType(),
              shape,
              ByteBuffer.allocate(Math.toIntExact(count * spec.dataType().byteSize())));
    }
    try {
      run(inputs);
    } catch (HangarException e) {
      // an engine error is named by libtorch's own line; a mismatch by the backend's message
      String detail =
          e.getCause() != null && !(e.getCause() instanceof HangarException)
              ? TorchScriptErrors.summary(e.getCause())
              : e.getMessage();
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "the signature declared in the config of model '"
              + name
              + "' does not fit "
              + file
              + ": a probe inference on zeros with inputs "
              + describe(inputs)
              + " (free dimensions set to 1) failed: "
              + detail
              + ". Declare the inputs in the order, datatypes and shapes forward() takes, and the"
              + " outputs it returns, in config.yaml; if they are declared so, the model cannot"
              + " run on zeros with free dimensions of 1, which this probe needs",
          e);
    }
  }

  private List<Tensor> run(Tensor[] inputs) {
    long batch = signature.batched() && inputs.length > 0 ? inputs[0].dimension(0) : -1;
    try (PtNDManager request = (PtNDManager) manager.newSubManager()) {
      if (settings.inferenceMode()) {
        return runWithoutAutograd(inputs, request, batch);
      }
      return runWithAutograd(inputs, request, batch);
    } catch (HangarException e) {
      throw e;
    } catch (RuntimeException e) {
      String summary = TorchScriptErrors.summary(e);
      if (TorchScriptErrors.isInputFault(summary)) {
        throw new InvalidInputException(
            "model '" + name + "' rejected the inputs " + describe(inputs) + ": " + summary, e);
      }
      throw new BackendException(
          "libtorch failed running model '"
              + name
              + "' on inputs "
              + describe(inputs)
              + ": "
              + summary,
          e);
    }
  }

  /** DJL's inference call: forward under torch::NoGradGuard, returning the raw IValue. */
  private List<Tensor> runWithoutAutograd(Tensor[] inputs, PtNDManager request, long batch) {
    IValue[] arguments = new IValue[inputs.length];
    try {
      for (int i = 0; i < inputs.length; i++) {
        arguments[i] = IValue.from(toLibTorch(inputs[i], request));
      }
      IValue result;
      beforeForward();
      try {
        result = module.forward(arguments);
      } finally {
        afterForward();
      }
      try {
        return fromLibTorch(result, request, batch);
      } finally {
        result.close();
      }
    } finally {
      for (IValue argument : arguments) {
        if (argument != null) {
          argument.close();
        }
      }
    }
  }

  /**
   * DJL's training-style call, with the calling thread's grad mode switched on for the call: DJL
   * flattens the result into an NDList, so nested tuples arrive flattened.
   */
  private List<Tensor> runWithAutograd(Tensor[] inputs, PtNDManager request, long batch) {
    NDList arguments = new NDList(inputs.length);
    for (Tensor input : inputs) {
      arguments.add(toLibTorch(input, request));
    }
    NDList result;
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
    beforeForward();
    try {
      result = IValueUtils.forward(module, arguments, true);
    } finally {
      afterForward();
      JniUtils.setGradMode(gradMode);
    }
    return fromLibTorch(result, batch);
  }

  private void beforeForward() {
    if (intraOpThreads > 0 && JniUtils.getNumThreads() != intraOpThreads) {
      // libtorch applies its thread count to a thread when the thread first runs an operator;
      // threads that ran one before the count was set keep the old one until set here
      JniUtils.setNumThreads(intraOpThreads);
    }
    if (!settings.graphExecutorOptimization()) {
      // a thread-local switch in libtorch: set for this call only
      JniUtils.setGraphExecutorOptimize(false);
    }
  }

  private void afterForward() {
    if (!settings.graphExecutorOptimization()) {
      JniUtils.setGraphExecutorOptimize(true);
    }
  }

  private PtNDArray toLibTorch(Tensor tensor, PtNDManager request) {
    DataType type = tensor.dataType();
    Shape shape = new Shape(tensor.shape());
    ByteBuffer data = tensor.data();
    if (TorchTypes.needsBridge(type)) {
      int count = Math.toIntExact(tensor.elementCount());
      ByteBuffer widened = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
      for (int i = 0; i < count; i++) {
        short value = data.getShort();
        widened.putInt(type == DataType.BF16 ? value & 0xFFFF : value);
      }
      widened.flip();
      PtNDArray carrier =
          JniUtils.createNdFromByteBuffer(
              request,
              widened,
              shape,
              ai.djl.ndarray.types.DataType.INT32,
              SparseFormat.DENSE,
              request.getDevice());
      return bridge.fromInt32(carrier, type, request);
    }
    // libtorch reads the data in place (from_blob): it must be direct memory, in native order
    ByteBuffer direct = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
    direct.put(data).flip();
    return JniUtils.createNdFromByteBuffer(
        request,
        direct,
        shape,
        TorchTypes.carrierOf(type),
        SparseFormat.DENSE,
        request.getDevice());
  }

  /** Maps forward's return value to the declared outputs: a tensor, tuple, list or str dict. */
  private List<Tensor> fromLibTorch(IValue result, PtNDManager request, long batch) {
    List<TensorSpec> specs = signature.outputs();
    if (result.isTensor()) {
      if (specs.size() != 1) {
        throw mismatch(
            "returned one tensor, but the config declares "
                + specs.size()
                + " outputs "
                + outputNames);
      }
      return List.of(toHangar(specs.get(0), result.toTensor(request), batch));
    }
    if (result.isTuple() || result.isList()) {
      String kind = result.isTuple() ? "tuple" : "list";
      IValue[] elements = result.isTuple() ? result.toIValueTuple() : result.toIValueArray();
      try {
        if (elements.length != specs.size()) {
          throw mismatch(
              "returned "
                  + result.getType()
                  + ": a "
                  + kind
                  + " of "
                  + elements.length
                  + " values, but the config declares "
                  + specs.size()
                  + " outputs "
                  + outputNames);
        }
        List<Tensor> outputs = new ArrayList<>(elements.length);
        for (int i = 0; i < elements.length; i++) {
          if (!elements[i].isTensor()) {
            throw mismatch(
                "returned "
                    + result.getType()
                    + ": a "
                    + kind
                    + " whose element "
                    + i
                    + " is not a tensor; outputs map to a flat tuple or list of tensors");
          }
          outputs.add(toHangar(specs.get(i), elements[i].toTensor(request), batch));
        }
        return outputs;
      } finally {
        for (IValue element : elements) {
          element.close();
        }
      }
    }
    if (result.isMap()) {
      String type = result.getType();
      if (!type.startsWith("Dict(str,")) {
        throw mismatch("returned a " + type + "; a dict output needs str keys (Dict[str, Tensor])");
      }
      Map<String, IValue> values = result.toIValueMap();
      try {
        if (!values.keySet().equals(new TreeSet<>(outputNames))) {
          throw mismatch(
              "returned a dict with keys "
                  + new TreeSet<>(values.keySet())
                  + ", but the config declares outputs "
                  + outputNames);
        }
        List<Tensor> outputs = new ArrayList<>(specs.size());
        for (TensorSpec spec : specs) {
          IValue value = values.get(spec.name());
          if (!value.isTensor()) {
            throw mismatch(
                "returned a dict ("
                    + type
                    + ") whose value '"
                    + spec.name()
                    + "' is not a tensor; dict outputs map to Dict[str, Tensor]");
          }
          outputs.add(toHangar(spec, value.toTensor(request), batch));
        }
        return outputs;
      } finally {
        for (IValue value : values.values()) {
          value.close();
        }
      }
    }
    throw mismatch(
        "returned a value of type "
            + result.getType()
            + ", but the TorchScript backend maps only a Tensor, a tuple or list of Tensors, or a"
            + " Dict[str, Tensor] to the declared outputs "
            + outputNames);
  }

  /** Maps DJL's flattened result of a call with autograd on: by name for a dict, else in order. */
  private List<Tensor> fromLibTorch(NDList result, long batch) {
    List<TensorSpec> specs = signature.outputs();
    if (result.size() != specs.size()) {
      throw mismatch(
          "returned "
              + result.size()
              + " tensors, but the config declares "
              + specs.size()
              + " outputs "
              + outputNames);
    }
    boolean named = result.stream().allMatch(array -> array.getName() != null);
    List<Tensor> outputs = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec spec = specs.get(i);
      NDArray array = named ? result.get(spec.name()) : result.get(i);
      if (array == null) {
        throw mismatch(
            "returned a dict with keys "
                + new TreeSet<>(result.stream().map(NDArray::getName).toList())
                + ", but the config declares outputs "
                + outputNames);
      }
      outputs.add(toHangar(spec, (PtNDArray) array, batch));
    }
    return outputs;
  }

  private Tensor toHangar(TensorSpec spec, PtNDArray array, long batch) {
    long[] shape = array.getShape().getShape();
    DataType type = dataTypeOf(array, shape, spec);
    if (!spec.accepts(shape)) {
      throw mismatch(
          "returned output '"
              + spec.name()
              + "' of shape "
              + Arrays.toString(shape)
              + ", but the config declares "
              + spec.shapeString()
              + (shape.length != spec.rank()
                  ? " (rank " + shape.length + " instead of " + spec.rank() + ")"
                  : " (-1 = any size)"));
    }
    if (batch >= 0 && shape[0] != batch) {
      throw mismatch(
          "returned "
              + shape[0]
              + " rows of output '"
              + spec.name()
              + "' for a batch of "
              + batch
              + "; a batched model returns one row per input row");
    }
    ByteBuffer bytes = array.toByteBuffer(false);
    return Tensor.of(spec.name(), type, shape, bytes.order(ByteOrder.LITTLE_ENDIAN));
  }

  private DataType dataTypeOf(PtNDArray array, long[] shape, TensorSpec spec) {
    ai.djl.ndarray.types.DataType djlType = array.getDataType();
    Optional<DataType> known = TorchTypes.fromDjl(djlType);
    String actual;
    if (known.isPresent()) {
      if (known.get() == spec.dataType()) {
        return known.get();
      }
      actual = known.get().name();
    } else {
      long code = bridge.scalarTypeOf(array);
      Optional<DataType> named = TorchTypes.fromScalarType(code);
      if (named.isPresent() && named.get() == spec.dataType()) {
        return named.get();
      }
      actual = TorchTypes.scalarTypeName(code);
    }
    throw mismatch(
        "returned output '"
            + spec.name()
            + "' of datatype "
            + actual
            + Arrays.toString(shape)
            + ", but the config declares "
            + spec.dataType()
            + spec.shapeString());
  }

  private BackendException mismatch(String detail) {
    return new BackendException("model '" + name + "' " + detail);
  }

  private static String describe(Tensor[] inputs) {
    List<String> parts = new ArrayList<>(inputs.length);
    for (Tensor input : inputs) {
      parts.add(input.name() + " " + input.dataType() + Arrays.toString(input.shape()));
    }
    return parts.toString();
  }

  @Override
  public long memoryEstimateBytes() {
    return memoryEstimateBytes;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    module.close();
    manager.close();
  }
}
