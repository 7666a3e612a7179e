package dev.hangar.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JVM's own meters: heap and non-heap memory by pool, direct buffers, threads, classes, CPU,
 * uptime, and collections and collection time by collector. The memory budget covers the heap as
 * well as the models' native memory, so the heap's share is worth watching.
 *
 * <p>Every meter reads an MXBean at scrape time. None registers a listener (Micrometer's {@code
 * JvmGcMetrics} would), so a server that stops leaves nothing behind to close.
 */
final class JvmMeters {
  private JvmMeters() {}

  static void bindTo(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      FunctionCounter.builder(
              "jvm_gc_collections", collector, GarbageCollectorMXBean::getCollectionCount)
          .description("Collections by this garbage collector since the server started")
          .tag("gc", collector.getName())
          .register(registry);
      FunctionCounter.builder(
              "jvm_gc_collection_seconds", collector, bean -> bean.getCollectionTime() / 1000.0)
          .description(
              "Time this garbage collector spent collecting; for a concurrent collector, time"
                  + " beside the application's threads as well as pauses")
          .tag("gc", collector.getName())
          .register(registry);
    }
  }
}
