package dev.hangar.backend.torchscript;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.spi.Backend;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the README's export-time recipes produce (torch.jit.freeze, quantize_dynamic; written by
 * {@code src/test/resources/torchscript/export_examples.py}) is served by the backend with
 * PyTorch's outputs.
 */
class ExportTimeOptimizationTest {
  private static final Path FIXTURES = Path.of("src/test/resources/torchscript");
  private static Backend backend;

  @BeforeAll
  static void createBackend() {
    backend = TestBackends.create();
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  @ParameterizedTest
  @CsvSource({"mlp.pt, fp32, 1e-5", "mlp_frozen.pt, frozen, 1e-5", "mlp_int8.pt, int8, 1e-4"})
  void exportedModelsServeWithPyTorchsOutputs(String file, String expected, double tolerance)
      throws IOException {
    Map<String, float[]> examples = examples();
    ModelSignature signature =
        new ModelSignature(
            List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 16})),
            List.of(new TensorSpec("output", DataType.FP32, new long[] {-1, 4})),
            true);
    ModelSource source =
        new ModelSource(
            "mlp", 1, FIXTURES.resolve(file), Optional.of(signature), ModelParameters.empty());
    try (LoadedModel model = backend.load(source)) {
      float[] outputs =
          model
              .infer(
                  List.of(Tensor.ofFloats("features", new long[] {8, 16}, examples.get("input"))))
              .get(0)
              .toFloatArray();
      float[] want = examples.get(expected);
      float[] fp32 = examples.get("fp32");
      for (int i = 0; i < want.length; i++) {
        assertThat((double) Math.abs(outputs[i] - want[i])).isLessThan(tolerance);
        assertThat((double) Math.abs(outputs[i] - fp32[i])).isLessThan(0.05);
      }
    }
  }

  private static Map<String, float[]> examples() throws IOException {
    Map<String, List<Float>> values = new LinkedHashMap<>();
    List<Float> current = null;
    for (String line : Files.readAllLines(FIXTURES.resolve("mlp_examples.txt"))) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      if (!line.contains(" ")) {
        current = new ArrayList<>();
        values.put(line.trim(), current);
        continue;
      }
      for (String number : line.trim().split("\\s+")) {
        current.add(Float.parseFloat(number));
      }
    }
    Map<String, float[]> arrays = new LinkedHashMap<>();
    values.forEach(
        (name, list) -> {
          float[] array = new float[list.size()];
          for (int i = 0; i < array.length; i++) {
            array[i] = list.get(i);
          }
          arrays.put(name, array);
        });
    return arrays;
  }
}
