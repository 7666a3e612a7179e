package dev.hangar.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.onnx.graph.OnnxTensorProtos;
import dev.hangar.backend.onnx.proto.OnnxProto.TensorProto;
import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The 71 ONNX backend node tests of {@code backend-onnx/src/test/resources/onnx-node} (from
 * onnx/onnx v1.20.1, Apache-2.0): their names, their data sets, and ONNX's own comparison rule.
 * Shared through this module's test jar with the tests that run the cases over HTTP.
 */
public final class ConformanceCases {
  /** rtol and atol of ONNX's backend test runner. */
  public static final double RTOL = 1e-3;

  /** See {@link #RTOL}. */
  public static final double ATOL = 1e-7;

  private ConformanceCases() {}

  /**
   * Returns the directory of the cases: {@code hangar.onnx.cases}, or this module's resources seen
   * from any module of the build.
   */
  public static Path directory() {
    String configured = System.getProperty("hangar.onnx.cases");
    if (configured != null) {
      return Path.of(configured);
    }
    Path here = Path.of("src/test/resources/onnx-node");
    return Files.isDirectory(here) ? here : Path.of("../backend-onnx/src/test/resources/onnx-node");
  }

  /** Returns the case names, sorted. */
  public static List<String> names() throws IOException {
    try (Stream<Path> entries = Files.list(directory())) {
      return entries
          .filter(Files::isDirectory)
          .map(path -> path.getFileName().toString())
          .sorted()
          .toList();
    }
  }

  /** Returns a case's model file. */
  public static Path model(String name) {
    return directory().resolve(name).resolve("model.onnx");
  }

  /** Returns a case's inputs. */
  public static List<Tensor> inputs(String name) throws IOException {
    return read(name, "input_");
  }

  /** Returns a case's expected outputs. */
  public static List<Tensor> expectedOutputs(String name) throws IOException {
    return read(name, "output_");
  }

  private static List<Tensor> read(String name, String prefix) throws IOException {
    Path dataSet = directory().resolve(name).resolve("test_data_set_0");
    List<Tensor> tensors = new ArrayList<>();
    for (int i = 0; Files.exists(dataSet.resolve(prefix + i + ".pb")); i++) {
      tensors.add(
          OnnxTensorProtos.toTensor(
              TensorProto.parseFrom(Files.readAllBytes(dataSet.resolve(prefix + i + ".pb")))));
    }
    return tensors;
  }

  /**
   * Asserts ONNX's rule: equal datatype and shape, strings and booleans exactly, integers exactly,
   * floating point within {@link #ATOL} + {@link #RTOL} times the expected value, NaN equal to NaN.
   */
  public static void assertMatches(Tensor actual, Tensor expected) {
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
}
