package dev.hangar.core.inference;

import dev.hangar.core.model.ModelLease;
import dev.hangar.spi.Tensor;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A validated request waiting in (or running from) a model's queue, with the lease that keeps its
 * model version open until the request completes.
 */
final class PendingRequest {
  final InferenceRequest request;
  final ModelLease lease;
  final int rows;
  final BatchKey batchKey;
  final int priority;
  final long submittedNanos;
  final long deadlineNanos;
  final List<Tensor> orderedInputs;
  final CompletableFuture<InferenceResponse> response = new CompletableFuture<>();
  final Consumer<List<Tensor>> onSuccess;
  long enqueuedNanos;

  PendingRequest(
      InferenceRequest request,
      ModelLease lease,
      List<Tensor> orderedInputs,
      int rows,
      BatchKey batchKey,
      int priority,
      long submittedNanos,
      long dispatchedNanos,
      long deadlineNanos,
      Consumer<List<Tensor>> onSuccess) {
    this.request = request;
    this.lease = lease;
    this.orderedInputs = orderedInputs;
    this.onSuccess = onSuccess;
    this.rows = rows;
    this.batchKey = batchKey;
    this.priority = priority;
    this.submittedNanos = submittedNanos;
    this.deadlineNanos = deadlineNanos;
    this.enqueuedNanos = dispatchedNanos;
  }

  boolean hasDeadline() {
    return deadlineNanos != Long.MAX_VALUE;
  }

  boolean isExpired(long now) {
    return now - deadlineNanos >= 0 && hasDeadline();
  }
}
