package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.testing.Harness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryPollerTest {
  @TempDir Path root;

  @Test
  void pollingNoticesAddedModelsAndSurvivesAVanishedRepository() throws IOException {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (Harness harness = new Harness(root.resolve("repo"), DataSize.ofMegabytes(100), 10 * MB);
        RepositoryPoller poller =
            new RepositoryPoller(harness.manager, timer, Duration.ofHours(1))) {
      harness.model("first", 1, 1);
      harness.manager.start().join();
      Path second = harness.model("second", 1, 1);
      assertThatThrownBy(() -> harness.manager.status("second"))
          .isInstanceOf(ModelNotFoundException.class);

      poller.poll();
      assertThatThrownBy(() -> harness.manager.status("second"))
          .as("written less than the quiet period ago")
          .isInstanceOf(ModelNotFoundException.class);
      Files.setLastModifiedTime(
          second,
          FileTime.fromMillis(
              System.currentTimeMillis() - RepositoryPoller.QUIET.toMillis() - 1000));
      poller.poll();

      assertThat(harness.manager.status("second")).hasSize(1);
      Files.move(root.resolve("repo"), root.resolve("moved"));
      poller.poll();
      assertThat(harness.manager.status("first")).as("a failed scan changes nothing").hasSize(1);
    } finally {
      timer.shutdownNow();
    }
  }
}
