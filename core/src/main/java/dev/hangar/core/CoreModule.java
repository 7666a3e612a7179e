package dev.hangar.core;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.hangar.core.health.HealthMonitor;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.inference.ResponseCache;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.BackendContext;

/**
 * Assembles core for an adapter: the backend registry (from {@link java.util.ServiceLoader} over
 * the given class loader), the repository, the model manager and the inference service. Core
 * classes have plain constructors; this module is the only place they are wired.
 */
public final class CoreModule extends AbstractModule {
  private final ServerSettings settings;
  private final ClassLoader pluginLoader;

  /**
   * Creates the module.
   *
   * @param pluginLoader the class loader backends are found through
   */
  public CoreModule(ServerSettings settings, ClassLoader pluginLoader) {
    this.settings = settings;
    this.pluginLoader = pluginLoader;
  }

  @Override
  protected void configure() {
    bind(ServerSettings.class).toInstance(settings);
    bind(TimeSource.class).toInstance(TimeSource.SYSTEM);
  }

  @Provides
  @Singleton
  CoreExecutors executors() {
    return new CoreExecutors();
  }

  @Provides
  @Singleton
  ResidentMemory residentMemory() {
    return ResidentMemory.forPlatform();
  }

  @Provides
  @Singleton
  MemoryReclaimer memoryReclaimer() {
    return MemoryReclaimer.forPlatform();
  }

  @Provides
  @Singleton
  BackendRegistry backendRegistry() {
    return BackendRegistry.discover(pluginLoader, new BackendContext(settings.cacheDirectory()));
  }

  @Provides
  @Singleton
  ModelRepository modelRepository(BackendRegistry backends) {
    return new ModelRepository(settings.repository(), backends);
  }

  @Provides
  @Singleton
  ModelManager modelManager(
      ModelRepository repository,
      BackendRegistry backends,
      ResidentMemory memory,
      MemoryReclaimer reclaimer,
      TimeSource time,
      CoreExecutors executors) {
    return new ModelManager(
        repository,
        backends,
        settings.memoryBudget(),
        memory,
        reclaimer,
        time,
        executors.workers());
  }

  @Provides
  @Singleton
  HealthMonitor healthMonitor(ModelManager manager, TimeSource time) {
    return new HealthMonitor(manager, time);
  }

  @Provides
  @Singleton
  ResponseCache responseCache(TimeSource time) {
    return new ResponseCache(settings.responseCacheSize(), time);
  }

  @Provides
  @Singleton
  InferenceService inferenceService(
      ModelManager manager, ResponseCache cache, CoreExecutors executors, TimeSource time) {
    return new InferenceService(
        manager,
        cache,
        executors.workers(),
        InferenceService.answerHelpersForThisMachine(),
        executors.timer(),
        time);
  }
}
