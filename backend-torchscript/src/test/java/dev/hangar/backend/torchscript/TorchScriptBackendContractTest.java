package dev.hangar.backend.torchscript;

import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSource;
import dev.hangar.testkit.BackendContract;
import dev.hangar.testkit.ReferenceModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The TorchScript backend against the backend contract, on the sample quality_predictor_torchscript
 * (the same weights as the ONNX quality_predictor, held to the same PyTorch reference outputs).
 */
class TorchScriptBackendContractTest extends BackendContract {
  @Override
  protected BackendProvider provider() {
    return new TorchScriptBackendProvider();
  }

  @Override
  protected ReferenceModel referenceModel() {
    return SampleModels.qualityPredictor();
  }

  @Override
  protected ModelSource echoModel(DataType type, Path directory) throws IOException {
    Path file = directory.resolve("model.pt");
    Files.copy(Fixtures.file("echo.pt"), file);
    return Fixtures.source("echo_" + type.name().toLowerCase(), file, echoSignature(type));
  }

  @Override
  protected Set<DataType> supportedDataTypes() {
    return EnumSet.of(
        DataType.FP32,
        DataType.FP64,
        DataType.FP16,
        DataType.BF16,
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.UINT8,
        DataType.BOOL);
  }

  @Override
  protected boolean supportsDynamicBatch() {
    return true;
  }

  @Override
  protected List<String> nativeLibraryFileNames() {
    return List.of(
        System.mapLibraryName("torch_cpu"),
        System.mapLibraryName("c10"),
        System.mapLibraryName("torch"),
        System.mapLibraryName("djl_torch"));
  }

  @Override
  protected Map.Entry<String, String> wrongParameter() {
    return Map.entry("intra_op_threads", "-3");
  }
}
