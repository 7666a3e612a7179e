package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.graph.OnnxTensorProtos;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.DataType;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 71 ONNX backend node tests of {@code src/test/resources/onnx-node} (from onnx/onnx v1.20.1,
 * Apache-2.0), run through the ONNX backend and compared the way ONNX's own runner compares: equal
 * shapes and types, strings exactly, numbers with rtol 1e-3 and atol 1e-7, NaN equal to NaN.
 */
class OnnxConformanceTest {
  static final Path CASES = Path.of("src/test/resources/onnx-node");
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-7;

  private static Backend backend;

  @BeforeAll
  static void createBackend() {
    backend =
        new OnnxBackendProvider()
            .create(
                new BackendContext(
                    Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))));
  }

  @AfterAll
  static void closeBackend() {
    backend.close();
  }

  static Stream<String> cases() throws IOException {
    try (Stream<Path> entries = Files.list(CASES)) {
      return entries
          .filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .toList()
          .stream();
    }
  }

  @Test
  void allSeventyOneCasesArePresent() throws IOException {
    assertThat(cases()).hasSize(71);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheExpectedOutputs(String name) throws IOException {
    Path directory = CASES.resolve(name);
    List<Tensor> inputs = readAll(directory.resolve("test_data_set_0"), "input_");
    List<Tensor> expected = readAll(directory.resolve("test_data_set_0"), "output_");
    try (LoadedModel model =
        backend.load(ModelSource.of(name, 1, directory.resolve("model.onnx")))) {
      List<Tensor> actual = model.infer(inputs);
      assertThat(actual).hasSameSizeAs(expected);
      for (Tensor want : expected) {
        Tensor got =
            actual.stream()
                .filter(t -> t.name().equals(want.name()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no output " + want.name()));
        assertMatches(got, want);
      }
    }
  }

  static void assertMatches(Tensor actual, Tensor expected) {
    String label = "output '" + expected.name() + "'";
    assertThat(actual.dataType()).as(label + " datatype").isEqualTo(expected.dataType());
    assertThat(actual.shape()).as(label + " shape").containsExactly(expected.shape());
    if (expected.dataType() == DataType.BYTES || expected.dataType() == DataType.BOOL) {
      assertThat(actual.data()).as(label + " values").isEqualTo(expected.data());
      return;
    }
    if (!expected.dataType().isFloatingPoint()) {
      assertThat(actual.toLongArray())
          .as(label + " values")
          .containsExactly(expected.toLongArray());
      return;
    }
    double[] got = actual.toDoubleArray();
    double[] want = expected.toDoubleArray();
    for (int i = 0; i < want.length; i++) {
      if (Double.isNaN(want[i])) {
        assertThat(got[i]).as(label + " element " + i).isNaN();
      } else if (Double.isInfinite(want[i])) {
        assertThat(got[i]).as(label + " element " + i).isEqualTo(want[i]);
      } else {
        assertThat(Math.abs(got[i] - want[i]))
            .as(label + " element " + i + ": got " + got[i] + ", expected " + want[i])
            .isLessThanOrEqualTo(ATOL + RTOL * Math.abs(want[i]));
      }
    }
  }

  static List<Tensor> readAll(Path directory, String prefix) throws IOException {
    List<Tensor> tensors = new ArrayList<>();
    for (int i = 0; Files.exists(directory.resolve(prefix + i + ".pb")); i++) {
      tensors.add(
          OnnxTensorProtos.toTensor(
              TensorProto.parseFrom(Files.readAllBytes(directory.resolve(prefix + i + ".pb")))));
    }
    return tensors;
  }
}
