package dev.hangar.core.inference;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.health.FailureReason;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.Tensor;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** The entry point of inference: validates a request and runs it on a leased model version. */
public final class InferenceService {
  private final ModelManager manager;
  private final TimeSource time;

  /** Creates the service. */
  @Inject
  public InferenceService(ModelManager manager, TimeSource time) {
    this.manager = requireNonNull(manager, "manager is null");
    this.time = requireNonNull(time, "time is null");
  }

  /**
   * Runs a request asynchronously.
   *
   * @return a future of the response, failing with a {@link HangarException} whose category says
   *     why
   */
  public CompletableFuture<InferenceResponse> submit(InferenceRequest request) {
    long start = time.nanoTime();
    return manager
        .acquire(request.model(), request.version())
        .thenApply(lease -> run(request, lease, start));
  }

  /**
   * Runs a request and waits for its response.
   *
   * @throws HangarException whose category says why it failed
   */
  public InferenceResponse infer(InferenceRequest request) {
    try {
      return submit(request).get();
    } catch (ExecutionException | CompletionException e) {
      throw rethrow(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HangarException(
          dev.hangar.spi.ErrorCategory.UNAVAILABLE,
          "interrupted while waiting for model '" + request.model() + "'",
          e);
    }
  }

  private InferenceResponse run(InferenceRequest request, ModelLease lease, long start) {
    LoadedVersion version = lease.version();
    try (lease) {
      RequestValidator.validate(request, version);
      long computeStart = time.nanoTime();
      List<Tensor> outputs = version.model().infer(request.inputs());
      long end = time.nanoTime();
      version.statistics().recordExecution(1, 1, end - computeStart);
      version.statistics().recordSuccess(computeStart - start, end - computeStart, end - start);
      return new InferenceResponse(
          request.model(),
          version.key().version(),
          request.id(),
          RequestValidator.select(request, outputs),
          false);
    } catch (RuntimeException e) {
      version.statistics().recordFailure(FailureReason.of(e), time.nanoTime() - start);
      throw e;
    }
  }

  private static RuntimeException rethrow(Throwable cause) {
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    return new HangarException(dev.hangar.spi.ErrorCategory.INTERNAL, String.valueOf(cause), cause);
  }
}
