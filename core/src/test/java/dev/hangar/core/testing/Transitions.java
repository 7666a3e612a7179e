package dev.hangar.core.testing;

import dev.hangar.core.model.ModelState;
import dev.hangar.core.model.ModelTransition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Records the manager's state changes; tests wait on them instead of sleeping. */
public final class Transitions implements Consumer<ModelTransition> {
  // guarded by this
  private final List<ModelTransition> seen = new ArrayList<>();

  @Override
  public synchronized void accept(ModelTransition transition) {
    seen.add(transition);
    notifyAll();
  }

  /** Returns every transition so far. */
  public synchronized List<ModelTransition> all() {
    return List.copyOf(seen);
  }

  /** Returns how many times the model entered the state. */
  public synchronized long count(String model, ModelState state) {
    return seen.stream().filter(t -> t.key().name().equals(model) && t.to() == state).count();
  }

  /** Waits (at most 30 s) until the model has entered the state {@code times} times in all. */
  public synchronized void await(String model, ModelState state, int times) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (count(model, state) < times) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "model " + model + " did not reach " + state + " " + times + " time(s); saw " + seen);
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Waits until the model has entered the state once. */
  public void await(String model, ModelState state) {
    await(model, state, 1);
  }
}
