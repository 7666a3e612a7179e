package dev.hangar.core.health;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.core.time.TimeSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the health of the server and of every model version: one immutable {@link ModelHealth} per
 * version, built from the model manager's status and the version's statistics.
 */
public final class HealthMonitor {
  private final ModelManager manager;
  private final StatisticsSnapshot empty;

  /** Creates the monitor. */
  public HealthMonitor(ModelManager manager, TimeSource time) {
    this.manager = requireNonNull(manager, "manager is null");
    this.empty = new ModelStatistics(time, dev.hangar.core.config.HealthConfig.DEFAULTS).snapshot();
  }

  /** Returns the health of every model version the manager knows. */
  public List<ModelHealth> models() {
    List<ModelHealth> health = new ArrayList<>();
    for (ModelStatus status : manager.list()) {
      health.add(of(status));
    }
    return health;
  }

  /** Returns the health of one model's versions. */
  public List<ModelHealth> model(String name) {
    List<ModelHealth> health = new ArrayList<>();
    for (ModelStatus status : manager.status(name)) {
      health.add(of(status));
    }
    return health;
  }

  /** Returns liveness, readiness and the degraded versions. */
  public ServerHealth server() {
    List<String> degraded = new ArrayList<>();
    for (ModelHealth model : models()) {
      if (model.verdict() == ModelHealth.Verdict.DEGRADED) {
        degraded.add(model.status().key() + ": " + model.statistics().degradedReason().orElse(""));
      }
    }
    List<String> waiting = manager.notReady();
    return new ServerHealth(true, waiting.isEmpty(), waiting, degraded);
  }

  private ModelHealth of(ModelStatus status) {
    StatisticsSnapshot statistics =
        manager.statistics(status.key()).map(ModelStatistics::snapshot).orElse(empty);
    return ModelHealth.of(status, statistics);
  }
}
