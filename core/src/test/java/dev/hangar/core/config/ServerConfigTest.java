package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path directory;

  private Path write(String yaml) throws IOException {
    return Files.writeString(directory.resolve("hangar.yaml"), yaml);
  }

  @Test
  void readsEveryKeyAndResolvesPathsAgainstTheFile() throws IOException {
    ServerConfig config =
        ServerConfig.read(
            write(
                "repository: models\nmemory_budget: 750MB\ncache_directory: cache\nresponse_cache_size: 16MB\npoll_interval: 5s\n"));
    assertThat(config.repository()).contains(directory.resolve("models"));
    assertThat(config.memoryBudget()).contains(DataSize.ofMegabytes(750));
    assertThat(config.cacheDirectory()).contains(directory.resolve("cache"));
    assertThat(config.responseCacheSize()).contains(DataSize.ofMegabytes(16));
    assertThat(config.pollInterval()).contains(Duration.ofSeconds(5));
    assertThat(ServerConfig.read(write(""))).isEqualTo(ServerConfig.EMPTY);
  }

  @Test
  void wrongKeysAndValuesNameTheFileAndTheKey() throws IOException {
    assertThatThrownBy(() -> ServerConfig.read(write("memory: 1GB\n")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("hangar.yaml")
        .hasMessageContaining("unknown key 'memory'")
        .hasMessageContaining("did you mean 'memory_budget'");
    assertThatThrownBy(() -> ServerConfig.read(write("memory_budget: lots\n")))
        .hasMessageContaining("'memory_budget' is invalid");
    assertThatThrownBy(() -> ServerConfig.read(write("memory_budget: 500\n")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(
            "hangar.yaml: 'memory_budget' is invalid: '500' has no unit: write 500MB");
    assertThatThrownBy(() -> ServerConfig.read(write("response_cache_size: 64\n")))
        .hasMessageContaining("'response_cache_size' is invalid: '64' has no unit: write 64MB");
    assertThatThrownBy(() -> ServerConfig.read(write("poll_interval: 10ms\n")))
        .hasMessageContaining("'poll_interval' must be at least 100ms");
  }
}
