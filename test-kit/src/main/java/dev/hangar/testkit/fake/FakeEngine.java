package dev.hangar.testkit.fake;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The state behind {@link FakeBackendProvider}, which a test creates, hands to the provider and
 * controls: memory the fake models hold, gates that hold executions, failures to inject, and a log
 * of what ran. Thread-safe.
 */
public final class FakeEngine {
  private final AtomicLong allocatedBytes = new AtomicLong();
  private final AtomicLong startupBytes = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private final Map<String, Gate> gates = new ConcurrentHashMap<>();
  private final Map<String, Gate> loadGates = new ConcurrentHashMap<>();
  private final Map<String, Throwable> inferFailures = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> loads = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> warmedUp = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> closes = new ConcurrentHashMap<>();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger maxRunning = new AtomicInteger();
  // guards executions
  private final List<Execution> executions = new ArrayList<>();

  /**
   * One run of a fake model.
   *
   * @param model the model name
   * @param rows the rows of the batch
   * @param firstValue the first element of the first input (FP32 inputs; NaN otherwise), to tell
   *     requests apart
   */
  public record Execution(String model, long rows, float firstValue) {}

  /** Returns the bytes the fake models hold now. */
  public long allocatedBytes() {
    return allocatedBytes.get();
  }

  void allocate(long bytes) {
    allocatedBytes.addAndGet(bytes);
  }

  /**
   * Makes the engine take {@code bytes} when it starts (at the backend's first {@code prepare}), as
   * a native runtime's libraries do, and say so as its estimate.
   */
  public void takeOnStart(long bytes) {
    startupBytes.set(bytes);
  }

  long startupBytes() {
    return startupBytes.get();
  }

  void start() {
    if (started.compareAndSet(false, true)) {
      allocate(startupBytes.get());
    }
  }

  /** Returns a gate every execution of {@code model} must pass; it starts closed. */
  public Gate holdExecutions(String model) {
    return gates.computeIfAbsent(model, name -> new Gate());
  }

  /** Returns a gate every load of {@code model} must pass; it starts closed. */
  public Gate holdLoads(String model) {
    return loadGates.computeIfAbsent(model, name -> new Gate());
  }

  /** Makes every later execution of {@code model} throw {@code failure}; null to stop. */
  public void failExecutions(String model, RuntimeException failure) {
    failExecutionsWith(model, failure);
  }

  /**
   * Makes every later execution of {@code model} throw {@code failure}, such as an {@link
   * OutOfMemoryError}; null to stop.
   */
  public void failExecutions(String model, Error failure) {
    failExecutionsWith(model, failure);
  }

  private void failExecutionsWith(String model, Throwable failure) {
    if (failure == null) {
      inferFailures.remove(model);
    } else {
      inferFailures.put(model, failure);
    }
  }

  /** Returns how many times {@code model} was loaded. */
  public int loads(String model) {
    return loads.computeIfAbsent(model, name -> new AtomicInteger()).get();
  }

  /** Returns how many times {@code model} was told its warmup had run. */
  public int warmedUp(String model) {
    return warmedUp.computeIfAbsent(model, name -> new AtomicInteger()).get();
  }

  void warmupDone(String model) {
    warmedUp.computeIfAbsent(model, name -> new AtomicInteger()).incrementAndGet();
  }

  /** Returns how many times {@code model} was closed. */
  public int closes(String model) {
    return closes.computeIfAbsent(model, name -> new AtomicInteger()).get();
  }

  /** Returns the most executions that ran at once. */
  public int maxConcurrentExecutions() {
    return maxRunning.get();
  }

  /** Returns the executions so far, oldest first. */
  public synchronized List<Execution> executions() {
    return List.copyOf(executions);
  }

  /** Returns the executions of one model so far. */
  public synchronized List<Execution> executions(String model) {
    return executions.stream().filter(e -> e.model().equals(model)).toList();
  }

  void loaded(String model) {
    loads.computeIfAbsent(model, name -> new AtomicInteger()).incrementAndGet();
    Gate gate = loadGates.get(model);
    if (gate != null) {
      gate.pass();
    }
  }

  void closed(String model) {
    closes.computeIfAbsent(model, name -> new AtomicInteger()).incrementAndGet();
  }

  void beforeExecution(String model, long rows, float firstValue) {
    synchronized (this) {
      executions.add(new Execution(model, rows, firstValue));
    }
    int now = running.incrementAndGet();
    maxRunning.accumulateAndGet(now, Math::max);
    try {
      Gate gate = gates.get(model);
      if (gate != null) {
        gate.pass();
      }
      Throwable failure = inferFailures.get(model);
      if (failure instanceof Error error) {
        throw error;
      }
      if (failure != null) {
        throw (RuntimeException) failure;
      }
    } catch (RuntimeException | Error e) {
      running.decrementAndGet();
      throw e;
    }
  }

  void afterExecution() {
    running.decrementAndGet();
  }
}
