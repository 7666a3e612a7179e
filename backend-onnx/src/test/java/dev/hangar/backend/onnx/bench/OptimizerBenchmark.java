package dev.hangar.backend.onnx.bench;

import dev.hangar.backend.onnx.OnnxBackendProvider;
import dev.hangar.backend.onnx.OnnxOptimizer;
import dev.hangar.backend.onnx.optimizer.TestGraphs;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.OptimizationReport.Variant;
import dev.hangar.spi.Runs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The optimizer's numbers: file size, load time, batch-1 and batch-32 latency (p50/p99) and error
 * of every variant, on a ~50 MB MLP (64-3500-3500-8, random weights) and on the sample models. Not
 * a test: it reports, it asserts nothing.
 *
 * <pre>
 * ./mvnw -DskipTests -pl backend-onnx -am verify -Dbench=onnx \
 *     -Dbench.main=dev.hangar.backend.onnx.bench.OptimizerBenchmark -Dbench.args="200 20"
 * </pre>
 *
 * Arguments: timed runs per variant and batch size (default 200), warmup runs (default 20), and
 * optionally {@code mlp} or {@code samples} to run one half. {@code write-mlp DIR} writes the MLP
 * to {@code DIR/model.onnx} instead, for {@code hangar optimize}.
 */
public final class OptimizerBenchmark {
  private OptimizerBenchmark() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 2 && args[0].equals("write-mlp")) {
      // writes the benchmark's MLP for the command line: -Dbench.args="write-mlp /tmp/mlp"
      Path file =
          TestGraphs.write(
              TestGraphs.mlp("mlp", new int[] {64, 3500, 3500, 8}, 42, false),
              Path.of(args[1]),
              "model");
      System.out.println("wrote " + file + " (" + Files.size(file) + " bytes)");
      return;
    }
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    String only = args.length > 2 ? args[2] : "all";
    MeasurementPlan plan =
        new MeasurementPlan(Runs.exactly(warmup), Runs.exactly(runs), List.of(1, 32));
    Path work = Files.createTempDirectory("hangar-optimizer-bench");
    Path models = Path.of(System.getProperty("hangar.models.dir", "../models"));
    // the build's cache: the native library is there, and what optimize keeps goes there too
    Backend backend =
        new OnnxBackendProvider()
            .create(
                new BackendContext(
                    Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))));
    OnnxOptimizer optimizer =
        (OnnxOptimizer) backend.capability(ModelOptimizer.class).orElseThrow();
    System.out.println(
        "CPU: "
            + optimizer.cpu().describe()
            + "; "
            + Runtime.getRuntime().availableProcessors()
            + " cores");
    System.out.println(
        "int8 kernels: "
            + (optimizer.cpu().hasVnni()
                ? "VNNI present (u8s8 dot products without saturation; full 8-bit weights)"
                : optimizer.cpu().isX86()
                    ? "no VNNI: weights use 7 bits (reduce range)"
                    : "non-x86"));
    System.out.printf(
        Locale.ROOT,
        "plan: %d warmup + %d timed runs per variant and batch size, interleaved%n%n",
        warmup,
        runs);
    List<String> summary = new ArrayList<>();
    if (!only.equals("samples")) {
      long start = System.nanoTime();
      Path file =
          TestGraphs.write(
              TestGraphs.mlp("mlp", new int[] {64, 3500, 3500, 8}, 42, false), work, "mlp");
      System.out.printf(
          Locale.ROOT,
          "generated %s (%.1f MB) in %.1f s%n",
          file,
          Files.size(file) / 1e6,
          (System.nanoTime() - start) / 1e9);
      for (Granularity granularity : Granularity.values()) {
        OptimizationReport report =
            optimizer.optimize(
                ModelSource.of("mlp_64_3500_3500_8", 1, file),
                new OptimizationOptions(
                    Level.ALL, true, OptimizationOptions.DEFAULT_INT8_TOLERANCE, granularity),
                plan,
                work.resolve("out-" + granularity));
        print(report, summary);
      }
    }
    if (!only.equals("mlp")) {
      for (String name : List.of("quality_predictor", "routing_classifier")) {
        for (Granularity granularity : Granularity.values()) {
          OptimizationReport report =
              optimizer.optimize(
                  ModelSource.of(name, 1, models.resolve(name + "/1/model.onnx")),
                  new OptimizationOptions(
                      Level.ALL, true, OptimizationOptions.DEFAULT_INT8_TOLERANCE, granularity),
                  plan,
                  work.resolve("out-" + name + "-" + granularity));
          print(report, summary);
        }
      }
    }
    System.out.println("summary (batch-32 p50 speed-up and size against the original):");
    summary.forEach(System.out::println);
    backend.close();
  }

  private static void print(OptimizationReport report, List<String> summary) {
    System.out.println("== " + report.model() + ": " + report.options().describe());
    System.out.println("   " + report.engine());
    System.out.printf(
        Locale.ROOT,
        "   %-32s %12s %10s %10s %10s %10s %10s %10s %10s%n",
        "variant",
        "bytes",
        "load ms",
        "b1 p50",
        "b1 p99",
        "b32 p50",
        "b32 p99",
        "max err",
        "mean err");
    Variant original = report.original();
    for (Variant variant : report.variants()) {
      Latency one = variant.latency(1).orElseThrow();
      Latency many = variant.latency(32).orElseThrow();
      System.out.printf(
          Locale.ROOT,
          "   %-32s %12d %10.1f %10.3f %10.3f %10.3f %10.3f %10s %10s%n",
          variant.name() + (variant.name().equals(report.chosen()) ? " *" : ""),
          variant.fileBytes(),
          variant.loadTime().toNanos() / 1e6,
          one.p50().toNanos() / 1e6,
          one.p99().toNanos() / 1e6,
          many.p50().toNanos() / 1e6,
          many.p99().toNanos() / 1e6,
          variant
              .accuracy()
              .map(a -> String.format(Locale.ROOT, "%.2e", a.maxAbsoluteError()))
              .orElse("-"),
          variant
              .accuracy()
              .map(a -> String.format(Locale.ROOT, "%.2e", a.meanAbsoluteError()))
              .orElse("-"));
      if (variant != original) {
        summary.add(
            String.format(
                Locale.ROOT,
                "  %-20s %-32s size %5.1f%%  b32 p50 %5.2fx  b1 p50 %5.2fx  load %6.1f -> %6.1f ms  max err %.2e%s",
                report.model(),
                variant.name(),
                100.0 * variant.fileBytes() / original.fileBytes(),
                (double) original.latency(32).orElseThrow().p50().toNanos() / many.p50().toNanos(),
                (double) original.latency(1).orElseThrow().p50().toNanos() / one.p50().toNanos(),
                original.loadTime().toNanos() / 1e6,
                variant.loadTime().toNanos() / 1e6,
                variant.accuracy().orElseThrow().maxAbsoluteError(),
                variant.name().equals(report.chosen()) ? "  (kept)" : ""));
      }
    }
    report.actions().forEach(action -> System.out.println("   done: " + action));
    report
        .refusals()
        .forEach(r -> System.out.println("   refused " + r.optimization() + ": " + r.reason()));
    System.out.println();
  }
}
