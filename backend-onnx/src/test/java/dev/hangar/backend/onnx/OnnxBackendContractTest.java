package dev.hangar.backend.onnx;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import dev.hangar.testkit.BackendContract;
import dev.hangar.testkit.ReferenceFile;
import dev.hangar.testkit.ReferenceModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The ONNX Runtime backend against the backend contract, on the sample quality_predictor. */
class OnnxBackendContractTest extends BackendContract {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));

  @Override
  protected BackendProvider provider() {
    return new OnnxBackendProvider();
  }

  @Override
  protected ReferenceModel referenceModel() {
    try {
      return new ReferenceModel(
          ModelSource.of("quality_predictor", 1, MODELS.resolve("quality_predictor/1/model.onnx")),
          new ModelSignature(
              List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 10})),
              List.of(new TensorSpec("ssim", DataType.FP32, new long[] {-1, 1})),
              true),
          ReferenceFile.read(MODELS.resolve("reference/quality_predictor.txt")),
          1e-5);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected ModelSource echoModel(DataType type, Path directory) throws IOException {
    long[] shape = {-1, 3};
    Path file = directory.resolve("model.onnx");
    Files.write(
        file,
        new OnnxGraphBuilder("echo_" + type)
            .input("input", type, shape)
            .output("output", type, shape)
            .node("Identity", List.of("input"), List.of("output"))
            .build()
            .toByteArray());
    return ModelSource.of("echo_" + type.name().toLowerCase(), 1, file);
  }

  @Override
  protected Set<DataType> supportedDataTypes() {
    return EnumSet.allOf(DataType.class);
  }

  @Override
  protected boolean supportsDynamicBatch() {
    return true;
  }

  @Override
  protected boolean supportsArbitraryBytes() {
    return false;
  }

  @Override
  protected List<String> nativeLibraryFileNames() {
    return List.of(
        System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"));
  }

  @Override
  protected Map.Entry<String, String> wrongParameter() {
    return Map.entry("graph_optimization_level", "turbo");
  }
}
