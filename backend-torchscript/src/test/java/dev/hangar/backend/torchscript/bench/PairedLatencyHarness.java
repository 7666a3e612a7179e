package dev.hangar.backend.torchscript.bench;

import java.util.Arrays;

/**
 * The backend's overhead over a raw DJL forward, measured call against call: both run alternately
 * in one loop (which one goes first alternates too), so that the noise of a shared machine lands on
 * both alike, and the overhead is read from the paired differences. JMH's {@link
 * TorchScriptLatencyBenchmark} gives the same calls' percentiles, each in its own iterations.
 *
 * <pre>
 * ./mvnw -DskipTests -pl backend-torchscript -am verify -Dbench=torchscript \
 *     -Dbench.main=dev.hangar.backend.torchscript.bench.PairedLatencyHarness -Dbench.args=200000
 * </pre>
 */
public final class PairedLatencyHarness {
  private PairedLatencyHarness() {}

  /** Argument: the number of measured call pairs per batch size (default 200000). */
  public static void main(String[] args) {
    int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    for (int batch : new int[] {1, 32}) {
      TorchScriptLatencyBenchmark calls = new TorchScriptLatencyBenchmark();
      calls.batch = batch;
      calls.setUp();
      try {
        run(calls, pairs / 2, new long[pairs / 2], new long[pairs / 2]);
        long[] backend = new long[pairs];
        long[] raw = new long[pairs];
        run(calls, pairs, backend, raw);
        long[] difference = new long[pairs];
        for (int i = 0; i < pairs; i++) {
          difference[i] = backend[i] - raw[i];
        }
        Arrays.sort(backend);
        Arrays.sort(raw);
        Arrays.sort(difference);
        System.out.printf(
            "batch %2d, %d pairs: backend p50 %.2f us p99 %.2f us | raw DJL p50 %.2f us p99 %.2f"
                + " us | paired difference p50 %+.2f us (p25 %+.2f, p75 %+.2f)%n",
            batch,
            pairs,
            micros(backend, 0.50),
            micros(backend, 0.99),
            micros(raw, 0.50),
            micros(raw, 0.99),
            micros(difference, 0.50),
            micros(difference, 0.25),
            micros(difference, 0.75));
      } finally {
        calls.tearDown();
      }
    }
  }

  private static void run(
      TorchScriptLatencyBenchmark calls, int pairs, long[] backend, long[] raw) {
    long sink = 0;
    for (int i = 0; i < pairs; i++) {
      long start;
      if ((i & 1) == 0) {
        start = System.nanoTime();
        sink += calls.backendInfer().size();
        long middle = System.nanoTime();
        sink += calls.rawDjlForward().remaining();
        long end = System.nanoTime();
        backend[i] = middle - start;
        raw[i] = end - middle;
      } else {
        start = System.nanoTime();
        sink += calls.rawDjlForward().remaining();
        long middle = System.nanoTime();
        sink += calls.backendInfer().size();
        long end = System.nanoTime();
        raw[i] = middle - start;
        backend[i] = end - middle;
      }
    }
    if (sink == 42) {
      System.out.println("unlikely");
    }
  }

  private static double micros(long[] sorted, double quantile) {
    return sorted[(int) Math.min(sorted.length - 1, Math.round(quantile * (sorted.length - 1)))]
        / 1000.0;
  }
}
