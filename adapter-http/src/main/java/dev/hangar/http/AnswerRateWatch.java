package dev.hangar.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes the connection of a client that takes its answer slower than the minimum rate
 * (--min-body-rate) on average, once the answer has had its grace ({@link
 * HttpSettings#BODY_RATE_GRACE}). Without it, a client reading just enough to keep its connection
 * inside the idle timeout holds its answer, and the memory counted for it (--body-memory), for as
 * long as it likes.
 *
 * <p>All the server sees is the bytes it has sent, which are more than the client has read by what
 * the sockets' buffers hold. So a client is cut off only when even the bytes sent fall below the
 * minimum: it surely read less. Where the buffers are large, a client that reads nothing gets their
 * size divided by the minimum rate; the idle timeout closes it sooner, since no more bytes go out.
 *
 * <p>Jetty writes what the buffers do not take as the client reads, with no thread, so nothing of
 * Hangar's runs while a client does not read. The watch runs on the connector's scheduler instead:
 * at the end of the grace, then whenever the average would next fall below the minimum were no more
 * bytes sent. An answer written in full cancels its next check, which would otherwise keep the
 * watch, for as long as the bytes sent earn, in the scheduler's queue. The rule and the grace are
 * Kestrel's (MinResponseDataRate).
 */
final class AnswerRateWatch implements Runnable {
  private final Connection connection;
  private final Scheduler scheduler;
  private final LongSupplier nanoClock;
  private final MinimumRate minRate;
  private final CompletableFuture<Void> written;
  private final Consumer<ClientGoneException> cutOff;
  private final long startNanos;
  private final long bytesOutBefore;
  private volatile Scheduler.Task next;

  /**
   * Prepares to watch an answer about to be written on {@code connection}, whose client must take
   * it at {@code minRate} on average from now, past the grace, until {@code written} completes; a
   * slower client has its connection closed, after {@code cutOff} has been given the reason. Checks
   * run on {@code scheduler}; {@code nanoClock} tells the time, as {@link System#nanoTime}.
   */
  AnswerRateWatch(
      Connection connection,
      Scheduler scheduler,
      LongSupplier nanoClock,
      MinimumRate minRate,
      CompletableFuture<Void> written,
      Consumer<ClientGoneException> cutOff) {
    this.connection = connection;
    this.scheduler = scheduler;
    this.nanoClock = nanoClock;
    this.minRate = minRate;
    this.written = written;
    this.cutOff = cutOff;
    this.startNanos = nanoClock.getAsLong();
    this.bytesOutBefore = connection.getBytesOut();
  }

  /** {@link #AnswerRateWatch} for the answer to {@code request}, on its connector's scheduler. */
  static AnswerRateWatch of(
      Request request,
      MinimumRate minRate,
      CompletableFuture<Void> written,
      Consumer<ClientGoneException> cutOff) {
    return new AnswerRateWatch(
        request.getConnectionMetaData().getConnection(),
        request.getConnectionMetaData().getConnector().getScheduler(),
        System::nanoTime,
        minRate,
        written,
        cutOff);
  }

  /** Starts watching, once the sockets' buffers have taken what they could of the answer. */
  void start() {
    written.whenComplete(
        (done, failure) -> {
          Scheduler.Task task = next;
          if (task != null) {
            task.cancel();
          }
        });
    scheduleIn(HttpSettings.BODY_RATE_GRACE.toNanos() - (nanoClock.getAsLong() - startNanos));
  }

  private void scheduleIn(long nanos) {
    Scheduler.Task task = scheduler.schedule(this, Math.max(0, nanos), TimeUnit.NANOSECONDS);
    next = task;
    if (written.isDone()) {
      task.cancel(); // written while this was scheduled: the cancel above may have missed it
    }
  }

  // runs on the scheduler only, one run at a time: each schedules the next
  @Override
  public void run() {
    if (written.isDone()) {
      return;
    }
    long elapsed = nanoClock.getAsLong() - startNanos;
    long sent = connection.getBytesOut() - bytesOutBefore;
    long dueNanos = minRate.dueNanos(sent);
    if (elapsed < dueNanos) {
      scheduleIn(dueNanos - elapsed);
      return;
    }
    cutOff.accept(
        new ClientGoneException(
            "the answer was cut off: its client took it too slowly, "
                + minRate.shortfall(sent, elapsed)));
    // fails Jetty's pending write, and with it the answer, with the reason above
    connection.getEndPoint().close();
  }
}
