package dev.hangar.cli;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import dev.hangar.core.CoreExecutors;
import dev.hangar.core.CoreModule;
import dev.hangar.core.ServerSettings;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.repository.BackendRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One assembled Hangar: core's object graph built by Guice from {@link CoreModule} and any extra
 * modules an adapter adds. Closing it unloads every model and stops every thread.
 */
final class HangarRuntime implements AutoCloseable {
  private final Injector injector;
  private final URLClassLoader pluginLoader;

  private HangarRuntime(Injector injector, URLClassLoader pluginLoader) {
    this.injector = injector;
    this.pluginLoader = pluginLoader;
  }

  /**
   * Assembles Hangar with the given settings, backends from the class path and the plugins
   * directory.
   */
  static HangarRuntime create(
      ServerSettings settings, Path pluginDirectory, Module... extraModules) {
    URLClassLoader plugins = pluginLoader(pluginDirectory);
    List<Module> modules = new ArrayList<>();
    modules.add(new CoreModule(settings, plugins));
    modules.addAll(List.of(extraModules));
    return new HangarRuntime(Guice.createInjector(modules), plugins);
  }

  ModelManager manager() {
    return injector.getInstance(ModelManager.class);
  }

  InferenceService inference() {
    return injector.getInstance(InferenceService.class);
  }

  BackendRegistry backends() {
    return injector.getInstance(BackendRegistry.class);
  }

  /**
   * Returns the backend provider that reads {@code file}.
   *
   * @throws UsageException naming the file and the extensions the installed backends read
   */
  dev.hangar.spi.BackendProvider providerFor(Path file) {
    BackendRegistry backends = backends();
    return backends
        .providerFor(file)
        .orElseThrow(
            () ->
                new UsageException(
                    "no installed backend reads "
                        + file
                        + "; the backends read "
                        + backends.fileExtensions()));
  }

  <T> T instance(Class<T> type) {
    return injector.getInstance(type);
  }

  @Override
  public void close() {
    try {
      manager().close();
    } finally {
      backends().close();
      injector.getInstance(CoreExecutors.class).close();
      try {
        pluginLoader.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static URLClassLoader pluginLoader(Path directory) {
    Path chosen = directory != null ? directory : Path.of("plugins");
    List<URL> jars = new ArrayList<>();
    if (Files.isDirectory(chosen)) {
      try (Stream<Path> files = Files.list(chosen)) {
        for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
          jars.add(jar.toUri().toURL());
        }
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException(e);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list plugins in " + chosen, e);
      }
    } else if (directory != null) {
      throw new UsageException("--plugins " + directory + " is not a directory");
    }
    return new URLClassLoader(
        "hangar-plugins", jars.toArray(URL[]::new), HangarRuntime.class.getClassLoader());
  }
}
