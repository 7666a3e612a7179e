package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import jakarta.inject.Inject;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backends on the class path, found through {@link ServiceLoader}, and the configured {@link
 * Backend} of each, created on first use. An instance, injected where needed: there is no static
 * registry.
 */
public final class BackendRegistry implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(BackendRegistry.class.getName());

  private final Map<String, BackendProvider> providers;
  private final BackendContext context;
  private final Map<String, Backend> backends = new ConcurrentHashMap<>();

  /**
   * Creates a registry over the given providers.
   *
   * @throws IllegalArgumentException when two providers claim the same format
   */
  @Inject
  public BackendRegistry(List<BackendProvider> providers, BackendContext context) {
    this.context = requireNonNull(context, "context is null");
    Map<String, BackendProvider> byFormat = new LinkedHashMap<>();
    for (BackendProvider provider : providers) {
      BackendProvider previous = byFormat.putIfAbsent(provider.format(), provider);
      if (previous != null) {
        throw new IllegalArgumentException(
            "two backends claim format '"
                + provider.format()
                + "': "
                + previous.getClass().getName()
                + " and "
                + provider.getClass().getName()
                + "; remove one of their jars");
      }
    }
    this.providers = Map.copyOf(byFormat);
  }

  /** Returns a registry of every provider {@link ServiceLoader} finds through {@code loader}. */
  public static BackendRegistry discover(ClassLoader loader, BackendContext context) {
    List<BackendProvider> found = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, loader).forEach(found::add);
    return new BackendRegistry(found, context);
  }

  /** Returns the formats served, sorted. */
  public List<String> formats() {
    return providers.keySet().stream().sorted().toList();
  }

  /** Returns the provider of a format. */
  public Optional<BackendProvider> provider(String format) {
    return Optional.ofNullable(providers.get(format));
  }

  /** Returns the provider that accepts a file, trying formats in name order. */
  public Optional<BackendProvider> providerFor(Path file) {
    return formats().stream().map(providers::get).filter(p -> p.accepts(file)).findFirst();
  }

  /** Returns every file extension some backend reads. */
  public List<String> fileExtensions() {
    return formats().stream().flatMap(f -> providers.get(f).fileExtensions().stream()).toList();
  }

  /**
   * Returns the backend of a format, creating it on first use.
   *
   * @throws IllegalArgumentException when no provider serves the format
   */
  public Backend backend(String format) {
    return backends.computeIfAbsent(
        format,
        name -> {
          BackendProvider provider =
              provider(name)
                  .orElseThrow(
                      () -> new IllegalArgumentException("no backend for format '" + name + "'"));
          Backend backend = provider.create(context);
          LOG.log(Level.DEBUG, "created backend {0} ({1})", name, backend.engineVersion());
          return backend;
        });
  }

  /** Closes every backend created. Call after closing every model. */
  @Override
  public void close() {
    for (Backend backend : backends.values()) {
      try {
        backend.close();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "backend failed to close: " + e.getMessage(), e);
      }
    }
    backends.clear();
  }
}
