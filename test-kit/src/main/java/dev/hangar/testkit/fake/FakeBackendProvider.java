package dev.hangar.testkit.fake;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * A backend for core tests, reading {@code .fake} files: Java properties that describe a model.
 *
 * <pre>
 * input.x = FP32 -1,4        # inputs, in name order; -1 is a free dimension
 * output.y = FP32 -1,4       # outputs; output i echoes input i (doubled, for FP32)
 * memory = 52428800          # bytes the model holds while loaded (see FakeEngine)
 * kept = 52428800            # of those, bytes the engine keeps once it closes, as allocators do
 * fail = load | warmup       # fail to load, or fail every inference (so warmup fails)
 * fail = rows                # answer several rows with one too few in output 0 (if FP32)
 * </pre>
 *
 * A file that is not such properties fails to load, like a corrupt model.
 */
public final class FakeBackendProvider implements BackendProvider {
  /** The format name. */
  public static final String FORMAT = "fake";

  private final FakeEngine engine;

  /** Creates a provider whose models report to {@code engine}. */
  public FakeBackendProvider(FakeEngine engine) {
    this.engine = engine;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public List<String> fileExtensions() {
    return List.of(".fake");
  }

  @Override
  public Set<String> parameterNames() {
    return Set.of("speed");
  }

  @Override
  public Backend create(BackendContext context) {
    return new Backend() {
      @Override
      public LoadedModel load(ModelSource source) {
        return FakeBackendProvider.this.load(source);
      }

      @Override
      public String engineVersion() {
        return "fake 1";
      }

      @Override
      public void prepare() {
        engine.start();
      }

      @Override
      public long engineMemoryEstimateBytes() {
        return engine.startupBytes();
      }
    };
  }

  /** Writes a fake model file. */
  public static Path write(
      Path file, String inputs, String outputs, long memoryBytes, String... extra)
      throws IOException {
    List<String> lines = new ArrayList<>();
    for (String input : inputs.split(";")) {
      String[] parts = input.trim().split("=", 2);
      lines.add("input." + parts[0].trim() + "=" + parts[1].trim());
    }
    for (String output : outputs.split(";")) {
      String[] parts = output.trim().split("=", 2);
      lines.add("output." + parts[0].trim() + "=" + parts[1].trim());
    }
    lines.add("memory=" + memoryBytes);
    lines.addAll(Arrays.asList(extra));
    Files.createDirectories(file.getParent());
    return Files.write(file, lines);
  }

  private LoadedModel load(ModelSource source) {
    Properties properties = new Properties();
    // only the head holds properties: tests pad fake files to give them a realistic size
    try (java.io.InputStream in = Files.newInputStream(source.file())) {
      String head =
          new String(in.readNBytes(64 * 1024), java.nio.charset.StandardCharsets.ISO_8859_1);
      int end = head.indexOf('\u0000');
      properties.load(new java.io.StringReader(end < 0 ? head : head.substring(0, end)));
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "cannot read fake model " + source.file() + ": " + e.getMessage(),
          e);
    }
    if (properties.getProperty("memory") == null) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, source.file() + " is not a fake model (no memory= line)");
    }
    engine.loaded(source.name());
    source.parameters().integer("speed", 1, 10); // read as a backend reads its settings
    if ("load".equals(properties.getProperty("fail"))) {
      throw new ModelLoadException(
          ErrorCategory.BACKEND_FAILURE, "fake load failure of " + source.file());
    }
    ModelSignature signature =
        ModelSignature.inferBatching(specs(properties, "input."), specs(properties, "output."));
    long memory = Long.parseLong(properties.getProperty("memory").trim());
    engine.allocate(memory);
    String fail = properties.getProperty("fail", "");
    long kept = Long.parseLong(properties.getProperty("kept", "0").trim());
    return new FakeLoadedModel(
        source.name(), signature, memory, kept, engine, fail.equals("warmup"), fail.equals("rows"));
  }

  private static List<TensorSpec> specs(Properties properties, String prefix) {
    return properties.stringPropertyNames().stream()
        .filter(key -> key.startsWith(prefix))
        .sorted()
        .map(
            key -> {
              String[] parts = properties.getProperty(key).trim().split("\\s+");
              long[] shape =
                  parts.length < 2 || parts[1].isBlank()
                      ? new long[0]
                      : Arrays.stream(parts[1].split(",")).mapToLong(Long::parseLong).toArray();
              return new TensorSpec(
                  key.substring(prefix.length()), DataType.fromProtocolName(parts[0]), shape);
            })
        .toList();
  }
}
