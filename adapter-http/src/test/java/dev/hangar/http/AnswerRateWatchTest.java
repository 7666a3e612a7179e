package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.junit.jupiter.api.Test;

/** The minimum answer rate's rule, on a clock and a scheduler the test moves by hand. */
class AnswerRateWatchTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private long now = 1_000;
  private final List<Check> checks = new ArrayList<>();
  private final Sending connection = new Sending();
  private final CompletableFuture<Void> written = new CompletableFuture<>();
  private final AtomicReference<ClientGoneException> cutOff = new AtomicReference<>();

  @Test
  void aClientThatTakesNothingIsCutOffWhenTheGraceEnds() {
    connection.bytesOut = 7_000; // earlier answers on this keep-alive connection do not count
    AnswerRateWatch watch = watch(1_000);
    watch.start();

    assertThat(checks)
        .singleElement()
        .extracting(check -> check.dueNanos)
        .isEqualTo(1_000 + 5 * SECOND);
    runNextCheck();

    assertThat(connection.getEndPoint().isOpen()).isFalse();
    assertThat(cutOff.get())
        .hasMessage(
            "the answer was cut off: its client took it too slowly, 0 bytes in 5.0 s, under the"
                + " minimum of 1000 bytes a second (--min-body-rate)");
  }

  @Test
  void theBytesSentEarnTimeAtTheMinimumRate() {
    AnswerRateWatch watch = watch(1_000);
    connection.bytesOut += 8_000; // what the sockets' buffers took at once
    watch.start();

    runNextCheck(); // at 5s: 8000 bytes earn 8s
    assertThat(connection.getEndPoint().isOpen()).isTrue();
    assertThat(checks)
        .singleElement()
        .extracting(check -> check.dueNanos)
        .isEqualTo(1_000 + 8 * SECOND);

    connection.bytesOut += 1_500;
    runNextCheck(); // at 8s: 9500 bytes earn 9.5s
    assertThat(connection.getEndPoint().isOpen()).isTrue();
    assertThat(checks)
        .singleElement()
        .extracting(check -> check.dueNanos)
        .isEqualTo(1_000 + 9 * SECOND + SECOND / 2);

    runNextCheck(); // at 9.5s, nothing more: below the minimum
    assertThat(connection.getEndPoint().isOpen()).isFalse();
    assertThat(cutOff.get()).hasMessageContaining("9500 bytes in 9.5 s");
    assertThat(checks).isEmpty();
  }

  @Test
  void anAnswerWrittenInFullCancelsItsCheck() {
    AnswerRateWatch watch = watch(1_000);
    watch.start();

    written.complete(null);

    assertThat(checks).singleElement().extracting(check -> check.cancelled).isEqualTo(true);
    runNextCheck(); // were it run anyway, it would do nothing
    assertThat(connection.getEndPoint().isOpen()).isTrue();
    assertThat(cutOff.get()).isNull();
    assertThat(checks).isEmpty();
  }

  @Test
  void aCheckScheduledAsTheAnswerIsWrittenIsCancelledToo() {
    AnswerRateWatch watch = watch(1_000);
    connection.bytesOut += 8_000;
    watch.start();
    // the last bytes go out, and the answer completes, while the check runs
    connection.onBytesOut = () -> written.complete(null);

    runNextCheck();

    assertThat(checks).singleElement().extracting(check -> check.cancelled).isEqualTo(true);
    assertThat(connection.getEndPoint().isOpen()).isTrue();
  }

  private AnswerRateWatch watch(long minRate) {
    return new AnswerRateWatch(
        connection, new FakeScheduler(), () -> now, new MinimumRate(minRate), written, cutOff::set);
  }

  /** Moves the clock to the first check scheduled and runs it. */
  private void runNextCheck() {
    Check check = checks.remove(0);
    now = check.dueNanos;
    check.task.run();
  }

  /** A check the watch scheduled. */
  private static final class Check {
    final Runnable task;
    final long dueNanos;
    boolean cancelled;

    Check(Runnable task, long dueNanos) {
      this.task = task;
      this.dueNanos = dueNanos;
    }
  }

  /** Keeps what is scheduled in {@link #checks}, for the test to run. */
  private final class FakeScheduler extends AbstractLifeCycle implements Scheduler {
    @Override
    public Task schedule(Runnable task, long delay, TimeUnit units) {
      Check check = new Check(task, now + units.toNanos(delay));
      checks.add(check);
      return () -> {
        check.cancelled = true;
        return true;
      };
    }
  }

  /** A connection whose bytes out the test sets. */
  private static final class Sending extends AbstractConnection {
    long bytesOut;
    Runnable onBytesOut = () -> {};

    Sending() {
      super(new ByteArrayEndPoint(), Runnable::run);
    }

    @Override
    public void onFillable() {}

    @Override
    public long getBytesOut() {
      onBytesOut.run();
      return bytesOut;
    }
  }
}
