package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import dev.hangar.cli.bench.LevelResult.ClientLag;
import dev.hangar.cli.bench.LevelResult.Latencies;
import dev.hangar.cli.remote.V2Client.BatchCounts;
import dev.hangar.core.config.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a {@link BenchTarget} at one concurrency or one request rate and measures it.
 *
 * <ul>
 *   <li><b>Concurrency</b> (closed loop): N threads, each sending its next request when its last
 *       one is answered, so N requests are outstanding at all times. Latency runs from send to
 *       answer.
 *   <li><b>Rate</b> (open loop): one sender follows a fixed arrival schedule (constant intervals,
 *       or exponential ones for a Poisson process) whatever the answers do. Latency runs from each
 *       request's <em>intended</em> send time, so a sender or server that falls behind cannot hide
 *       the wait (no coordinated omission). How late the sender was is measured too: more than a
 *       tenth of a window behind its schedule at a window's end, or made to wait by the
 *       outstanding-request limit, the result says it did not keep up (the load offered was lower
 *       than asked); a p99 send delay beyond {@link #LATE} is reported as late sends.
 * </ul>
 *
 * After a warmup, measurement windows follow one another until the throughputs of the last three
 * are each within the stability tolerance of their mean, or the maximum number of windows has run.
 * The result comes from the last three windows (fewer when fewer ran). Latencies are recorded in
 * HdrHistogram {@link Recorder}s (nanoseconds, three significant digits), swapped at each window's
 * end.
 */
public final class LoadGenerator {
  /**
   * The send delay beyond which (at the 99th percentile) the open-loop sender's requests count as
   * late: arrivals burstier than the schedule, though the rate may still be kept.
   */
  public static final Duration LATE = Duration.ofMillis(2);

  private static final int STABLE_WINDOWS = 3;

  /** Closed loop at a concurrency, or open loop at a rate. */
  public enum Mode {
    CONCURRENCY,
    RATE
  }

  /** The arrival schedule of rate mode. */
  public enum Distribution {
    /** Requests at equal intervals. */
    CONSTANT,
    /** Exponentially distributed intervals (a Poisson process), from a fixed seed. */
    POISSON
  }

  /**
   * One load to measure.
   *
   * @param mode concurrency or rate
   * @param value requests outstanding, or requests per second
   */
  public record Level(Mode mode, double value) {
    /** The most clients a closed loop runs: each is a thread. */
    public static final int MAX_CONCURRENCY = 10_000;

    /** The lowest rate: below it, a level's windows would hold no request. */
    public static final double MIN_RATE = 0.1;

    /** The highest rate: past it, one sender cannot keep a schedule. */
    public static final double MAX_RATE = 10_000_000;

    /** Validates. */
    public Level {
      requireNonNull(mode, "mode is null");
      if (mode == Mode.CONCURRENCY && !(value >= 1 && value <= MAX_CONCURRENCY)) {
        throw new IllegalArgumentException(
            "a concurrency must be from 1 to " + MAX_CONCURRENCY + ", got " + valueText(value));
      }
      if (mode == Mode.RATE && !(value >= MIN_RATE && value <= MAX_RATE)) {
        throw new IllegalArgumentException(
            "a rate must be from " + MIN_RATE + " to 10000000 a second, got " + valueText(value));
      }
    }

    /** Returns the value as written: {@code 8}, {@code 500} or {@code 12.5}. */
    public String valueText() {
      return valueText(value);
    }

    private static String valueText(double value) {
      return value == Math.rint(value) && Math.abs(value) < 1e15
          ? Long.toString((long) value)
          : String.format(Locale.ROOT, "%s", value);
    }

    /** Returns {@code concurrency 8} or {@code rate 500/s}. */
    public String label() {
      return mode == Mode.CONCURRENCY ? "concurrency " + valueText() : "rate " + valueText() + "/s";
    }
  }

  /**
   * How to measure.
   *
   * @param warmup how long to run before measuring
   * @param window the length of one measurement window
   * @param stabilityPercent how far (in percent of their mean) the last three windows' throughputs
   *     may be apart
   * @param maxWindows the most windows to run
   * @param batchSize rows per request, which throughput counts as inferences
   * @param maxOutstanding in rate mode, the most requests in flight; beyond it the sender waits
   * @param distribution the arrival schedule of rate mode
   * @param drainTimeout how long stopping waits for requests still in flight
   */
  public record Settings(
      Duration warmup,
      Duration window,
      double stabilityPercent,
      int maxWindows,
      int batchSize,
      int maxOutstanding,
      Distribution distribution,
      Duration drainTimeout) {
    /** Validates. */
    public Settings {
      requireNonNull(warmup, "warmup is null");
      requireNonNull(window, "window is null");
      requireNonNull(distribution, "distribution is null");
      requireNonNull(drainTimeout, "drainTimeout is null");
      if (warmup.isNegative()) {
        throw new IllegalArgumentException("the warmup cannot be negative");
      }
      if (window.toMillis() < 10) {
        throw new IllegalArgumentException(
            "a window (--window) must be at least 10ms, got " + Durations.format(window));
      }
      if (!(stabilityPercent > 0)) {
        throw new IllegalArgumentException("the stability tolerance must be positive");
      }
      if (maxWindows < 1 || batchSize < 1 || maxOutstanding < 1) {
        throw new IllegalArgumentException(
            "max windows, batch size and max outstanding must be at least 1");
      }
    }
  }

  /** Hears of progress; called on the measuring thread. */
  public interface Listener {
    /** The warmup of a level begins. */
    void warmingUp(Level level);

    /** Window {@code index} (from 1) of a level ended with this throughput (inferences/s). */
    void window(Level level, int index, double throughput);
  }

  private final BenchTarget target;
  private final Settings settings;

  /** Creates a generator of load on {@code target}. */
  public LoadGenerator(BenchTarget target, Settings settings) {
    this.target = requireNonNull(target, "target is null");
    this.settings = requireNonNull(settings, "settings is null");
  }

  /** Measures one level: warmup, then windows until stable or the maximum. */
  public LevelResult run(Level level, Listener listener) throws InterruptedException {
    Measurement measurement = new Measurement();
    Driver driver =
        level.mode() == Mode.CONCURRENCY
            ? new ClosedLoop((int) Math.round(level.value()), measurement)
            : new OpenLoop(level.value(), measurement);
    driver.start();
    try {
      listener.warmingUp(level);
      sleepUntil(System.nanoTime() + settings.warmup().toNanos());
      measurement.latency.getIntervalHistogram();
      measurement.sendDelay.getIntervalHistogram();
      Map<String, Long> errorsBefore = measurement.errorCounts();
      long blockedBefore = measurement.blocked.sum();
      Optional<BatchCounts> batchesBefore = target.batchCounts();
      List<Window> windows = new ArrayList<>();
      long start = System.nanoTime();
      for (int index = 1; index <= settings.maxWindows(); index++) {
        sleepUntil(start + settings.window().toNanos());
        long end = System.nanoTime();
        Histogram latency = measurement.latency.getIntervalHistogram();
        Histogram delay = measurement.sendDelay.getIntervalHistogram();
        Map<String, Long> errorsNow = measurement.errorCounts();
        long blockedNow = measurement.blocked.sum();
        long behind = driver.behindNanos(end);
        Optional<BatchCounts> batchesNow = target.batchCounts();
        Window window =
            new Window(
                end - start,
                latency,
                delay,
                difference(errorsNow, errorsBefore),
                blockedNow - blockedBefore,
                behind,
                batchesBefore,
                batchesNow);
        windows.add(window);
        listener.window(level, index, window.throughput(settings.batchSize()));
        errorsBefore = errorsNow;
        blockedBefore = blockedNow;
        batchesBefore = batchesNow;
        start = end;
        if (isStable(windows)) {
          break;
        }
      }
      return result(level, windows, measurement);
    } finally {
      driver.stop();
    }
  }

  private boolean isStable(List<Window> windows) {
    if (windows.size() < STABLE_WINDOWS) {
      return false;
    }
    List<Double> last =
        windows.subList(windows.size() - STABLE_WINDOWS, windows.size()).stream()
            .map(window -> window.throughput(settings.batchSize()))
            .toList();
    return isStable(last, settings.stabilityPercent());
  }

  /** Whether every throughput is within {@code percent} of their mean (and the mean is not 0). */
  static boolean isStable(List<Double> throughputs, double percent) {
    double mean = throughputs.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    if (mean <= 0) {
      return false;
    }
    return throughputs.stream().allMatch(value -> Math.abs(value - mean) <= mean * percent / 100);
  }

  private LevelResult result(Level level, List<Window> windows, Measurement measurement) {
    int reported = Math.min(STABLE_WINDOWS, windows.size());
    List<Window> last = windows.subList(windows.size() - reported, windows.size());
    Histogram latency = new Histogram(3);
    Histogram delay = new Histogram(3);
    Map<String, Long> errors = new HashMap<>();
    long nanos = 0;
    long blocked = 0;
    long behind = 0;
    for (Window window : last) {
      latency.add(window.latency);
      delay.add(window.delay);
      window.errors.forEach((kind, count) -> errors.merge(kind, count, Long::sum));
      nanos += window.nanos;
      blocked += window.blocked;
      behind = Math.max(behind, window.behind);
    }
    double seconds = nanos / 1e9;
    long requests = latency.getTotalCount();
    Latencies latencies =
        requests == 0
            ? Latencies.NONE
            : new Latencies(
                millis(latency.getValueAtPercentile(50)),
                millis(latency.getValueAtPercentile(90)),
                millis(latency.getValueAtPercentile(95)),
                millis(latency.getValueAtPercentile(99)),
                millis(latency.getMaxValue()),
                latency.getMean() / 1e6);
    OptionalDouble averageBatch = OptionalDouble.empty();
    Optional<BatchCounts> before = last.get(0).batchesBefore;
    Optional<BatchCounts> after = last.get(last.size() - 1).batchesAfter;
    if (before.isPresent() && after.isPresent()) {
      averageBatch = after.get().averageSince(before.get());
    }
    Optional<ClientLag> lag = Optional.empty();
    if (level.mode() == Mode.RATE) {
      double p99 = delay.getTotalCount() == 0 ? 0 : millis(delay.getValueAtPercentile(99));
      double max = delay.getTotalCount() == 0 ? 0 : millis(delay.getMaxValue());
      double behindMs = millis(behind);
      boolean keptUp = blocked == 0 && behind <= settings.window().toNanos() / 10;
      lag = Optional.of(new ClientLag(p99, Math.max(max, behindMs), blocked, behindMs, keptUp));
    }
    Map<String, String> examples = new HashMap<>();
    errors.keySet().forEach(kind -> examples.put(kind, measurement.examples.get(kind)));
    return new LevelResult(
        level,
        requests * settings.batchSize() / seconds,
        requests / seconds,
        requests,
        latencies,
        errors,
        examples,
        averageBatch,
        windows.size(),
        reported,
        windows.size() >= STABLE_WINDOWS && isStable(windows),
        windows.stream().map(window -> window.throughput(settings.batchSize())).toList(),
        lag);
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  private static Map<String, Long> difference(Map<String, Long> now, Map<String, Long> before) {
    Map<String, Long> delta = new HashMap<>();
    now.forEach(
        (kind, count) -> {
          long change = count - before.getOrDefault(kind, 0L);
          if (change > 0) {
            delta.put(kind, change);
          }
        });
    return delta;
  }

  /** Waits for time itself to pass: the quantity a benchmark measures in. */
  private static void sleepUntil(long deadline) throws InterruptedException {
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private CompletableFuture<Outcome> safeSend(int index) {
    try {
      return target.send(index);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(Outcome.failed("internal", e.toString()));
    }
  }

  /** One measurement window. */
  private record Window(
      long nanos,
      Histogram latency,
      Histogram delay,
      Map<String, Long> errors,
      long blocked,
      long behind,
      Optional<BatchCounts> batchesBefore,
      Optional<BatchCounts> batchesAfter) {
    double throughput(int batchSize) {
      return latency.getTotalCount() * (double) batchSize / (nanos / 1e9);
    }
  }

  /** What every sender records into; safe for any number of recording threads. */
  private static final class Measurement {
    final Recorder latency = new Recorder(3);
    final Recorder sendDelay = new Recorder(3);
    final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, String> examples = new ConcurrentHashMap<>();
    final LongAdder blocked = new LongAdder();

    void record(long nanos, Outcome outcome) {
      if (outcome.ok()) {
        latency.recordValue(Math.max(1, nanos));
        return;
      }
      errors.computeIfAbsent(outcome.errorKind(), kind -> new LongAdder()).increment();
      examples.putIfAbsent(outcome.errorKind(), String.valueOf(outcome.detail()));
    }

    Map<String, Long> errorCounts() {
      Map<String, Long> counts = new HashMap<>();
      errors.forEach((kind, count) -> counts.put(kind, count.sum()));
      return counts;
    }
  }

  private interface Driver {
    void start();

    /** How far behind its schedule the sender is at {@code now}; 0 for a closed loop. */
    long behindNanos(long now);

    void stop() throws InterruptedException;
  }

  /** N threads, one request outstanding each. */
  private final class ClosedLoop implements Driver {
    private final int concurrency;
    private final Measurement measurement;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();
    private volatile boolean stopping;

    ClosedLoop(int concurrency, Measurement measurement) {
      this.concurrency = concurrency;
      this.measurement = measurement;
    }

    @Override
    public long behindNanos(long now) {
      return 0;
    }

    @Override
    public void start() {
      for (int i = 0; i < concurrency; i++) {
        Thread thread = new Thread(this::loop, "hangar-bench-client-" + (i + 1));
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
      }
    }

    private void loop() {
      int requests = target.requests();
      while (!stopping) {
        int index = (int) (sequence.getAndIncrement() % requests);
        long start = System.nanoTime();
        Outcome outcome;
        try {
          outcome = safeSend(index).join();
        } catch (RuntimeException e) {
          outcome = Outcome.failed("internal", e.toString());
        }
        measurement.record(System.nanoTime() - start, outcome);
      }
    }

    @Override
    public void stop() throws InterruptedException {
      stopping = true;
      long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
      for (Thread thread : threads) {
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        thread.join(left);
      }
    }
  }

  /** One sender on a fixed schedule; answers arrive on whatever thread completes them. */
  private final class OpenLoop implements Driver {
    private final double rate;
    private final Measurement measurement;
    private final Semaphore outstanding = new Semaphore(settings.maxOutstanding());
    private final ExecutorService requestThreads;
    private final Thread sender;
    private volatile boolean stopping;
    // the intended time of the next send, written by the sender, read at each window's end
    private volatile long next = Long.MAX_VALUE;

    OpenLoop(double rate, Measurement measurement) {
      this.rate = rate;
      this.measurement = measurement;
      AtomicInteger count = new AtomicInteger();
      // a target that blocks its caller gets a thread per request in flight
      this.requestThreads =
          target.blocksCaller()
              ? Executors.newCachedThreadPool(
                  task -> {
                    Thread thread =
                        new Thread(task, "hangar-bench-request-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                  })
              : null;
      this.sender = new Thread(this::loop, "hangar-bench-sender");
      this.sender.setDaemon(true);
    }

    @Override
    public void start() {
      sender.start();
    }

    @Override
    public long behindNanos(long now) {
      long intended = next;
      return intended == Long.MAX_VALUE ? 0 : Math.max(0, now - intended);
    }

    private void loop() {
      Random random = new Random(42);
      int requests = target.requests();
      double meanInterval = 1e9 / rate;
      long origin = System.nanoTime();
      double offset = 0;
      long sequence = 0;
      while (!stopping) {
        long intended = origin + (long) offset;
        next = intended;
        long wait = intended - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
          continue;
        }
        if (!outstanding.tryAcquire()) {
          measurement.blocked.increment();
          if (!acquire()) {
            return;
          }
        }
        measurement.sendDelay.recordValue(Math.max(0, System.nanoTime() - intended));
        int index = (int) (sequence++ % requests);
        CompletableFuture<Outcome> answer =
            requestThreads == null
                ? safeSend(index)
                : CompletableFuture.supplyAsync(() -> safeSend(index), requestThreads)
                    .thenCompose(Function.identity());
        answer.whenComplete(
            (outcome, failure) -> {
              measurement.record(
                  System.nanoTime() - intended,
                  outcome != null ? outcome : Outcome.failed("internal", String.valueOf(failure)));
              outstanding.release();
            });
        offset +=
            settings.distribution() == Distribution.CONSTANT
                ? meanInterval
                : -Math.log(1 - random.nextDouble()) * meanInterval;
      }
    }

    /** Waits for a free slot; false when stopping. */
    private boolean acquire() {
      try {
        while (!stopping) {
          if (outstanding.tryAcquire(10, TimeUnit.MILLISECONDS)) {
            return true;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return false;
    }

    @Override
    public void stop() throws InterruptedException {
      stopping = true;
      LockSupport.unpark(sender); // at a low rate it waits seconds for its next send
      sender.join();
      int permits = settings.maxOutstanding();
      if (outstanding.tryAcquire(
          permits, settings.drainTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
        outstanding.release(permits);
      }
      if (requestThreads != null) {
        requestThreads.shutdown();
      }
    }
  }
}
