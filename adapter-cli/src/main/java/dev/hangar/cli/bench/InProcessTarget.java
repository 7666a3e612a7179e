package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import dev.hangar.cli.remote.V2Client.BatchCounts;
import dev.hangar.core.health.FailureReason;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.inference.InferenceService;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.spi.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Core's {@link InferenceService} in this process, called as the HTTP adapter calls it: {@code
 * submit} on the request's thread, through the response cache, the lease and the model's batching
 * scheduler. Errors are counted by core's {@link FailureReason}.
 */
public final class InProcessTarget implements BenchTarget {
  private final InferenceService inference;
  private final ModelManager manager;
  private final ModelVersionKey served;
  private final List<InferenceRequest> requests;
  private final OutputCheck check;
  private final Duration timeout;

  /**
   * Creates the target.
   *
   * @param served the model version the requests go to, for its statistics
   * @param version the version the requests name; empty for the default
   * @param inputs the distinct input sets, sent round-robin
   * @param check compares outputs with expected values; null for no check
   * @param timeout how long one request may take before it counts as a {@code timeout}
   */
  public InProcessTarget(
      InferenceService inference,
      ModelManager manager,
      ModelVersionKey served,
      OptionalLong version,
      List<List<Tensor>> inputs,
      OutputCheck check,
      Duration timeout) {
    this.inference = requireNonNull(inference, "inference is null");
    this.manager = requireNonNull(manager, "manager is null");
    this.served = requireNonNull(served, "served is null");
    this.requests =
        inputs.stream()
            .map(
                set -> {
                  InferenceRequest request = InferenceRequest.of(served.name(), set);
                  return version.isPresent() ? request.withVersion(version.getAsLong()) : request;
                })
            .toList();
    this.check = check;
    this.timeout = requireNonNull(timeout, "timeout is null");
  }

  @Override
  public int requests() {
    return requests.size();
  }

  @Override
  public CompletableFuture<Outcome> send(int index) {
    CompletableFuture<InferenceResponse> response;
    try {
      response = inference.submit(requests.get(index));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failure(e));
    }
    if (!response.isDone()) {
      response = response.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    return response.handle(
        (answer, failure) -> {
          if (failure != null) {
            return failure(failure);
          }
          if (check != null) {
            Optional<String> mismatch = check.mismatch(answer.outputs());
            if (mismatch.isPresent()) {
              return Outcome.failed("mismatch", mismatch.get());
            }
          }
          return Outcome.SUCCESS;
        });
  }

  private static Outcome failure(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return Outcome.failed("timeout", "no answer within the request timeout");
    }
    return Outcome.failed(
        FailureReason.of(cause).name().toLowerCase(Locale.ROOT),
        String.valueOf(cause.getMessage()));
  }

  @Override
  public boolean blocksCaller() {
    return true;
  }

  @Override
  public Optional<BatchCounts> batchCounts() {
    return manager
        .statistics(served)
        .map(
            statistics -> {
              StatisticsSnapshot snapshot = statistics.snapshot();
              return new BatchCounts(snapshot.inferences(), snapshot.executions());
            });
  }

  @Override
  public void close() {}
}
