package dev.hangar.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheFilesTest {
  @TempDir Path directory;

  @Test
  void aLockHeldByAnotherThreadOfThisProcessIsWaitedForNotAnError() throws Exception {
    Path file = directory.resolve(".lock");
    try (FileChannel first = CacheFiles.openLock(file);
        FileChannel second = CacheFiles.openLock(file)) {
      FileLock held = CacheFiles.lock(first);
      CompletableFuture<Boolean> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try (FileLock taken = CacheFiles.lock(second)) {
                  return taken.isValid();
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      Thread.sleep(200);
      assertThat(waiting).as("waits while the other thread holds the lock").isNotDone();

      held.release();

      assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
