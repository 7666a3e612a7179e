package dev.hangar.backend.torchscript;

import dev.hangar.spi.DataType;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import dev.hangar.testkit.ReferenceFile;
import dev.hangar.testkit.ReferenceModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sample TorchScript models of {@code models/}, as Hangar's core hands them to the backend
 * after reading their {@code config.yaml}.
 */
final class SampleModels {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));

  /** Outputs equal PyTorch's reference, and so the ONNX twin's, within this. */
  static final double TOLERANCE = 1e-5;

  private SampleModels() {}

  /** quality_predictor_torchscript: features FP32[-1, 10] to ssim FP32[-1, 1]. */
  static ReferenceModel qualityPredictor() {
    return reference("quality_predictor", 10, "ssim", 1);
  }

  /** routing_classifier_torchscript: features FP32[-1, 15] to tier_probabilities FP32[-1, 4]. */
  static ReferenceModel routingClassifier() {
    return reference("routing_classifier", 15, "tier_probabilities", 4);
  }

  static ModelSignature signature(int features, String output, int outputs) {
    return new ModelSignature(
        List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, features})),
        List.of(new TensorSpec(output, DataType.FP32, new long[] {-1, outputs})),
        true);
  }

  private static ReferenceModel reference(String name, int features, String output, int outputs) {
    ModelSignature signature = signature(features, output, outputs);
    ModelSource source =
        new ModelSource(
            name + "_torchscript",
            1,
            MODELS.resolve(name + "_torchscript/1/model.pt"),
            Optional.of(signature),
            new ModelParameters(Map.of(TorchScriptSettings.INTRA_OP_THREADS, "1")));
    try {
      return new ReferenceModel(
          source,
          signature,
          ReferenceFile.read(MODELS.resolve("reference/" + name + ".txt")),
          TOLERANCE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
