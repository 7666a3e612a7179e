package dev.hangar.core.memory;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * What unloading a model gives back to the operating system, per format: the share of the bytes a
 * model was charged that resident memory fell by when it closed. Engines keep some memory after a
 * session closes (allocator caches, and start-up state charged to the first model of a format), so
 * an eviction can free far less than its model was measured to hold; admission plans with the share
 * seen. A format nothing has been seen of is expected to give back all; after that the share
 * follows the last {@value #REMEMBERED} unloads of models charged at least 1 MB, weighted by their
 * size.
 *
 * <p>Thread-safe: the methods hold this object's monitor, which guards the history.
 */
public final class EvictionReturns {
  private static final int REMEMBERED = 8;
  private static final long LEARN_FROM_BYTES = 1L << 20;

  private record Unload(long chargedBytes, long returnedBytes) {}

  private final Map<String, Deque<Unload>> unloads = new HashMap<>();

  /** Returns the share, from 0 to 1, of a model's charged bytes that unloading it gives back. */
  public synchronized double share(String format) {
    Deque<Unload> history = unloads.get(format);
    if (history == null || history.isEmpty()) {
      return 1.0;
    }
    long charged = 0;
    long returned = 0;
    for (Unload unload : history) {
      charged += unload.chargedBytes();
      returned += unload.returnedBytes();
    }
    return returned / (double) charged;
  }

  /** Returns what unloading a model of {@code format} charged {@code chargedBytes} gives back. */
  public long expectedReturn(String format, long chargedBytes) {
    return (long) (Math.max(0, chargedBytes) * share(format));
  }

  /**
   * Records that closing a model charged {@code chargedBytes} took resident memory from {@code
   * residentBefore} to {@code residentAfter}. What other work allocated meanwhile counts against
   * it, so one unload says little; several together say what the format gives back.
   */
  public synchronized void record(
      String format, long chargedBytes, long residentBefore, long residentAfter) {
    if (chargedBytes < LEARN_FROM_BYTES) {
      return;
    }
    long returned = Math.min(chargedBytes, Math.max(0, residentBefore - residentAfter));
    Deque<Unload> history = unloads.computeIfAbsent(format, key -> new ArrayDeque<>());
    history.addLast(new Unload(chargedBytes, returned));
    if (history.size() > REMEMBERED) {
      history.removeFirst();
    }
  }
}
