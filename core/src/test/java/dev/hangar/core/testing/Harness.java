package dev.hangar.core.testing;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.inference.ResponseCache;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.spi.BackendContext;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Core wired to the fake backend, a fake clock and fake resident memory, over a temporary
 * repository.
 */
public final class Harness implements AutoCloseable {
  public static final long MB = 1L << 20;

  public final Path repository;
  public final FakeEngine engine = new FakeEngine();
  public final FakeTime time = new FakeTime();
  public final FakeResidentMemory memory;
  public final BackendRegistry backends;
  public final ModelManager manager;
  public final InferenceService inference;
  public final ResponseCache cache;
  public final ExecutorService workers = Executors.newCachedThreadPool();
  public final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  public Harness(Path repository, DataSize budget, long baselineBytes) {
    this.repository = repository;
    this.memory = new FakeResidentMemory(engine, baselineBytes);
    this.backends =
        new BackendRegistry(
            List.of(new FakeBackendProvider(engine)),
            new BackendContext(repository.resolve(".cache")));
    this.manager =
        new ModelManager(
            new ModelRepository(repository, backends),
            backends,
            budget,
            memory,
            MemoryReclaimer.NONE,
            time,
            workers);
    this.cache = new ResponseCache(DataSize.ofMegabytes(64), time);
    // helpers whatever the machine's cores, so that answering on other workers is what is tested
    this.inference = new InferenceService(manager, cache, workers, 2, timer, time);
  }

  /**
   * Writes {@code <name>/<version>/model.fake} echoing one FP32 [-1, 4] tensor and holding {@code
   * megabytes} once loaded. The file is padded (sparsely) to half that size, so that the manager's
   * default estimate (overhead plus twice the file) covers what the model holds, as it would for a
   * real engine.
   */
  public Path model(String name, long version, long megabytes, String... extra) throws IOException {
    Path file =
        FakeBackendProvider.write(
            repository.resolve(name).resolve(Long.toString(version)).resolve("model.fake"),
            "x=FP32 -1,4",
            "y=FP32 -1,4",
            megabytes * MB,
            extra);
    try (RandomAccessFile padded = new RandomAccessFile(file.toFile(), "rw")) {
      padded.setLength(Math.max(padded.length(), megabytes * MB / 2));
    }
    return file;
  }

  /** Writes a model's config.yaml. */
  public void config(String name, String yaml) throws IOException {
    Files.createDirectories(repository.resolve(name));
    Files.writeString(repository.resolve(name).resolve("config.yaml"), yaml);
  }

  @Override
  public void close() {
    manager.close();
    backends.close();
    workers.shutdownNow();
    timer.shutdownNow();
  }
}
