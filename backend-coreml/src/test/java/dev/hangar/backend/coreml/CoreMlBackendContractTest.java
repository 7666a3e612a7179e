package dev.hangar.backend.coreml;

import dev.hangar.backend.coreml.proto.CoreMlProto.ArrayFeatureType.ArrayDataType;
import dev.hangar.backend.coreml.proto.CoreMlProto.Identity;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelParameters;
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
import java.util.Optional;
import java.util.Set;

/**
 * The CoreML backend against the backend contract, on the sample quality_predictor_coreml (the
 * CoreML twin of quality_predictor).
 *
 * <p>Echo models are CoreML {@code identity} models over a MultiArray {@code [3]}, served as {@code
 * [N, 3]}. CoreML arrays hold FLOAT32, DOUBLE, INT32, FLOAT16 and INT8 only; for every other
 * datatype a user has no array type to write, so the closest they can do is the FLOAT32 model with
 * the datatype they want declared in the model's config, which the backend refuses naming the
 * datatype.
 */
class CoreMlBackendContractTest extends BackendContract {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));

  private static final Set<DataType> ARRAY_TYPES =
      EnumSet.of(DataType.FP32, DataType.FP64, DataType.INT32, DataType.FP16, DataType.INT8);

  @Override
  protected BackendProvider provider() {
    return new CoreMlBackendProvider();
  }

  @Override
  protected ReferenceModel referenceModel() {
    try {
      return new ReferenceModel(
          ModelSource.of(
              "quality_predictor_coreml",
              1,
              MODELS.resolve("quality_predictor_coreml/1/model.mlmodel")),
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
    ArrayDataType arrayType =
        switch (type) {
          case FP64 -> ArrayDataType.DOUBLE;
          case INT32 -> ArrayDataType.INT32;
          case FP16 -> ArrayDataType.FLOAT16;
          case INT8 -> ArrayDataType.INT8;
          default -> ArrayDataType.FLOAT32;
        };
    Model identity =
        Model.newBuilder()
            .setSpecificationVersion(1)
            .setDescription(
                Specs.description(
                    List.of(Specs.array("input", arrayType, 3)),
                    List.of(Specs.array("output", arrayType, 3))))
            .setIdentity(Identity.getDefaultInstance())
            .build();
    Path file = directory.resolve("model.mlmodel");
    Files.write(file, identity.toByteArray());
    String name = "echo_" + type.name().toLowerCase(java.util.Locale.ROOT);
    if (ARRAY_TYPES.contains(type)) {
      return ModelSource.of(name, 1, file);
    }
    return new ModelSource(
        name, 1, file, Optional.of(echoSignature(type)), ModelParameters.empty());
  }

  @Override
  protected Set<DataType> supportedDataTypes() {
    return ARRAY_TYPES;
  }

  @Override
  protected boolean supportsDynamicBatch() {
    return true;
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
