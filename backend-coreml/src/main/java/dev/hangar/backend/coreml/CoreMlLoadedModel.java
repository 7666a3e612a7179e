package dev.hangar.backend.coreml;

import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * A compiled CoreML model running on ONNX Runtime, with the input checks the graph cannot make (see
 * {@link CategoryCheck}) made before each run.
 */
final class CoreMlLoadedModel implements LoadedModel {
  private final LoadedModel onnx;
  private final List<CategoryCheck> checks;

  CoreMlLoadedModel(LoadedModel onnx, List<CategoryCheck> checks) {
    this.onnx = onnx;
    this.checks = List.copyOf(checks);
  }

  @Override
  public ModelSignature signature() {
    return onnx.signature();
  }

  @Override
  public List<Tensor> infer(List<Tensor> inputs) {
    // the ONNX model validates the inputs and reports a closed model first
    if (!checks.isEmpty()) {
      onnx.signature().validateInputs(inputs);
      for (CategoryCheck check : checks) {
        check.check(inputs);
      }
    }
    return onnx.infer(inputs);
  }

  @Override
  public long memoryEstimateBytes() {
    return onnx.memoryEstimateBytes();
  }

  @Override
  public <T> Optional<T> capability(Class<T> type) {
    return onnx.capability(type);
  }

  @Override
  public void close() {
    onnx.close();
  }
}
