package dev.hangar.backend.onnx;

import dev.hangar.backend.onnx.proto.OnnxProto.ModelProto;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fresh ONNX backend per test, and model files written into a directory of the test's own. */
abstract class OnnxFilesTestBase {
  @TempDir Path directory;
  Backend backend;

  @BeforeEach
  void createBackend() {
    backend = new OnnxBackendProvider().create(new BackendContext(directory.resolve("cache")));
  }

  @AfterEach
  void closeBackend() {
    backend.close();
  }

  /** Writes {@code graph} as version 1 of model {@code name}: {@code <name>/1/model.onnx}. */
  Path write(String name, ModelProto graph) throws IOException {
    Path file = Files.createDirectories(directory.resolve(name).resolve("1")).resolve("model.onnx");
    Files.write(file, graph.toByteArray());
    return file;
  }
}
