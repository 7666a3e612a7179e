package dev.hangar.backend.onnx.optimizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizedModelCacheTest {
  @TempDir Path directory;

  @Test
  void aBuildDeletesTheTemporaryFilesAKilledBuildOfItsKeyLeftBehind() throws IOException {
    OptimizedModelCache cache = new OptimizedModelCache(directory);
    OptimizedModelCache.Key key = new OptimizedModelCache.Key(Map.of("model", "m"));
    OptimizedModelCache.Key other = new OptimizedModelCache.Key(Map.of("model", "n"));
    // as a build killed between writing its model and moving it into place leaves them
    Path leftover = Files.writeString(cache.temporaryFile(key), "half a model");
    Path othersLeftover = Files.writeString(cache.temporaryFile(other), "another key's");

    Path built =
        cache.locked(key, () -> Files.writeString(cache.temporaryFile(key), "a whole model"));

    assertThat(leftover).doesNotExist();
    assertThat(built).hasContent("a whole model");
    assertThat(othersLeftover).as("another key's may be in use by its build").exists();
  }
}
