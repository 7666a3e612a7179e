package dev.hangar.cli.bench;

import dev.hangar.cli.remote.V2Client.BatchCounts;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where a benchmark sends its requests: core's inference service in this process, or a server over
 * HTTP. A target holds its requests ready-made (encoded once, before anything is timed) and sends
 * them by number.
 */
public interface BenchTarget extends AutoCloseable {
  /** Returns how many distinct prepared requests there are; they are sent round-robin. */
  int requests();

  /**
   * Sends prepared request {@code index}. The future never fails: failures are outcomes.
   *
   * <p>May do the request's work on the calling thread before returning (see {@link
   * #blocksCaller()}).
   */
  CompletableFuture<Outcome> send(int index);

  /**
   * Returns whether {@link #send} may block the calling thread (core's inference service runs the
   * model on the caller when a slot is free; the HTTP target waits for its answer), so an open-loop
   * sender must hand each request to a thread of its own.
   */
  boolean blocksCaller();

  /**
   * Returns the cumulative inference and execution counts of the model, for the average batch size,
   * when the target can tell.
   */
  Optional<BatchCounts> batchCounts();

  /** Releases what the target holds (not the server or the runtime it talks to). */
  @Override
  void close();
}
