package dev.hangar.backend.torchscript;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Run in a fresh JVM by {@link OfflineTest}: records every connection Java's networking is asked to
 * make (a {@link ProxySelector} sees each URL connection before it opens, and sends it to a dead
 * port), finds the backend through {@link ServiceLoader}, loads and runs the sample model, then
 * makes one deliberate connection to show that the recorder works, and writes a report (with the
 * error, when the load fails).
 *
 * <p>Arguments: the cache directory, the model file, the report file.
 */
public final class OfflineLoadProbe {
  private OfflineLoadProbe() {}

  /** Runs the probe. */
  public static void main(String[] args) throws Exception {
    List<String> attempts = new CopyOnWriteArrayList<>();
    ProxySelector.setDefault(
        new ProxySelector() {
          @Override
          public List<Proxy> select(URI uri) {
            attempts.add(uri.toString());
            return List.of(new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 9)));
          }

          @Override
          public void connectFailed(URI uri, SocketAddress address, IOException e) {}
        });
    Properties report = new Properties();
    BackendProvider provider =
        ServiceLoader.load(BackendProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.format().equals("torchscript"))
            .findFirst()
            .orElseThrow();
    long start = System.nanoTime();
    try (Backend backend = provider.create(new BackendContext(Path.of(args[0])))) {
      ModelSource source =
          new ModelSource(
              "quality_predictor_torchscript",
              1,
              Path.of(args[1]),
              Optional.of(SampleModels.signature(10, "ssim", 1)),
              new ModelParameters(Map.of()));
      try (LoadedModel model = backend.load(source)) {
        report.setProperty("load.millis", Long.toString((System.nanoTime() - start) / 1_000_000));
        Tensor output =
            model
                .infer(List.of(Tensor.ofFloats("features", new long[] {1, 10}, new float[10])))
                .get(0);
        report.setProperty("output", Float.toString(output.toFloatArray()[0]));
      }
    } catch (HangarException e) {
      report.setProperty("error.category", e.category().name());
      report.setProperty("error.message", e.getMessage());
    }
    report.setProperty("attempts", String.join(" ", attempts));
    report.setProperty("ai.djl.offline", String.valueOf(System.getProperty("ai.djl.offline")));
    report.setProperty(
        "PYTORCH_LIBRARY_PATH", String.valueOf(System.getProperty("PYTORCH_LIBRARY_PATH")));
    try {
      new URL("http://hangar-offline-probe.invalid/").openConnection().getInputStream().close();
    } catch (IOException expected) {
      // the dead proxy refuses it; what matters is that the selector saw it
    }
    report.setProperty("control", String.join(" ", attempts));
    try (OutputStream out = Files.newOutputStream(Path.of(args[2]))) {
      report.store(out, "OfflineLoadProbe");
    }
  }
}
