package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.time.TimeSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link ModelManager}'s models as statuses: what the repository index, {@code hangar models}
 * and readiness show. Read under the manager's lock, which guards the entries.
 */
final class ModelStatuses {
  private final ReentrantLock lock;
  private final Map<String, ModelEntry> models;
  private final TimeSource time;

  ModelStatuses(ReentrantLock lock, Map<String, ModelEntry> models, TimeSource time) {
    this.lock = requireNonNull(lock, "lock is null");
    this.models = requireNonNull(models, "models is null");
    this.time = requireNonNull(time, "time is null");
  }

  /**
   * Returns the status of every model version known, sorted by name and version (highest first).
   */
  List<ModelStatus> list() {
    lock.lock();
    try {
      List<ModelStatus> statuses = new ArrayList<>();
      for (ModelEntry model :
          models.values().stream()
              .sorted(Comparator.comparing((ModelEntry m) -> m.name))
              .toList()) {
        statuses.addAll(statusesOf(model));
      }
      return statuses;
    } finally {
      lock.unlock();
    }
  }

  /** Returns the status of one model's versions; empty when there is no such model. */
  Optional<List<ModelStatus>> of(String name) {
    lock.lock();
    try {
      ModelEntry model = models.get(name);
      return model == null ? Optional.empty() : Optional.of(statusesOf(model));
    } finally {
      lock.unlock();
    }
  }

  /** See {@link ModelManager#notReady()}. */
  List<String> notReady() {
    lock.lock();
    try {
      List<String> waiting = new ArrayList<>();
      for (ModelEntry model : models.values()) {
        if (model.definition == null) {
          // whether it was meant to load at start-up is in what cannot be read: as Triton, a
          // model the server cannot serve keeps it from being ready
          waiting.add(model.name + " (cannot be served: " + model.problem.getMessage() + ")");
          continue;
        }
        boolean required = model.pinned() || model.definition.config().loadAtStartup();
        VersionEntry entry = model.defaultVersion;
        if (required
            && (entry == null
                || (entry.ready == null
                    && (entry.state == ModelState.FAILED || !model.hasServed)))) {
          waiting.add(
              model.name
                  + (entry == null
                      ? ""
                      : " ("
                          + entry.state
                          + (entry.reason == null ? "" : ": " + entry.reason)
                          + ")"));
        }
      }
      waiting.sort(null);
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  private List<ModelStatus> statusesOf(ModelEntry model) {
    if (model.definition == null) {
      return List.of(
          new ModelStatus(
              model.name,
              0,
              Optional.empty(),
              ModelState.FAILED,
              false,
              Optional.of(model.problem.getMessage()),
              0,
              Optional.empty(),
              model.pinned(),
              false,
              0,
              Optional.empty(),
              Optional.empty()));
    }
    long nowNanos = time.nanoTime();
    Instant now = time.now();
    List<ModelStatus> statuses = new ArrayList<>();
    for (VersionEntry entry : model.versions.descendingMap().values()) {
      LoadedVersion loaded = entry.loaded;
      String reason = entry.reason;
      if (model.problem != null) {
        reason =
            (loaded == null
                    ? "changed on disk but cannot be read: "
                    : "changed on disk but cannot be read, serving what it read before: ")
                + model.problem.getMessage();
      }
      statuses.add(
          new ModelStatus(
              model.name,
              entry.key.version(),
              Optional.of(model.definition.format()),
              entry.state,
              entry.ready != null,
              Optional.ofNullable(reason),
              entry.accountedBytes,
              entry.used
                  ? Optional.of(now.minusNanos(nowNanos - entry.lastUsedNanos))
                  : Optional.empty(),
              model.pinned(),
              entry == model.defaultVersion,
              loaded == null ? 0 : loaded.activeLeases(),
              Optional.ofNullable(entry.loadTime),
              Optional.ofNullable(entry.warmupTime)));
    }
    return statuses;
  }
}
