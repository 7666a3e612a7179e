package dev.hangar.http;

import static java.util.Objects.requireNonNull;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.hangar.core.health.HealthMonitor;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Adds the HTTP adapter to core's object graph; install it next to {@link
 * dev.hangar.core.CoreModule}. {@link HttpServer} is then one {@code getInstance} away; starting
 * and closing it is the caller's (see {@code hangar serve}).
 */
public final class HttpModule extends AbstractModule {
  private final HttpSettings settings;

  /** Creates the module. */
  public HttpModule(HttpSettings settings) {
    this.settings = requireNonNull(settings, "settings is null");
  }

  @Override
  protected void configure() {
    bind(HttpSettings.class).toInstance(settings);
  }

  @Provides
  @Singleton
  PrometheusMeterRegistry meterRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  @Provides
  @Singleton
  HangarMetrics metrics(
      ModelManager manager, InferenceService inference, PrometheusMeterRegistry registry) {
    return new HangarMetrics(manager, inference, registry);
  }

  @Provides
  @Singleton
  HttpServer server(
      ModelManager manager,
      HealthMonitor health,
      InferenceService inference,
      HangarMetrics metrics) {
    return new HttpServer(
        settings,
        new V2Endpoints(manager, health, inference, metrics, settings, serverVersion()),
        metrics.registry());
  }

  /** Returns Hangar's version, as the build recorded it. */
  static String serverVersion() {
    Properties properties = new Properties();
    try (InputStream in = HttpModule.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties.getProperty("version", "development");
  }
}
