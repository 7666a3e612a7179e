package dev.hangar.core.health;

import java.util.List;

/**
 * The server's liveness and readiness.
 *
 * @param live whether the server is up and able to answer
 * @param ready whether every pinned or start-up model serves its default version
 * @param waitingFor the pinned or start-up models not yet READY, with their state
 * @param degraded the model versions judged DEGRADED, with why
 */
public record ServerHealth(
    boolean live, boolean ready, List<String> waitingFor, List<String> degraded) {
  /** Copies. */
  public ServerHealth {
    waitingFor = List.copyOf(waitingFor);
    degraded = List.copyOf(degraded);
  }
}
