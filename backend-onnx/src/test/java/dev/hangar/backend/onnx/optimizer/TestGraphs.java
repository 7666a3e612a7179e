package dev.hangar.backend.onnx.optimizer;

import dev.hangar.backend.onnx.graph.OnnxGraphBuilder;
import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.spi.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** ONNX models for the optimizer's tests and benchmarks, written with {@link OnnxGraphBuilder}. */
public final class TestGraphs {
  private TestGraphs() {}

  /**
   * A multi-layer perceptron {@code sizes[0] -> sizes[1] -> ... -> sizes[n]}, ReLU between layers,
   * weights and biases uniform in ±1/sqrt(fan-in) (PyTorch's {@code nn.Linear} initialization).
   * Layers are {@code MatMul + Add}, or {@code Gemm} with {@code transB=1} (PyTorch's export).
   * Input {@code x} [-1, sizes[0]], output {@code y} [-1, sizes[n]].
   */
  public static ModelProto mlp(String name, int[] sizes, long seed, boolean gemm) {
    SplittableRandom random = new SplittableRandom(seed);
    OnnxGraphBuilder graph = new OnnxGraphBuilder(name);
    graph.input("x", DataType.FP32, new long[] {-1, sizes[0]});
    String current = "x";
    for (int layer = 0; layer + 1 < sizes.length; layer++) {
      int in = sizes[layer];
      int out = sizes[layer + 1];
      double bound = 1 / Math.sqrt(in);
      float[] weights = uniform(random, in * out, bound);
      float[] bias = uniform(random, out, bound);
      boolean last = layer + 2 == sizes.length;
      String product = last ? "y" : "h" + layer;
      String weightName = "w" + layer;
      String biasName = "b" + layer;
      if (gemm) {
        graph.initializer(weightName, new long[] {out, in}, weights);
        graph.initializer(biasName, new long[] {out}, bias);
        graph.node(
            "Gemm",
            List.of(current, weightName, biasName),
            List.of(last ? "y" : product + "_linear"),
            OnnxGraphBuilder.attribute("transB", 1L));
      } else {
        graph.initializer(weightName, new long[] {in, out}, weights);
        graph.initializer(biasName, new long[] {out}, bias);
        graph.node("MatMul", List.of(current, weightName), List.of(product + "_matmul"));
        graph.node(
            "Add",
            List.of(product + "_matmul", biasName),
            List.of(last ? "y" : product + "_linear"));
      }
      if (!last) {
        graph.node("Relu", List.of(product + "_linear"), List.of(product));
        current = product;
      }
    }
    graph.output("y", DataType.FP32, new long[] {-1, sizes[sizes.length - 1]});
    return graph.build();
  }

  /** Writes a model to {@code directory/name.onnx} and returns the file. */
  public static Path write(ModelProto model, Path directory, String name) throws IOException {
    Files.createDirectories(directory);
    Path file = directory.resolve(name + ".onnx");
    Files.write(file, model.toByteArray());
    return file;
  }

  static float[] uniform(SplittableRandom random, int count, double bound) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return values;
  }
}
