package dev.hangar.backend.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtException.OrtErrorCode;
import ai.onnxruntime.OrtSession;
import dev.hangar.spi.BackendException;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelClosedException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** One ONNX Runtime session serving one model version. */
final class OnnxLoadedModel implements LoadedModel {
  private final String name;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final ModelSignature signature;
  private final Map<String, String> sessionInputNames;
  private final long fileSize;
  private final Set<String> integerDivisors;
  // the largest input of warmup's runs: ONNX Runtime's arena keeps what a far larger run took,
  // counted against no budget, unless asked to give it back; 0 until warmed up
  private final AtomicLong largestInputBytes = new AtomicLong();
  private volatile long usualInputBytes;
  private final AtomicInteger shrunkRuns = new AtomicInteger();
  private volatile boolean closed;

  OnnxLoadedModel(
      String name,
      OrtEnvironment environment,
      OrtSession session,
      ModelSignature signature,
      Map<String, String> sessionInputNames,
      long fileSize,
      Set<String> integerDivisors) {
    this.name = name;
    this.environment = environment;
    this.session = session;
    this.signature = signature;
    this.sessionInputNames = Map.copyOf(sessionInputNames);
    this.fileSize = fileSize;
    this.integerDivisors = Set.copyOf(integerDivisors);
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  /** How many times warmup's largest input a run takes before the arena gives back after it. */
  static final int SHRINK_ABOVE_USUAL = 2;

  @Override
  public void warmedUp() {
    usualInputBytes = largestInputBytes.get();
  }

  /** Runs whose arena growth was given back: a count for tests. */
  int shrunkRuns() {
    return shrunkRuns.get();
  }

  private OrtSession.Result run(Map<String, OnnxTensor> feeds, long inputBytes)
      throws OrtException {
    long usual = usualInputBytes;
    if (usual == 0) {
      largestInputBytes.accumulateAndGet(inputBytes, Math::max);
      return session.run(feeds);
    }
    if (inputBytes <= SHRINK_ABOVE_USUAL * usual) {
      return session.run(feeds);
    }
    try (OrtSession.RunOptions shrinking = new OrtSession.RunOptions()) {
      // 500000 rows through a small MLP three times: 274MB resident with this, 655MB without
      shrinking.addRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
      shrunkRuns.incrementAndGet();
      return session.run(feeds, shrinking);
    }
  }

  private static long inputBytes(List<Tensor> inputs) {
    long bytes = 0;
    for (Tensor input : inputs) {
      bytes += input.data().remaining();
    }
    return bytes;
  }

  @Override
  public List<Tensor> infer(List<Tensor> inputs) {
    if (closed) {
      throw new ModelClosedException(name);
    }
    signature.validateInputs(inputs);
    for (Tensor input : inputs) {
      if (integerDivisors.contains(input.name())) {
        IntegerDivisors.check(input); // a zero divisor would kill the process, not fail the call
      }
    }
    Map<String, OnnxTensor> feeds = new HashMap<>(inputs.size() * 2);
    try {
      for (Tensor input : inputs) {
        feeds.put(sessionInputNames.getOrDefault(input.name(), input.name()), toOnnx(input));
      }
      try (OrtSession.Result result = run(feeds, inputBytes(inputs))) {
        List<Tensor> outputs = new ArrayList<>(signature.outputs().size());
        for (TensorSpec spec : signature.outputs()) {
          OnnxValue value =
              result
                  .get(spec.name())
                  .orElseThrow(
                      () ->
                          new BackendException(
                              "ONNX Runtime returned no output '" + spec.name() + "'"));
          outputs.add(fromOnnx(spec, (OnnxTensor) value));
        }
        return outputs;
      }
    } catch (OrtException e) {
      if (e.getCode() == OrtErrorCode.ORT_INVALID_ARGUMENT) {
        throw new InvalidInputException(
            "model '" + name + "' rejected the inputs: " + firstLine(e.getMessage()), e);
      }
      throw new BackendException(
          "ONNX Runtime failed running model '" + name + "': " + firstLine(e.getMessage()), e);
    } finally {
      for (OnnxTensor tensor : feeds.values()) {
        tensor.close();
      }
    }
  }

  private OnnxTensor toOnnx(Tensor input) throws OrtException {
    long[] shape = input.shape();
    if (input.dataType() == DataType.BYTES) {
      return OnnxTensor.createTensor(environment, decodeStrings(input), shape);
    }
    ByteBuffer data = input.data();
    if (!data.isDirect()) {
      // ONNX Runtime reads direct memory in native order; copy once here rather than in its API
      ByteBuffer direct =
          ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
      direct.put(data).flip();
      data = direct;
    }
    return OnnxTensor.createTensor(
        environment, data, shape, OnnxTypes.javaTypeForInput(input.dataType()));
  }

  private static String[] decodeStrings(Tensor input) {
    // ONNX Runtime's Java API carries strings as java.lang.String, so elements must be UTF-8
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    List<byte[]> elements = input.toByteElements();
    String[] strings = new String[elements.size()];
    for (int i = 0; i < strings.length; i++) {
      try {
        CharBuffer decoded = decoder.decode(ByteBuffer.wrap(elements.get(i)));
        strings[i] = decoded.toString();
      } catch (CharacterCodingException e) {
        throw new InvalidInputException(
            "input '"
                + input.name()
                + "' element "
                + i
                + " is not valid UTF-8; ONNX Runtime string tensors hold UTF-8 text only");
      }
    }
    return strings;
  }

  private static Tensor fromOnnx(TensorSpec spec, OnnxTensor value) throws OrtException {
    long[] shape = value.getInfo().getShape();
    if (spec.dataType() == DataType.BYTES) {
      List<String> strings = new ArrayList<>();
      flattenStrings(value.getValue(), strings);
      return Tensor.ofStrings(spec.name(), shape, strings.toArray(String[]::new));
    }
    ByteBuffer bytes = value.getByteBuffer();
    if (bytes == null) {
      throw new BackendException("ONNX Runtime returned no data for output '" + spec.name() + "'");
    }
    // getByteBuffer() is a fresh copy in native order, which is little-endian on every supported
    // CPU
    return Tensor.of(spec.name(), spec.dataType(), shape, bytes.order(ByteOrder.LITTLE_ENDIAN));
  }

  private static void flattenStrings(Object value, List<String> into) {
    if (value instanceof String string) {
      into.add(string);
    } else if (value instanceof Object[] array) {
      for (Object element : array) {
        flattenStrings(element, into);
      }
    }
  }

  @Override
  public long memoryEstimateBytes() {
    // ONNX Runtime does not report a session's memory; its weights are about the file's size
    return fileSize;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      session.close();
    } catch (OrtException e) {
      throw new BackendException(
          "ONNX Runtime failed closing model '" + name + "': " + e.getMessage(), e);
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
