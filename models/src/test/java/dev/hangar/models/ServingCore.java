package dev.hangar.models;

import dev.hangar.core.CoreExecutors;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.inference.ResponseCache;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.BackendContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Core assembled in process over a repository with every backend on the class path, as {@code
 * hangar serve} assembles it, for this module's tests and benchmarks.
 */
public final class ServingCore implements AutoCloseable {
  public final CoreExecutors executors = new CoreExecutors();
  public final BackendRegistry backends;
  public final ModelManager manager;
  public final InferenceService inference;

  /** Assembles core over {@code repository} and starts the manager. */
  public ServingCore(Path repository, DataSize budget) {
    backends =
        BackendRegistry.discover(
            ServingCore.class.getClassLoader(),
            new BackendContext(
                Path.of(System.getProperty("hangar.cache.dir", "target/hangar-cache"))));
    manager =
        new ModelManager(
            new ModelRepository(repository, backends),
            backends,
            budget,
            ResidentMemory.forPlatform(),
            MemoryReclaimer.forPlatform(),
            TimeSource.SYSTEM,
            executors.workers());
    manager.start().join();
    inference =
        new InferenceService(
            manager,
            new ResponseCache(DataSize.ofMegabytes(64), TimeSource.SYSTEM),
            executors.workers(),
            InferenceService.answerHelpersForThisMachine(),
            executors.timer(),
            TimeSource.SYSTEM);
  }

  /** Writes {@code repository/name/1/<file>} (a link to {@code model}) and its config. */
  public static void model(Path repository, String name, Path model, String config)
      throws IOException {
    Path version = Files.createDirectories(repository.resolve(name).resolve("1"));
    Files.createLink(version.resolve(model.getFileName()), model);
    Files.writeString(repository.resolve(name).resolve("config.yaml"), config);
  }

  @Override
  public void close() {
    manager.close();
    backends.close();
    executors.close();
  }
}
