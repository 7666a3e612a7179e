package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.health.ModelStatistics;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One load of one model version: the engine's model with what serving it needs, and the count of
 * leases held on it. The manager closes the engine's model only after {@link #beginClosing()} and
 * the last lease's release, so no request ever runs on a closed model.
 */
public final class LoadedVersion {
  // the sign bit marks "closing": no new lease; the low bits count the leases held
  private static final int CLOSING = Integer.MIN_VALUE;

  private final ModelVersionKey key;
  private final String format;
  private final ModelConfig config;
  private final LoadedModel model;
  private final ModelSignature signature;
  private final int maxBatchSize;
  private final ModelStatistics statistics;
  private final Object account;
  private final AtomicInteger leases = new AtomicInteger();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  LoadedVersion(
      ModelVersionKey key,
      String format,
      ModelConfig config,
      LoadedModel model,
      ModelSignature signature,
      int maxBatchSize,
      ModelStatistics statistics,
      Object account) {
    this.key = requireNonNull(key, "key is null");
    this.format = requireNonNull(format, "format is null");
    this.config = requireNonNull(config, "config is null");
    this.model = requireNonNull(model, "model is null");
    this.signature = requireNonNull(signature, "signature is null");
    this.maxBatchSize = maxBatchSize;
    this.statistics = requireNonNull(statistics, "statistics is null");
    this.account = requireNonNull(account, "account is null");
  }

  /** The key of this load's account in the memory budget. */
  Object account() {
    return account;
  }

  /** Returns the model and version. */
  public ModelVersionKey key() {
    return key;
  }

  /** Returns the backend format. */
  public String format() {
    return format;
  }

  /** Returns the model's configuration as it was when this version loaded. */
  public ModelConfig config() {
    return config;
  }

  /** Returns the engine's model. Call {@link LoadedModel#infer} only while holding a lease. */
  public LoadedModel model() {
    return model;
  }

  /** Returns the signature served: the model's, with batching off when the config says so. */
  public ModelSignature signature() {
    return signature;
  }

  /** Returns the most rows one execution takes; 0 when the model is not batched. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Returns the statistics of this model version (shared across its loads). */
  public ModelStatistics statistics() {
    return statistics;
  }

  /** Returns the number of leases held. */
  public int activeLeases() {
    return leases.get() & ~CLOSING;
  }

  boolean tryAcquire() {
    while (true) {
      int current = leases.get();
      if (current < 0) {
        return false;
      }
      if (leases.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  void release() {
    if (leases.decrementAndGet() == CLOSING) {
      drained.complete(null);
    }
  }

  /** Refuses new leases from now on; {@link #drained()} completes when the last one is released. */
  void beginClosing() {
    int previous = leases.getAndUpdate(current -> current | CLOSING);
    if (previous == 0) {
      drained.complete(null);
    }
  }

  /**
   * Refuses new leases from now on when none is held, in one step: a lease taken in between cannot
   * slip under a close meant for an idle version.
   *
   * @return whether it was idle and now closes; false when a lease is held
   */
  boolean beginClosingIfIdle() {
    if (leases.compareAndSet(0, CLOSING)) {
      drained.complete(null);
      return true;
    }
    return false;
  }

  boolean isClosing() {
    return leases.get() < 0;
  }

  CompletableFuture<Void> drained() {
    return drained;
  }
}
