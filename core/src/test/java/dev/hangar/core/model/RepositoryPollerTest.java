package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.testing.FakeTime;
import dev.hangar.core.testing.Harness;
import dev.hangar.core.testing.LogLines;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
      List<String> logged =
          LogLines.atInfo(
              RepositoryPoller.class,
              line -> true,
              () -> {
                try {
                  Files.move(root.resolve("repo"), root.resolve("moved"));
                  for (int i = 0; i < 3; i++) {
                    poller.poll();
                  }
                  assertThat(harness.manager.status("first"))
                      .as("a failed scan changes nothing")
                      .hasSize(1);
                  Files.move(root.resolve("moved"), root.resolve("repo"));
                  poller.poll();
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });

      assertThat(logged)
          .as("a repository gone for three scans is said once, and once that it is back")
          .hasSize(2)
          .anyMatch(line -> line.startsWith("WARNING scanning the model repository failed"))
          .anyMatch(line -> line.equals("INFO scanning the model repository works again"));
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void aConfigReplacedByADirectoryKeepsTheServedModelOnWhatItRead() throws IOException {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    try (Harness harness = new Harness(root.resolve("repo"), DataSize.ofMegabytes(100), 10 * MB);
        RepositoryPoller poller =
            new RepositoryPoller(harness.manager, timer, Duration.ofHours(1))) {
      Path model = harness.model("m", 1, 1);
      harness.config("m", "max_batch_size: 8\n");
      harness.manager.start().join();
      Path config = root.resolve("repo/m/config.yaml");
      Files.delete(config);
      Files.createDirectories(config);
      FileTime settled =
          FileTime.fromMillis(
              System.currentTimeMillis() - RepositoryPoller.QUIET.toMillis() - 1000);
      Files.setLastModifiedTime(config, settled);
      Files.setLastModifiedTime(config.getParent(), settled);
      Files.setLastModifiedTime(model, settled);

      poller.poll();

      assertThat(harness.manager.definition("m").orElseThrow().config().maxBatchSize())
          .as("not reloaded with the defaults")
          .contains(8);
      assertThat(harness.manager.status("m")).hasSize(1);
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void anErrorThrownByOneScanIsLoggedAndPollingGoesOn() throws Exception {
    CountDownLatch scansThatThrew = new CountDownLatch(3);
    FakeBackendProvider fake = new FakeBackendProvider(new FakeEngine());
    // an Error from deep in a scan, as an OutOfMemoryError from a huge file was
    BackendProvider failing =
        new BackendProvider() {
          @Override
          public String format() {
            return fake.format();
          }

          @Override
          public List<String> fileExtensions() {
            return fake.fileExtensions();
          }

          @Override
          public boolean accepts(Path file) {
            scansThatThrew.countDown();
            throw new OutOfMemoryError("Java heap space (thrown by the test)");
          }

          @Override
          public Backend create(BackendContext context) {
            return fake.create(context);
          }
        };
    Path repository = root.resolve("repo");
    Files.createDirectories(repository);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    ExecutorService workers = Executors.newCachedThreadPool();
    try (BackendRegistry backends =
            new BackendRegistry(List.of(failing), new BackendContext(root.resolve("cache")));
        ModelManager manager =
            new ModelManager(
                new ModelRepository(repository, backends),
                backends,
                DataSize.ofMegabytes(100),
                () -> 0,
                MemoryReclaimer.NONE,
                new FakeTime(),
                workers);
        RepositoryPoller poller = new RepositoryPoller(manager, timer, Duration.ofMillis(1))) {
      Files.writeString(repository.resolve("bare.fake"), "a file the provider is asked about");
      poller.start();

      assertThat(scansThatThrew.await(30, TimeUnit.SECONDS))
          .as("the scheduled scans go on after one threw an Error")
          .isTrue();
    } finally {
      timer.shutdownNow();
      workers.shutdownNow();
    }
  }
}
