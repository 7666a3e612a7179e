package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.testing.Harness;
import dev.hangar.spi.ModelClosedException;
import dev.hangar.spi.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many threads doing random inferences, loads and unloads on more models than fit the budget, for a
 * bounded number of operations: nothing fails but the documented rejections, no request ever runs
 * on a closed model, and neither the accounted total nor resident memory passes the budget.
 */
class ModelManagerStressTest {
  private static final int THREADS = 8;
  private static final int OPERATIONS = 300;
  private static final int MODELS = 6;

  @TempDir Path root;

  @Test
  void randomTrafficStaysInsideTheBudgetWithOnlyDocumentedRejections() throws Exception {
    try (Harness harness = new Harness(root, DataSize.ofMegabytes(100), 10 * MB)) {
      for (int i = 0; i < MODELS; i++) {
        harness.model("m" + i, 1, 20);
      }
      dev.hangar.core.testing.Transitions transitions = new dev.hangar.core.testing.Transitions();
      harness.manager.onTransition(transitions);
      harness.manager.start().join();
      Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
      AtomicLong maxAccounted = new AtomicLong();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Callable<Void>> workers = new ArrayList<>();
        for (int thread = 0; thread < THREADS; thread++) {
          Random random = new Random(thread);
          workers.add(
              () -> {
                for (int op = 0; op < OPERATIONS; op++) {
                  String model = "m" + random.nextInt(MODELS);
                  String outcome = operate(harness, model, random.nextInt(100));
                  outcomes.computeIfAbsent(outcome, key -> new AtomicLong()).incrementAndGet();
                  maxAccounted.accumulateAndGet(harness.manager.accountedBytes(), Math::max);
                }
                return null;
              });
        }
        for (Future<Void> worker : pool.invokeAll(workers, 5, TimeUnit.MINUTES)) {
          worker.get();
        }
      } finally {
        pool.shutdownNow();
      }
      // printed first, so that a failed run shows what happened
      System.out.println(
          "stress outcomes: "
              + outcomes
              + ", transitions: "
              + transitions.all().stream()
                  .collect(
                      java.util.stream.Collectors.groupingBy(
                          transition -> transition.to(), java.util.stream.Collectors.counting())));
      assertThat(outcomes.keySet())
          .as("outcomes %s", outcomes)
          .allMatch(outcome -> outcome.equals("ok") || outcome.startsWith("documented:"));
      assertThat(outcomes.get("ok").get()).isGreaterThan(THREADS * OPERATIONS / 2);
      assertThat(transitions.all().stream().filter(t -> t.to() == ModelState.EVICTED).count())
          .as("evictions")
          .isGreaterThan(20);
      assertThat(transitions.all().stream().filter(t -> t.to() == ModelState.UNLOADED).count())
          .as("unloads")
          .isGreaterThan(20);
      assertThat(maxAccounted.get()).isLessThanOrEqualTo(100 * MB);
      assertThat(harness.memory.peakBytes()).isLessThanOrEqualTo(100 * MB);
      assertThat(harness.engine.allocatedBytes())
          .isEqualTo(harness.manager.accountedBytes() - 10 * MB);
    }
  }

  private static String operate(Harness harness, String model, int dice) {
    try {
      if (dice < 80) {
        Tensor input = Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4);
        List<Tensor> outputs =
            harness.inference.infer(InferenceRequest.of(model, List.of(input))).outputs();
        assertThat(outputs.get(0).toFloatArray()).containsExactly(2, 4, 6, 8);
      } else if (dice < 90) {
        harness.manager.load(model, dice < 85 ? LoadPriority.NORMAL : LoadPriority.HIGH).join();
      } else {
        harness.manager.unload(model).join();
      }
      return "ok";
    } catch (CompletionException e) {
      return classify(e.getCause());
    } catch (RuntimeException e) {
      return classify(e);
    }
  }

  private static String classify(Throwable failure) {
    if (failure instanceof ModelClosedException) {
      return "violation: a request ran on a closed model";
    }
    if (failure instanceof InsufficientMemoryException) {
      return "documented: insufficient memory";
    }
    if (failure instanceof ModelUnavailableException
        && failure.getMessage().contains("was unloaded again before it could serve")) {
      return "documented: evicted before serving";
    }
    if (failure instanceof ModelUnavailableException
        && failure.getMessage().endsWith("was unloaded on request after this load was asked for")) {
      return "documented: an unload asked for after the load won";
    }
    if (failure instanceof ModelUnavailableException
        && failure.getMessage().endsWith("retry once their requests end")) {
      return "documented: the models that could make room are busy";
    }
    return "unexpected: " + failure;
  }
}
