package dev.hangar.core.inference;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Remembers the outputs of successful requests, keyed exactly by the loaded instance of the model
 * version that computed them and every input's name, datatype, shape and bytes: two requests share
 * an entry only when their inputs are equal byte for byte (no digest, so no collisions) and the
 * same instance serves them. A version reloaded because its file or config changed is a new
 * instance, so it never answers with its predecessor's outputs; {@link #invalidate} drops an
 * unloaded instance's entries. Bounded by weight, in KiB: an entry weighs its inputs' and outputs'
 * bytes plus 1 KiB of bookkeeping. Entries may carry a time to live, measured on the injected
 * clock. Cached tensors are immutable copies of their own, as are the key's inputs, so no caller
 * can change a cached response, and no entry holds on to the rest of the batch it was computed in.
 *
 * <p>Thread-safe (Caffeine).
 */
public final class ResponseCache {
  private final Cache<Key, Entry> cache;

  /** Creates a cache of the given capacity. */
  public ResponseCache(DataSize capacity, TimeSource time) {
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(Math.max(1, capacity.bytes() >> 10))
            .weigher((Key key, Entry entry) -> entry.weightKib())
            .expireAfter(new PerEntryTimeToLive())
            .ticker(time::nanoTime)
            .executor(Runnable::run)
            .recordStats()
            .build();
  }

  /** The lookup key of a request. Build it with {@link #keyOf}. */
  public static final class Key {
    private final LoadedVersion instance;
    private final List<Tensor> inputs;
    private final int hash;

    private Key(LoadedVersion instance, List<Tensor> inputs) {
      this.instance = instance;
      this.inputs = inputs;
      this.hash = 31 * System.identityHashCode(instance) + inputs.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key that
          && hash == that.hash
          && instance == that.instance
          && inputs.equals(that.inputs);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    private Key copy() {
      List<Tensor> copies = new ArrayList<>(inputs.size());
      for (Tensor input : inputs) {
        copies.add(Tensor.copyOf(input.name(), input.dataType(), input.shape(), input.data()));
      }
      return new Key(instance, List.copyOf(copies));
    }

    private long bytes() {
      long total = 0;
      for (Tensor input : inputs) {
        total += input.byteSize();
      }
      return total;
    }
  }

  private record Entry(List<Tensor> outputs, long timeToLiveNanos, int weightKib) {}

  /** Returns the key of a request to a loaded model version; inputs are compared in name order. */
  public static Key keyOf(LoadedVersion instance, List<Tensor> inputs) {
    List<Tensor> sorted = inputs;
    if (inputs.size() > 1) {
      sorted = new ArrayList<>(inputs);
      sorted.sort(Comparator.comparing(Tensor::name));
    }
    return new Key(instance, List.copyOf(sorted));
  }

  /** Returns the outputs stored under the key, if any (counted as a hit or a miss). */
  public Optional<List<Tensor>> lookup(Key key) {
    Entry entry = cache.getIfPresent(key);
    return entry == null ? Optional.empty() : Optional.of(entry.outputs());
  }

  /** Stores a successful response's outputs, with an optional time to live. */
  public void store(Key key, List<Tensor> outputs, Optional<Duration> timeToLive) {
    long outputBytes = 0;
    for (Tensor output : outputs) {
      outputBytes += output.byteSize();
    }
    long weight = ((key.bytes() + outputBytes) >> 10) + 1;
    // a batched request's outputs are views of its whole batch's: the entry keeps its own rows only
    List<Tensor> copies = new ArrayList<>(outputs.size());
    for (Tensor output : outputs) {
      copies.add(Tensor.copyOf(output.name(), output.dataType(), output.shape(), output.data()));
    }
    Entry entry =
        new Entry(
            List.copyOf(copies),
            timeToLive.map(Duration::toNanos).orElse(Long.MAX_VALUE),
            (int) Math.min(Integer.MAX_VALUE, weight));
    cache.put(key.copy(), entry);
  }

  /** Returns the cache's counters: hits, misses, evictions. */
  public CacheStatistics statistics() {
    CacheStats stats = cache.stats();
    return new CacheStatistics(
        stats.hitCount(), stats.missCount(), stats.evictionCount(), cache.estimatedSize());
  }

  /** Drops every entry of a loaded instance, once it is unloaded: nothing can look them up. */
  public void invalidate(LoadedVersion instance) {
    cache.asMap().keySet().removeIf(key -> key.instance == instance);
  }

  /**
   * The cache's counters.
   *
   * @param hits lookups that found an entry
   * @param misses lookups that found none
   * @param evictions entries dropped for room or expiry
   * @param entries entries held now (an estimate)
   */
  public record CacheStatistics(long hits, long misses, long evictions, long entries) {}

  private static final class PerEntryTimeToLive implements Expiry<Key, Entry> {
    @Override
    public long expireAfterCreate(Key key, Entry entry, long currentTime) {
      return entry.timeToLiveNanos();
    }

    @Override
    public long expireAfterUpdate(Key key, Entry entry, long currentTime, long currentDuration) {
      return entry.timeToLiveNanos();
    }

    @Override
    public long expireAfterRead(Key key, Entry entry, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
