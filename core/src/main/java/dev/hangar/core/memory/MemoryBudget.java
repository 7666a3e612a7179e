package dev.hangar.core.memory;

import dev.hangar.core.config.DataSize;
import java.util.HashMap;
import java.util.Map;

/**
 * The ledger of the process's memory budget: the server's own baseline plus what each model is
 * accounted for (a reservation while it loads, then its measured size). It decides nothing; the
 * model manager asks it what is accounted and what is free.
 *
 * <p>Thread-safe: every method holds this object's monitor, which guards the accounts.
 *
 * @param <K> what accounts are keyed by
 */
public final class MemoryBudget<K> {
  private final long limitBytes;
  private final Map<K, Long> accounts = new HashMap<>();
  private long baselineBytes;
  private long modelBytes;

  /** Creates a budget of {@code limit}. */
  public MemoryBudget(DataSize limit) {
    this.limitBytes = limit.bytes();
  }

  /** Returns the budget in bytes. */
  public long limitBytes() {
    return limitBytes;
  }

  /** Sets what the server holds before any model: measured once at start. */
  public synchronized void setBaseline(long bytes) {
    baselineBytes = Math.max(0, bytes);
  }

  /** Returns the baseline. */
  public synchronized long baselineBytes() {
    return baselineBytes;
  }

  /** Accounts {@code bytes} to {@code key}, replacing what it had. */
  public synchronized void account(K key, long bytes) {
    Long previous = accounts.put(key, Math.max(0, bytes));
    modelBytes += Math.max(0, bytes) - (previous == null ? 0 : previous);
  }

  /** Removes {@code key}'s account. */
  public synchronized void release(K key) {
    Long previous = accounts.remove(key);
    if (previous != null) {
      modelBytes -= previous;
    }
  }

  /** Returns what {@code key} is accounted for, 0 when nothing. */
  public synchronized long accountOf(K key) {
    return accounts.getOrDefault(key, 0L);
  }

  /** Returns the baseline plus every account. */
  public synchronized long accountedBytes() {
    return baselineBytes + modelBytes;
  }

  /** Returns the sum of the models' accounts. */
  public synchronized long modelBytes() {
    return modelBytes;
  }
}
