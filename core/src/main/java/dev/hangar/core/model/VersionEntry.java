package dev.hangar.core.model;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.health.ModelStatistics;
import dev.hangar.core.repository.ModelVersionFile;
import dev.hangar.spi.HangarException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One version number of one model in the {@link ModelManager}, across its loads. Fields are guarded
 * by the manager's lock but for the volatile ones.
 */
final class VersionEntry {
  final ModelVersionKey key;
  final ModelStatistics statistics;
  ModelState state = ModelState.AVAILABLE;
  String reason;
  HangarException failure;
  // the kind of the last load's failure or refusal (failureKind); null once a load succeeds
  String lastLoadFailure;
  ModelVersionFile file;
  LoadedVersion loaded;
  CompletableFuture<LoadedVersion> loading;
  // the unload requests there had been when the load in progress was asked for by the repository
  // API, which gives way to a later one; -1 for a load a request needs, which does not
  long loadingAfterUnloads;
  boolean reloadRequested;
  // requests of the repository API, so that the last of a load and an unload wins
  long loadRequests;
  long unloadRequests;
  long accountedBytes;
  Duration loadTime;
  Duration warmupTime;
  volatile LoadedVersion ready;
  volatile long lastUsedNanos;
  volatile boolean used;

  VersionEntry(ModelVersionKey key, ModelStatistics statistics) {
    this.key = key;
    this.statistics = statistics;
  }

  /** The version and what it holds, as failures name it: {@code m v1 (20.0MB)}. */
  String describeMemory() {
    return key + " (" + DataSize.format(accountedBytes) + ")";
  }
}
