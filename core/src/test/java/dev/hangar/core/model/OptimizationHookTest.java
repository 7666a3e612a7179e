package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.testing.FakeResidentMemory;
import dev.hangar.core.testing.FakeTime;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.MeasurementPlan;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationOptions.Level;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose config has {@code optimization:} loads what the backend's optimizer prepares; a
 * backend without an optimizer fails the load naming the model and the format.
 */
class OptimizationHookTest {
  @TempDir Path repository;
  @TempDir Path optimizedDirectory;
  private final FakeEngine engine = new FakeEngine();
  private final List<String> prepared = new CopyOnWriteArrayList<>();
  private final List<OptimizationOptions> options = new CopyOnWriteArrayList<>();
  private final List<Path> loadedFiles = new CopyOnWriteArrayList<>();
  private final ExecutorService workers = Executors.newCachedThreadPool();
  private BackendRegistry backends;
  private ModelManager manager;

  @AfterEach
  void tearDown() {
    if (manager != null) {
      manager.close();
      backends.close();
    }
    workers.shutdownNow();
  }

  /** The fake backend, offering an optimizer that swaps in {@code optimized.fake}. */
  private final class OptimizingProvider implements BackendProvider {
    private final FakeBackendProvider fake = new FakeBackendProvider(engine);
    private final boolean withOptimizer;

    OptimizingProvider(boolean withOptimizer) {
      this.withOptimizer = withOptimizer;
    }

    @Override
    public String format() {
      return fake.format();
    }

    @Override
    public List<String> fileExtensions() {
      return fake.fileExtensions();
    }

    @Override
    public Set<String> parameterNames() {
      return fake.parameterNames();
    }

    @Override
    public Backend create(BackendContext context) {
      Backend delegate = fake.create(context);
      ModelOptimizer optimizer =
          new ModelOptimizer() {
            @Override
            public ModelSource prepare(ModelSource source, OptimizationOptions given) {
              prepared.add(source.name());
              options.add(given);
              return new ModelSource(
                  source.name(),
                  source.version(),
                  optimizedDirectory.resolve(source.name() + ".fake"),
                  source.declaredSignature(),
                  source.parameters());
            }

            @Override
            public OptimizationReport optimize(
                ModelSource source, OptimizationOptions given, MeasurementPlan plan, Path out) {
              throw new UnsupportedOperationException();
            }
          };
      return new Backend() {
        @Override
        public LoadedModel load(ModelSource source) {
          loadedFiles.add(source.file());
          return delegate.load(source);
        }

        @Override
        public String engineVersion() {
          return delegate.engineVersion();
        }

        @Override
        public <T> Optional<T> capability(Class<T> type) {
          return withOptimizer && type == ModelOptimizer.class
              ? Optional.of(type.cast(optimizer))
              : Optional.empty();
        }
      };
    }
  }

  private void start(boolean withOptimizer) {
    backends =
        new BackendRegistry(
            List.of(new OptimizingProvider(withOptimizer)),
            new BackendContext(repository.resolve(".cache")));
    manager =
        new ModelManager(
            new ModelRepository(repository, backends),
            backends,
            DataSize.ofMegabytes(200),
            new FakeResidentMemory(engine, 10 * MB),
            MemoryReclaimer.NONE,
            new FakeTime(),
            workers);
  }

  private Path model(String name, String config) throws IOException {
    Path version = repository.resolve(name).resolve("1");
    FakeBackendProvider.write(version.resolve("model.fake"), "x=FP32 -1,4", "y=FP32 -1,4", MB);
    FakeBackendProvider.write(
        optimizedDirectory.resolve(name + ".fake"), "x=FP32 -1,4", "y=FP32 -1,4", MB);
    if (config != null) {
      Files.writeString(repository.resolve(name).resolve("config.yaml"), config);
    }
    return version;
  }

  @Test
  void aModelWithAnOptimizationBlockLoadsThePreparedSource() throws IOException {
    model(
        "fast",
        "optimization: {level: basic, int8: true, int8_tolerance: 0.2, per_channel: true}\n");
    start(true);
    manager.start().join();

    try (ModelLease lease = manager.acquire("fast", OptionalLong.empty()).join()) {
      assertThat(lease.version().key().name()).isEqualTo("fast");
    }
    assertThat(prepared).containsExactly("fast");
    assertThat(options)
        .containsExactly(new OptimizationOptions(Level.BASIC, true, 0.2, Granularity.PER_CHANNEL));
    assertThat(loadedFiles).containsExactly(optimizedDirectory.resolve("fast.fake"));
  }

  @Test
  void aModelWithoutTheBlockIsNotPrepared() throws IOException {
    Path version = model("plain", null);
    start(true);
    manager.start().join();

    manager.acquire("plain", OptionalLong.empty()).join().close();
    assertThat(prepared).isEmpty();
    assertThat(loadedFiles).containsExactly(version.resolve("model.fake"));
  }

  @Test
  void aBackendWithoutAnOptimizerFailsTheLoadNamingTheModelAndFormat() throws IOException {
    model("wishful", "optimization: {int8: true}\n");
    start(false);
    manager.start().join();

    assertThatThrownBy(() -> manager.acquire("wishful", OptionalLong.empty()).join())
        .hasMessageContaining(
            "model 'wishful' has an optimization block in its config.yaml, but the fake backend"
                + " has no optimizer");
    assertThat(manager.status("wishful").get(0).state()).isEqualTo(ModelState.FAILED);
    assertThat(loadedFiles).isEmpty();
  }
}
