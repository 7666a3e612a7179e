package dev.hangar.testkit.fake;

import dev.hangar.spi.BackendException;
import dev.hangar.spi.DataType;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelClosedException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A fake model: output i is input i, doubled for FP32, so tests can tell rows apart. A NaN in an
 * FP32 input is refused as an invalid input, and the value {@link #FAILING_VALUE} fails the engine,
 * like value-dependent engine errors (a reshape that does not fit, an index out of range). A model
 * that drops a row answers a call of several rows with one row too few in its first output, like a
 * model whose dimension 0 is not really a batch dimension.
 */
final class FakeLoadedModel implements LoadedModel {
  /** An FP32 input value the fake engine fails on. */
  static final float FAILING_VALUE = -1234.5f;

  private final String name;
  private final ModelSignature signature;
  private final long memory;
  private final long keptOnClose;
  private final FakeEngine engine;
  private final boolean failInference;
  private final boolean dropsARow;
  private volatile boolean closed;

  FakeLoadedModel(
      String name,
      ModelSignature signature,
      long memory,
      long keptOnClose,
      FakeEngine engine,
      boolean failInference,
      boolean dropsARow) {
    this.name = name;
    this.signature = signature;
    this.memory = memory;
    this.keptOnClose = keptOnClose;
    this.engine = engine;
    this.failInference = failInference;
    this.dropsARow = dropsARow;
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
    long rows = inputs.isEmpty() || inputs.get(0).rank() == 0 ? 1 : inputs.get(0).dimension(0);
    Tensor first = inputs.isEmpty() ? null : inputs.get(0);
    float firstValue =
        first != null && first.dataType() == DataType.FP32 && first.elementCount() > 0
            ? first.data().getFloat(0)
            : Float.NaN;
    engine.beforeExecution(name, rows, firstValue);
    try {
      if (failInference) {
        throw new BackendException("fake inference failure of " + name);
      }
      for (Tensor input : inputs) {
        if (input.dataType() == DataType.FP32) {
          for (float value : input.toFloatArray()) {
            if (Float.isNaN(value)) {
              throw new InvalidInputException(
                  "fake model " + name + " refuses NaN in input '" + input.name() + "'");
            }
            if (value == FAILING_VALUE) {
              throw new BackendException(
                  "fake engine of "
                      + name
                      + " fails on "
                      + value
                      + " in input '"
                      + input.name()
                      + "'");
            }
          }
        }
      }
      if (closed) {
        throw new IllegalStateException("a closed fake model ran: the lease protocol is broken");
      }
      List<Tensor> outputs = new ArrayList<>();
      for (int i = 0; i < signature.outputs().size(); i++) {
        String inputName =
            signature.inputs().get(Math.min(i, signature.inputs().size() - 1)).name();
        Tensor input =
            inputs.stream().filter(t -> t.name().equals(inputName)).findFirst().orElseThrow();
        String outputName = signature.outputs().get(i).name();
        if (input.dataType() == DataType.FP32) {
          float[] values = input.toFloatArray();
          for (int j = 0; j < values.length; j++) {
            values[j] *= 2;
          }
          outputs.add(Tensor.ofFloats(outputName, input.shape(), values));
        } else {
          outputs.add(input.withName(outputName));
        }
      }
      if (dropsARow && rows > 1 && outputs.get(0).dataType() == DataType.FP32) {
        Tensor output = outputs.get(0);
        long[] shape = output.shape().clone();
        shape[0] = rows - 1;
        long perRow = output.elementCount() / rows;
        float[] values = Arrays.copyOf(output.toFloatArray(), (int) ((rows - 1) * perRow));
        outputs.set(0, Tensor.ofFloats(output.name(), shape, values));
      }
      return outputs;
    } finally {
      engine.afterExecution();
    }
  }

  @Override
  public long memoryEstimateBytes() {
    return Math.max(1, memory);
  }

  @Override
  public void warmedUp() {
    engine.warmupDone(name);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      // what the engine keeps stays allocated, as an allocator's cache
      engine.allocate(-(memory - keptOnClose));
      engine.closed(name);
    }
  }
}
