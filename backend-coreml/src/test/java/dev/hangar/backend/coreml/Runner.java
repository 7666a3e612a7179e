package dev.hangar.backend.coreml;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Writes specifications to .mlmodel files and loads and runs them through the CoreML backend. */
final class Runner {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final Backend backend;
  private final Path directory;

  Runner(Path directory) {
    this.directory = directory;
    this.backend = new CoreMlBackendProvider().create(context());
  }

  static BackendContext context() {
    String configured = System.getProperty("hangar.cache.dir");
    return new BackendContext(
        configured != null
            ? Path.of(configured)
            : Path.of(System.getProperty("java.io.tmpdir"), "hangar-test-cache"));
  }

  Backend backend() {
    return backend;
  }

  /** Writes the specification to a fresh .mlmodel file and returns its source. */
  ModelSource write(Model model) {
    try {
      Path file =
          Files.createDirectories(directory.resolve("m" + COUNTER.incrementAndGet()))
              .resolve("model.mlmodel");
      Files.write(file, model.toByteArray());
      return ModelSource.of("test_model", 1, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  LoadedModel load(Model model) {
    return backend.load(write(model));
  }

  /** Loads the model, runs it once and returns its outputs. */
  List<Tensor> run(Model model, Tensor... inputs) {
    try (LoadedModel loaded = load(model)) {
      List<Tensor> outputs = loaded.infer(List.of(inputs));
      assertThat(outputs).hasSize(loaded.signature().outputs().size());
      return outputs;
    }
  }

  /** Runs a single-output model and returns its values as floats. */
  float[] runFloats(Model model, Tensor... inputs) {
    return run(model, inputs).get(0).toFloatArray();
  }
}
