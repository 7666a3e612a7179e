package dev.hangar.core.inference;

import dev.hangar.core.config.BatchingConfig;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.health.ComputeTimes;
import dev.hangar.core.health.FailureReason;
import dev.hangar.core.model.LoadedVersion;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.BackendException;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.Tensor;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue and dynamic batcher of one loaded model version.
 *
 * <p>The model has {@code instances} execution slots. A request that finds a slot free and nobody
 * waiting runs at once, on the caller's thread: an idle server adds no delay. While every slot is
 * busy, requests wait in per-priority queues, so batches grow with load. When an execution ends,
 * whatever is queued is dispatched at once to a worker thread, as one batch of up to {@code
 * max_batch_size} rows: the highest-priority, oldest request first, then every queued request whose
 * other dimensions and datatypes match it, in priority and arrival order. A batch of one never runs
 * while compatible requests wait. With {@code max_queue_delay}, a free slot waits that long (from
 * the oldest request's arrival) for a fuller batch; {@code preferred_batch_sizes} cut batches at
 * those sizes. A model without a batch dimension runs one request at a time.
 *
 * <p>Answering a request runs its callbacks (an adapter encodes and writes the response there).
 * With {@code answerHelpers} above 0, a worker hands the answers of each batch to up to that many
 * other workers, at least eight requests to a task, and goes on to the next batch at once:
 * answering spreads over the cores, and a client that does not read holds up no model. With 0 (a
 * machine with no core to spare, where a hand-off costs more than it gains), the worker answers its
 * batch itself before it takes the next. A request run on its caller's thread is answered there.
 *
 * <p>Requests past their deadline are rejected without running; a full queue rejects at once, each
 * priority level's queue holding up to {@code max_queue_size} requests, as Triton's queue policy
 * does, so that a level kept full does not shut out the others. No thread polls or sleeps: dispatch
 * happens when a request arrives, an execution ends, or a timer set for a delay or deadline fires.
 */
final class ModelScheduler {
  private static final System.Logger LOG = System.getLogger(ModelScheduler.class.getName());
  // the fewest answers worth a hand-off to another thread
  private static final int ANSWERS_PER_TASK = 8;
  private final LoadedVersion version;
  private final Executor workers;
  private final int answerHelpers;
  private final ScheduledExecutorService timer;
  private final TimeSource time;
  private final BatchingConfig settings;
  private final boolean batching;
  private final int maxBatchRows;
  private final long maxQueueDelayNanos;
  private final List<Integer> preferredSizesDescending;
  // guards queues, queued, freeSlots and delayedDispatch
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<PendingRequest>[] queues;
  private int queued;
  private int freeSlots;
  private ScheduledFuture<?> delayedDispatch;

  @SuppressWarnings("unchecked")
  ModelScheduler(
      LoadedVersion version,
      Executor workers,
      int answerHelpers,
      ScheduledExecutorService timer,
      TimeSource time) {
    this.version = version;
    this.workers = workers;
    this.answerHelpers = answerHelpers;
    this.timer = timer;
    this.time = time;
    this.settings = version.config().batching();
    this.batching = version.signature().batched() && version.maxBatchSize() > 0;
    this.maxBatchRows = Math.max(1, version.maxBatchSize());
    this.maxQueueDelayNanos = settings.maxQueueDelay().toNanos();
    this.preferredSizesDescending =
        settings.preferredBatchSizes().stream()
            .filter(size -> size <= maxBatchRows)
            .sorted(Comparator.reverseOrder())
            .toList();
    this.queues = new ArrayDeque[settings.priorityLevels()];
    for (int i = 0; i < queues.length; i++) {
      queues[i] = new ArrayDeque<>();
    }
    this.freeSlots = version.config().instances();
  }

  /** Queues a request, or runs it at once on this thread when a slot is free and nobody waits. */
  void submit(PendingRequest pending) {
    if (pending.hasDeadline() && pending.isExpired(time.nanoTime())) {
      // it waited for its model to load past its deadline: it is not run
      expireAll(List.of(pending));
      return;
    }
    List<PendingRequest> runHere = null;
    List<PendingRequest> handOff = null;
    List<PendingRequest> expired = new ArrayList<>(0);
    boolean full = false;
    lock.lock();
    try {
      if (queues[pending.priority - 1].size() >= settings.maxQueueSize()) {
        full = true;
      } else if (freeSlots > 0 && queued == 0 && maxQueueDelayNanos == 0) {
        freeSlots--;
        runHere = List.of(pending);
      } else {
        enqueue(pending);
        if (freeSlots > 0) {
          handOff = takeBatch(time.nanoTime(), expired);
          if (handOff != null) {
            freeSlots--;
          } else {
            scheduleDelayedDispatch();
          }
        }
      }
    } finally {
      lock.unlock();
    }
    if (full) {
      fail(
          pending,
          new QueueFullException(
              version.key().describe()
                  + " has "
                  + settings.maxQueueSize()
                  + " requests queued at priority "
                  + pending.priority
                  + " (max_queue_size, per priority level); retry later"));
      return;
    }
    expireAll(expired);
    if (runHere != null) {
      List<Runnable> answers = execute(runHere);
      // the slot first, so that whatever queued meanwhile need not wait for this answer
      continueAfterExecution(false);
      answers.forEach(Runnable::run);
      return;
    }
    watch(pending);
    if (handOff != null) {
      List<PendingRequest> batch = handOff;
      workers.execute(() -> runAndContinue(batch));
    }
  }

  /** Returns how many requests wait in the queues. */
  int queuedRequests() {
    lock.lock();
    try {
      return queued;
    } finally {
      lock.unlock();
    }
  }

  private void enqueue(PendingRequest pending) {
    pending.enqueuedNanos = time.nanoTime();
    queues[pending.priority - 1].addLast(pending);
    queued++;
  }

  /** Arms the deadline timer and the cancellation hook of a queued request. */
  private void watch(PendingRequest pending) {
    ScheduledFuture<?> deadline = null;
    if (pending.hasDeadline()) {
      long delay = Math.max(0, pending.deadlineNanos - time.nanoTime());
      deadline = timer.schedule(() -> expireIfQueued(pending), delay, TimeUnit.NANOSECONDS);
    }
    ScheduledFuture<?> armed = deadline;
    pending.response.whenComplete(
        (response, failure) -> {
          if (armed != null) {
            armed.cancel(false);
          }
          if (failure instanceof CancellationException) {
            cancel(pending);
          }
        });
  }

  private void cancel(PendingRequest pending) {
    boolean removed;
    lock.lock();
    try {
      removed = remove(pending);
    } finally {
      lock.unlock();
    }
    if (removed) {
      pending.lease.close();
      version
          .statistics()
          .recordFailure(FailureReason.CANCELLED, time.nanoTime() - pending.submittedNanos);
    }
  }

  private void expireIfQueued(PendingRequest pending) {
    long now = time.nanoTime();
    if (!pending.isExpired(now)) {
      // the timer's clock ran ahead of the time source's: look again at the deadline
      timer.schedule(
          () -> expireIfQueued(pending), pending.deadlineNanos - now, TimeUnit.NANOSECONDS);
      return;
    }
    boolean removed;
    lock.lock();
    try {
      removed = remove(pending);
    } finally {
      lock.unlock();
    }
    if (removed) {
      expireAll(List.of(pending));
    }
  }

  private boolean remove(PendingRequest pending) {
    if (queues[pending.priority - 1].remove(pending)) {
      queued--;
      return true;
    }
    return false;
  }

  /** Runs batches on a worker until the queue has nothing ready, then frees the slot. */
  private void runAndContinue(List<PendingRequest> first) {
    List<PendingRequest> batch = first;
    while (batch != null) {
      answer(execute(batch));
      batch = continueAfterExecution(true);
    }
  }

  /** Answers a batch a worker ran: on other workers when there are helpers, else on this one. */
  private void answer(List<Runnable> answers) {
    int tasks = answerTasks(answers.size(), answerHelpers);
    if (tasks == 0) {
      answers.forEach(Runnable::run);
      return;
    }
    int perTask = (answers.size() + tasks - 1) / tasks;
    for (int from = 0; from < answers.size(); from += perTask) {
      List<Runnable> task = answers.subList(from, Math.min(answers.size(), from + perTask));
      try {
        workers.execute(() -> task.forEach(Runnable::run));
      } catch (RejectedExecutionException e) {
        task.forEach(Runnable::run); // the workers are shutting down: no request goes unanswered
      }
    }
  }

  /**
   * Returns how many tasks answer a batch of {@code answers} requests with {@code helpers} other
   * workers: one per {@link #ANSWERS_PER_TASK} answers, at most {@code helpers}.
   */
  static int answerTasks(int answers, int helpers) {
    return Math.min(helpers, (answers + ANSWERS_PER_TASK - 1) / ANSWERS_PER_TASK);
  }

  /**
   * After an execution: takes the next batch and keeps the slot for it, or frees the slot. A
   * caller's thread hands the next batch to a worker and returns to its caller; a worker returns it
   * to run.
   */
  private List<PendingRequest> continueAfterExecution(boolean onWorker) {
    List<PendingRequest> expired = new ArrayList<>(0);
    List<PendingRequest> next;
    lock.lock();
    try {
      next = queued == 0 ? null : takeBatch(time.nanoTime(), expired);
      if (next == null) {
        freeSlots++;
        scheduleDelayedDispatch();
      }
    } finally {
      lock.unlock();
    }
    expireAll(expired);
    if (next != null && !onWorker) {
      List<PendingRequest> batch = next;
      workers.execute(() -> runAndContinue(batch));
      return null;
    }
    return next;
  }

  /** Dispatches what waited for max_queue_delay; runs on the timer thread. */
  private void dispatchDelayed() {
    List<PendingRequest> expired = new ArrayList<>(0);
    List<PendingRequest> batch = null;
    lock.lock();
    try {
      delayedDispatch = null;
      if (freeSlots > 0 && queued > 0) {
        batch = takeBatch(time.nanoTime(), expired);
        if (batch != null) {
          freeSlots--;
        } else {
          scheduleDelayedDispatch();
        }
      }
    } finally {
      lock.unlock();
    }
    expireAll(expired);
    if (batch != null) {
      List<PendingRequest> ready = batch;
      workers.execute(() -> runAndContinue(ready));
    }
  }

  /**
   * Sets a timer for when the oldest waiting request's max_queue_delay ends; call with the lock
   * held.
   */
  private void scheduleDelayedDispatch() {
    if (maxQueueDelayNanos == 0 || queued == 0 || freeSlots == 0 || delayedDispatch != null) {
      return;
    }
    long waitEnd = Long.MAX_VALUE;
    for (ArrayDeque<PendingRequest> queue : queues) {
      for (PendingRequest pending : queue) {
        waitEnd = Math.min(waitEnd, waitEnd(pending));
      }
    }
    long delay = Math.max(0, waitEnd - time.nanoTime());
    delayedDispatch = timer.schedule(this::dispatchDelayed, delay, TimeUnit.NANOSECONDS);
  }

  /**
   * When a request stops waiting for a fuller batch: after max_queue_delay, and never later than
   * half of its own timeout, so that a timeout shorter than the delay does not fail every request
   * that comes alone.
   */
  private long waitEnd(PendingRequest pending) {
    long end = pending.enqueuedNanos + maxQueueDelayNanos;
    if (pending.hasDeadline()) {
      long halfLeft = Math.max(0, (pending.deadlineNanos - pending.enqueuedNanos) / 2);
      end = Math.min(end, pending.enqueuedNanos + halfLeft);
    }
    return end;
  }

  /**
   * Removes and returns the next batch, or null when nothing is ready; expired requests met on the
   * way are moved to {@code expired}. Call with the lock held.
   */
  private List<PendingRequest> takeBatch(long now, List<PendingRequest> expired) {
    PendingRequest first = null;
    for (ArrayDeque<PendingRequest> queue : queues) {
      while (!queue.isEmpty()) {
        PendingRequest head = queue.peekFirst();
        if (head.response.isDone()) {
          queue.pollFirst();
          queued--;
        } else if (head.isExpired(now)) {
          queue.pollFirst();
          queued--;
          expired.add(head);
        } else {
          first = head;
          break;
        }
      }
      if (first != null) {
        break;
      }
    }
    if (first == null) {
      return null;
    }
    if (!batching) {
      remove(first);
      return List.of(first);
    }
    List<PendingRequest> candidates = new ArrayList<>();
    int rows = 0;
    for (ArrayDeque<PendingRequest> queue : queues) {
      for (PendingRequest pending : queue) {
        if (rows == maxBatchRows) {
          break;
        }
        if (pending.response.isDone()
            || pending.isExpired(now)
            || !pending.batchKey.equals(first.batchKey)
            || rows + pending.rows > maxBatchRows) {
          continue;
        }
        candidates.add(pending);
        rows += pending.rows;
      }
    }
    int target = rows;
    boolean preferredReached = false;
    for (int preferred : preferredSizesDescending) {
      if (preferred <= rows) {
        target = preferred;
        preferredReached = true;
        break;
      }
    }
    long waitEnd = Long.MAX_VALUE;
    for (PendingRequest pending : candidates) {
      waitEnd = Math.min(waitEnd, waitEnd(pending));
    }
    boolean waitForMore =
        maxQueueDelayNanos > 0 && rows < maxBatchRows && !preferredReached && now - waitEnd < 0;
    if (waitForMore) {
      return null;
    }
    List<PendingRequest> batch = new ArrayList<>(candidates.size());
    int taken = 0;
    for (PendingRequest pending : candidates) {
      if (batch.isEmpty() || taken + pending.rows <= target) {
        batch.add(pending);
        taken += pending.rows;
        remove(pending);
      }
    }
    return batch;
  }

  /**
   * Runs one batch; returns what completes each of its requests, in the batch's order. Never
   * throws: a batch whose requests were left unanswered would keep the model's slot for good, and
   * every later request to the model would wait forever.
   */
  private List<Runnable> execute(List<PendingRequest> batch) {
    try {
      return run(batch);
    } catch (RuntimeException | Error e) {
      try {
        return failAll(batch, asFailure(e, batch));
      } catch (Error again) {
        // the heap ran out again while failing them: fail them with the error itself, at once
        for (PendingRequest pending : batch) {
          failQuietly(pending, e);
        }
        return List.of();
      }
    }
  }

  /** Fails a request allocating as little as can be, and never throws. */
  private static void failQuietly(PendingRequest pending, Throwable failure) {
    try {
      pending.lease.close();
      pending.response.completeExceptionally(failure);
    } catch (RuntimeException | Error ignored) {
      // nothing more can be done for this request; the others and the model's slot come first
    }
  }

  private List<Runnable> run(List<PendingRequest> batch) {
    long start = time.nanoTime();
    int rows = 0;
    for (PendingRequest pending : batch) {
      rows += pending.rows;
    }
    long inferStart = start;
    List<Tensor> outputs;
    try {
      List<Tensor> inputs = batch.size() == 1 ? batch.get(0).orderedInputs : concatenate(batch);
      inferStart = time.nanoTime();
      outputs = version.model().infer(inputs);
    } catch (RuntimeException | OutOfMemoryError e) {
      if (batch.size() > 1) {
        // one request's values may be at fault (a value refused, an engine error on it): run
        // each alone so that only its request fails
        List<Runnable> answers = new ArrayList<>(batch.size());
        for (PendingRequest pending : batch) {
          answers.addAll(execute(List.of(pending)));
        }
        return answers;
      }
      return failed(batch, rows, start, inferStart, asFailure(e, batch));
    }
    if (batch.size() > 1) {
      for (Tensor output : outputs) {
        if (output.rank() == 0 || output.dimension(0) != rows) {
          // the batch cannot be split back: it fails as a whole, saying why
          return failed(batch, rows, start, inferStart, mismatch(output, rows));
        }
      }
    }
    long end = time.nanoTime();
    List<List<Tensor>> perRequest = split(batch, outputs);
    ComputeTimes times =
        new ComputeTimes(inferStart - start, end - inferStart, time.nanoTime() - end);
    version.statistics().recordExecution(rows, times);
    List<Runnable> answers = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      PendingRequest pending = batch.get(i);
      List<Tensor> mine = perRequest.get(i);
      answers.add(() -> succeed(pending, mine, start, times));
    }
    return answers;
  }

  /** Splits a batch's outputs into each request's rows, in the batch's order. */
  private static List<List<Tensor>> split(List<PendingRequest> batch, List<Tensor> outputs) {
    if (batch.size() == 1) {
      return List.of(outputs);
    }
    List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
    long offset = 0;
    for (PendingRequest pending : batch) {
      List<Tensor> mine = new ArrayList<>(outputs.size());
      for (Tensor output : outputs) {
        mine.add(output.rows(offset, offset + pending.rows));
      }
      offset += pending.rows;
      perRequest.add(mine);
    }
    return perRequest;
  }

  private BackendException mismatch(Tensor output, int rows) {
    return new BackendException(
        "model '"
            + version.key().name()
            + "' returned output '"
            + output.name()
            + "' with "
            + (output.rank() == 0 ? "no batch dimension" : output.dimension(0) + " rows")
            + " for a batch of "
            + rows
            + " rows; is dimension 0 really a batch dimension?");
  }

  /**
   * What a batch's requests fail with: the exception itself, but for a heap that ran out (the
   * batch's tensors were garbage once it failed), which is insufficient resources, not a fault.
   */
  private Throwable asFailure(Throwable e, List<PendingRequest> batch) {
    if (!(e instanceof OutOfMemoryError)) {
      return e;
    }
    long rows = 0;
    for (PendingRequest pending : batch) {
      rows += pending.rows;
    }
    return new HangarException(
        ErrorCategory.INSUFFICIENT_RESOURCES,
        "the server's heap ran out running model '"
            + version.key().name()
            + "' on "
            + (batch.size() == 1 ? "a request" : "a batch of " + batch.size() + " requests")
            + " of "
            + rows
            + " rows (the heap holds at most "
            + DataSize.format(Runtime.getRuntime().maxMemory())
            + "); send smaller requests, or give the server more memory (--memory, or"
            + " HANGAR_HEAP)");
  }

  /** Records an execution that failed, and fails its requests. */
  private List<Runnable> failed(
      List<PendingRequest> batch, int rows, long start, long inferStart, Throwable e) {
    long end = time.nanoTime();
    version
        .statistics()
        .recordExecution(rows, new ComputeTimes(inferStart - start, end - inferStart, 0));
    return failAll(batch, e);
  }

  private List<Runnable> failAll(List<PendingRequest> batch, Throwable failure) {
    List<Runnable> answers = new ArrayList<>(batch.size());
    for (PendingRequest pending : batch) {
      answers.add(() -> fail(pending, failure));
    }
    return answers;
  }

  private List<Tensor> concatenate(List<PendingRequest> batch) {
    List<Tensor> first = batch.get(0).orderedInputs;
    List<Tensor> joined = new ArrayList<>(first.size());
    for (int i = 0; i < first.size(); i++) {
      List<Tensor> parts = new ArrayList<>(batch.size());
      for (PendingRequest pending : batch) {
        parts.add(pending.orderedInputs.get(i));
      }
      joined.add(Tensor.concatenateRows(first.get(i).name(), parts));
    }
    return joined;
  }

  private void succeed(
      PendingRequest pending, List<Tensor> outputs, long start, ComputeTimes times) {
    InferenceResponse response;
    try {
      response =
          new InferenceResponse(
              pending.request.model(),
              version.key().version(),
              pending.request.id(),
              RequestValidator.select(pending.request, outputs),
              false);
    } catch (RuntimeException | Error e) {
      // the request is answered whatever happens: a client must never wait forever
      fail(pending, asFailure(e, List.of(pending)));
      return;
    }
    pending.lease.close();
    version
        .statistics()
        .recordSuccess(
            start - pending.enqueuedNanos, times, time.nanoTime() - pending.submittedNanos);
    if (pending.response.complete(response) && pending.onSuccess != null) {
      try {
        pending.onSuccess.accept(outputs);
      } catch (RuntimeException | Error e) {
        // the request has its answer; the others answered by this task must have theirs too
        LOG.log(Level.WARNING, "after answering a request to " + version.key() + ": " + e, e);
      }
    }
  }

  private void fail(PendingRequest pending, Throwable failure) {
    pending.lease.close();
    version
        .statistics()
        .recordFailure(FailureReason.of(failure), time.nanoTime() - pending.submittedNanos);
    // unwrapped: an adapter reports an unexpected exception as an internal error, without its text
    pending.response.completeExceptionally(failure);
  }

  private void expireAll(List<PendingRequest> expired) {
    long now = time.nanoTime();
    for (PendingRequest pending : expired) {
      fail(
          pending,
          DeadlineExceededException.notRun(
              version.key().name(),
              Duration.ofNanos(now - pending.submittedNanos),
              "",
              Duration.ofNanos(pending.deadlineNanos - pending.submittedNanos)));
    }
  }
}
