package dev.hangar.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.core.CoreExecutors;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.inference.ResponseCache;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelState;
import dev.hangar.core.model.ModelTransition;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty ONNX models of about 50 MB each (64-3500-3500-8 MLPs), served round-robin under the
 * default 500 MB budget through the real ONNX Runtime backend: every request succeeds, models are
 * evicted least-recently-used first to make room, and the process's resident memory, sampled every
 * few milliseconds, never passes the budget.
 *
 * <p>It runs in its own JVM with a small heap (see this module's pom), as the {@code ./hangar}
 * launcher sizes it, since the budget covers heap and native memory together.
 */
class ManyModelsUnderBudgetTest {
  private static final int MODELS = 20;
  private static final int ROUNDS = 3;
  private static final DataSize BUDGET = DataSize.ofMegabytes(500);

  @TempDir Path repository;

  @Test
  void twentyFiftyMegabyteModelsServeRoundRobinInsideFiveHundredMegabytes() throws Exception {
    Path weights = WriteMlp.inChildJvm(repository.resolve(".shared"));
    assertThat(Files.size(weights)).isBetween(45L << 20, 52L << 20);
    for (int i = 0; i < MODELS; i++) {
      Path version =
          Files.createDirectories(repository.resolve(String.format("mlp%02d", i)).resolve("1"));
      // one file on disk, twenty models in memory: each loads its own session
      Files.createLink(version.resolve("model.onnx"), weights);
      Files.writeString(
          repository.resolve(String.format("mlp%02d", i)).resolve("config.yaml"),
          "warmup: {iterations: 1, batch_sizes: [1, 8]}\nparameters: {intra_op_threads: 1}\n");
    }
    ResidentMemory memory = ResidentMemory.forPlatform();
    AtomicLong peak = new AtomicLong();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        new Thread(
            () -> {
              while (sampling.get()) {
                peak.accumulateAndGet(memory.residentBytes(), Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
              }
            },
            "rss-sampler");
    sampler.setDaemon(true);
    sampler.start();

    List<ModelTransition> evictions = new CopyOnWriteArrayList<>();
    try (CoreExecutors executors = new CoreExecutors();
        BackendRegistry backends =
            BackendRegistry.discover(
                getClass().getClassLoader(),
                new BackendContext(
                    Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))))) {
      ModelManager manager =
          new ModelManager(
              new ModelRepository(repository, backends),
              backends,
              BUDGET,
              memory,
              MemoryReclaimer.forPlatform(),
              TimeSource.SYSTEM,
              executors.workers());
      manager.onTransition(
          transition -> {
            if (transition.to() == ModelState.EVICTED) {
              evictions.add(transition);
            }
            peak.accumulateAndGet(memory.residentBytes(), Math::max);
          });
      try {
        manager.start().join();
        InferenceService inference =
            new InferenceService(
                manager,
                new ResponseCache(DataSize.ofMegabytes(1), TimeSource.SYSTEM),
                executors.workers(),
                InferenceService.answerHelpersForThisMachine(),
                executors.timer(),
                TimeSource.SYSTEM);
        Tensor input = Tensor.ofFloats("x", new long[] {1, 64}, new float[64]);
        int requests = 0;
        for (int round = 0; round < ROUNDS; round++) {
          for (int i = 0; i < MODELS; i++) {
            InferenceResponse response =
                inference.infer(InferenceRequest.of(String.format("mlp%02d", i), List.of(input)));
            assertThat(response.outputs().get(0).shape()).containsExactly(1, 8);
            requests++;
            assertThat(manager.accountedBytes()).isLessThanOrEqualTo(BUDGET.bytes());
          }
        }
        assertThat(requests).isEqualTo(MODELS * ROUNDS);
        System.out.printf(
            "many-models: %d requests over %d models of %s, budget %s: peak resident %s, %d evictions, server baseline %s%n",
            requests,
            MODELS,
            DataSize.format(Files.size(weights)),
            BUDGET,
            DataSize.format(peak.get()),
            evictions.size(),
            DataSize.format(
                manager.accountedBytes()
                    - manager.list().stream().mapToLong(s -> s.memoryBytes()).sum()));
      } finally {
        manager.close();
      }
    } finally {
      sampling.set(false);
      sampler.join();
    }
    assertThat(evictions).hasSizeGreaterThan(MODELS);
    assertThat(peak.get()).as("peak resident memory").isLessThanOrEqualTo(BUDGET.bytes());
  }
}
