package dev.hangar.core.inference;

import static dev.hangar.core.testing.Harness.MB;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.health.FailureReason;
import dev.hangar.core.health.StatisticsSnapshot;
import dev.hangar.core.model.ModelVersionKey;
import dev.hangar.core.testing.Harness;
import dev.hangar.spi.BackendException;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.Tensor;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine.Execution;
import dev.hangar.testkit.fake.Gate;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-model scheduler through the inference service, on the fake backend, with gates. */
class SchedulerTest {
  @TempDir Path root;
  private Harness harness;
  private final ExecutorService callers = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() {
    harness = new Harness(root, DataSize.ofMegabytes(500), 10 * MB);
  }

  @AfterEach
  void tearDown() {
    callers.shutdownNow();
    harness.close();
  }

  private void model(String name, String config) throws IOException {
    harness.model(name, 1, 1);
    // loaded at start, so that the fake clock never moves while a request waits for a load
    harness.config(name, "warmup: {enabled: false}\nload_at_startup: true\n" + config);
  }

  private static Tensor rows(int count, float first) {
    float[] values = new float[count * 4];
    for (int i = 0; i < values.length; i++) {
      values[i] = first + i;
    }
    return Tensor.ofFloats("x", new long[] {count, 4}, values);
  }

  private static InferenceRequest request(String model, Tensor input) {
    return InferenceRequest.of(model, List.of(input));
  }

  /** Starts a request on another thread; with a free slot it runs there and blocks at the gate. */
  private CompletableFuture<InferenceResponse> blocker(String model, Gate gate) {
    CompletableFuture<InferenceResponse> response =
        CompletableFuture.supplyAsync(
                () -> harness.inference.submit(request(model, rows(1, -1000))), callers)
            .thenCompose(f -> f);
    gate.awaitArrivals(1);
    return response;
  }

  /** Runs a request of one row starting at {@code first}; returns its answer's first value. */
  private float answerTo(String model, float first) throws Exception {
    return harness
        .inference
        .submit(request(model, rows(1, first)))
        .get(30, SECONDS)
        .outputs()
        .get(0)
        .toFloatArray()[0];
  }

  private List<Execution> executions(String model) {
    return harness.engine.executions(model);
  }

  private StatisticsSnapshot statistics(String model) {
    return harness.manager.statistics(new ModelVersionKey(model, 1)).orElseThrow().snapshot();
  }

  @Test
  void anIdleModelRunsARequestAtOnceOnTheCallersThread() throws IOException {
    model("m", "max_batch_size: 8\n");
    harness.manager.start().join();
    CompletableFuture<InferenceResponse> response =
        harness.inference.submit(request("m", rows(2, 1)));
    assertThat(response).as("no queue, no hand-off: complete when submit returns").isDone();
    assertThat(response.join().outputs().get(0).toFloatArray()).startsWith(2, 4, 6);
  }

  @Test
  void requestsQueuedWhileTheSlotIsBusyRunAsOneBatch() throws IOException {
    model("m", "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("m");
    CompletableFuture<InferenceResponse> first = blocker("m", gate);
    List<CompletableFuture<InferenceResponse>> queued = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      queued.add(harness.inference.submit(request("m", rows(1, i * 100))));
    }
    assertThat(queued).noneMatch(CompletableFuture::isDone);
    assertThat(harness.inference.queuedRequests(new ModelVersionKey("m", 1)))
        .as("waiting, not the one running")
        .isEqualTo(5);

    gate.open();

    first.join();
    for (int i = 0; i < 5; i++) {
      assertThat(queued.get(i).join().outputs().get(0).toFloatArray()[0]).isEqualTo(2 * i * 100);
    }
    assertThat(executions("m")).extracting(Execution::rows).containsExactly(1L, 5L);
    StatisticsSnapshot snapshot = statistics("m");
    assertThat(snapshot.executions()).isEqualTo(2);
    assertThat(snapshot.inferences()).isEqualTo(6);
    assertThat(snapshot.batches()).containsOnlyKeys(1, 5);
    assertThat(snapshot.queueTime().count()).isEqualTo(6);
    assertThat(harness.inference.queuedRequests(new ModelVersionKey("m", 1))).isZero();
  }

  @Test
  void batchesStopAtTheMaximumAndEveryCallerGetsExactlyItsRows() throws Exception {
    model("m", "max_batch_size: 16\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("m");
    CompletableFuture<InferenceResponse> first = blocker("m", gate);
    Random random = new Random(11);
    List<Tensor> inputs = new ArrayList<>();
    List<CompletableFuture<InferenceResponse>> responses = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Tensor input = rows(1 + random.nextInt(5), i * 1000);
      inputs.add(input);
      responses.add(harness.inference.submit(request("m", input)));
    }
    gate.open();
    first.join();
    for (int i = 0; i < inputs.size(); i++) {
      assertDoubled(responses.get(i).get(10, TimeUnit.SECONDS), inputs.get(i));
    }
    List<Execution> batches = executions("m").subList(1, executions("m").size());
    assertThat(batches).allMatch(execution -> execution.rows() <= 16);
    assertThat(batches.stream().mapToLong(Execution::rows).sum())
        .isEqualTo(inputs.stream().mapToLong(t -> t.dimension(0)).sum());
    assertThat(batches.size()).as("40 requests in batches of up to 16 rows").isLessThan(20);
    StatisticsSnapshot snapshot = statistics("m");
    assertThat(snapshot.inferences())
        .as("as Triton's inference_count, each row is an inference")
        .isEqualTo(executions("m").stream().mapToLong(Execution::rows).sum());
    assertThat(snapshot.executions()).isEqualTo(executions("m").size());

    // and free-running: many callers at once, random sizes, each gets its own rows back
    List<CompletableFuture<Void>> rounds = new ArrayList<>();
    for (int thread = 0; thread < 8; thread++) {
      int seed = thread;
      rounds.add(
          CompletableFuture.runAsync(
              () -> {
                Random local = new Random(seed);
                for (int i = 0; i < 100; i++) {
                  Tensor input = rows(1 + local.nextInt(8), seed * 1_000_000 + i * 100);
                  assertDoubled(harness.inference.infer(request("m", input)), input);
                }
              },
              callers));
    }
    CompletableFuture.allOf(rounds.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  private static void assertDoubled(InferenceResponse response, Tensor input) {
    Tensor output = response.outputs().get(0);
    assertThat(output.shape()).containsExactly(input.shape());
    float[] in = input.toFloatArray();
    float[] out = output.toFloatArray();
    for (int i = 0; i < in.length; i++) {
      assertThat(out[i]).isEqualTo(2 * in[i]);
    }
  }

  @Test
  void requestsOfOtherTrailingShapesGoInSeparateBatches() throws IOException {
    FakeBackendProvider.write(
        root.resolve("wide/1/model.fake"), "x=FP32 -1,-1", "y=FP32 -1,-1", MB);
    harness.config("wide", "warmup: {enabled: false}\nload_at_startup: true\nmax_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("wide");
    CompletableFuture<InferenceResponse> first =
        CompletableFuture.supplyAsync(
                () ->
                    harness.inference.submit(
                        request("wide", Tensor.ofFloats("x", new long[] {1, 2}, 0, 0))),
                callers)
            .thenCompose(f -> f);
    gate.awaitArrivals(1);
    List<CompletableFuture<InferenceResponse>> responses = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int width = i % 2 == 0 ? 3 : 5;
      responses.add(
          harness.inference.submit(
              request("wide", Tensor.ofFloats("x", new long[] {1, width}, new float[width]))));
    }
    gate.open();
    first.join();
    responses.forEach(CompletableFuture::join);
    assertThat(executions("wide").subList(1, 3))
        .extracting(Execution::rows)
        .containsExactly(3L, 3L);
    assertThat(responses.get(1).join().outputs().get(0).shape()).containsExactly(1, 5);
  }

  @Test
  void bytesRequestsBatchAndSplitToo() throws IOException {
    FakeBackendProvider.write(
        root.resolve("text/1/model.fake"), "x=BYTES -1,2", "y=BYTES -1,2", MB);
    harness.config("text", "warmup: {enabled: false}\nload_at_startup: true\nmax_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("text");
    CompletableFuture<InferenceResponse> first =
        CompletableFuture.supplyAsync(
                () ->
                    harness.inference.submit(
                        request("text", Tensor.ofStrings("x", new long[] {1, 2}, "a", "b"))),
                callers)
            .thenCompose(f -> f);
    gate.awaitArrivals(1);
    CompletableFuture<InferenceResponse> second =
        harness.inference.submit(
            request("text", Tensor.ofStrings("x", new long[] {2, 2}, "", "ünï", "c", "dd")));
    CompletableFuture<InferenceResponse> third =
        harness.inference.submit(
            request("text", Tensor.ofStrings("x", new long[] {1, 2}, "e", "")));
    gate.open();
    first.join();
    assertThat(second.join().outputs().get(0).toStringList()).containsExactly("", "ünï", "c", "dd");
    assertThat(third.join().outputs().get(0).toStringList()).containsExactly("e", "");
    assertThat(executions("text")).extracting(Execution::rows).containsExactly(1L, 3L);
  }

  @Test
  void aModelWithoutABatchDimensionIsNeverBatched() throws IOException {
    FakeBackendProvider.write(root.resolve("fixed/1/model.fake"), "x=FP32 4", "y=FP32 4", MB);
    harness.config("fixed", "warmup: {enabled: false}\nload_at_startup: true\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("fixed");
    CompletableFuture<InferenceResponse> first =
        CompletableFuture.supplyAsync(
                () ->
                    harness.inference.submit(
                        request("fixed", Tensor.ofFloats("x", new long[] {4}, 1, 2, 3, 4))),
                callers)
            .thenCompose(f -> f);
    gate.awaitArrivals(1);
    List<CompletableFuture<InferenceResponse>> responses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      responses.add(
          harness.inference.submit(
              request("fixed", Tensor.ofFloats("x", new long[] {4}, i, i, i, i))));
    }
    gate.open();
    first.join();
    responses.forEach(CompletableFuture::join);
    assertThat(executions("fixed")).hasSize(4);
  }

  @Test
  void higherPrioritiesRunFirstAndEachLevelInArrivalOrder() throws IOException {
    model("p", "max_batch_size: 0\ndynamic_batching: {priority_levels: 3, default_priority: 2}\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("p");
    CompletableFuture<InferenceResponse> first = blocker("p", gate);
    List<CompletableFuture<InferenceResponse>> responses = new ArrayList<>();
    int[] priorities = {3, 2, 1, 3, 1, 2};
    for (int i = 0; i < priorities.length; i++) {
      responses.add(harness.inference.submit(request("p", rows(1, i)).withPriority(priorities[i])));
    }
    responses.add(harness.inference.submit(request("p", rows(1, 6))));
    gate.open();
    first.join();
    responses.forEach(CompletableFuture::join);
    assertThat(executions("p").subList(1, 8))
        .extracting(Execution::firstValue)
        .containsExactly(2f, 4f, 1f, 5f, 6f, 0f, 3f);
    assertThatThrownBy(() -> harness.inference.infer(request("p", rows(1, 0)).withPriority(4)))
        .hasMessageContaining("priority must be from 1 (highest) to 3");
  }

  @Test
  void aRequestPastItsDeadlineIsRejectedWithoutRunning() throws Exception {
    model("d", "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("d");
    CompletableFuture<InferenceResponse> first = blocker("d", gate);
    CompletableFuture<InferenceResponse> late =
        harness.inference.submit(request("d", rows(1, 7)).withTimeout(Duration.ofHours(1)));
    CompletableFuture<InferenceResponse> patient =
        harness.inference.submit(request("d", rows(1, 8)));
    harness.time.advance(Duration.ofHours(2));
    gate.open();
    first.join();
    assertThatThrownBy(late::join)
        .hasCauseInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("it was not run");
    assertThat(patient.join().outputs()).hasSize(1);
    assertThat(executions("d")).extracting(Execution::firstValue).doesNotContain(7f);
    assertThat(statistics("d").failuresByReason())
        .containsEntry(FailureReason.DEADLINE_EXCEEDED, 1L);
  }

  /**
   * Submits a request to model "lazy", not loaded yet, whose load takes a second of the fake clock.
   */
  private CompletableFuture<InferenceResponse> submitWhileItsModelLoads(InferenceRequest request)
      throws IOException {
    harness.model("lazy", 1, 1);
    harness.config("lazy", "warmup: {enabled: false}\nmax_batch_size: 8\n");
    harness.manager.start().join();
    Gate load = harness.engine.holdLoads("lazy");
    CompletableFuture<InferenceResponse> response = harness.inference.submit(request);
    load.awaitArrivals(1);
    harness.time.advance(Duration.ofSeconds(1));
    load.open();
    return response;
  }

  @Test
  void aRequestWhoseDeadlinePassedWhileItsModelLoadedIsRejectedWithoutRunning() throws Exception {
    CompletableFuture<InferenceResponse> late =
        submitWhileItsModelLoads(request("lazy", rows(1, 7)).withTimeout(Duration.ofMillis(10)));

    assertThatThrownBy(late::join)
        .hasCauseInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("past its timeout of 10ms; it was not run");
    assertThat(executions("lazy")).isEmpty();
    assertThat(statistics("lazy").failuresByReason())
        .containsEntry(FailureReason.DEADLINE_EXCEEDED, 1L);
  }

  @Test
  void aRequestTimesOutAtItsDeadlineWhileItsModelIsStillLoadingAndTheLoadGoesOn() throws Exception {
    assertTimesOutWhileLoading(
        "", Duration.ofMillis(100), "waited 1s for the model to load, past its timeout of 100ms");
  }

  @Test
  void theModelsDefaultTimeoutAlsoBoundsTheWaitForItsLoad() throws Exception {
    assertTimesOutWhileLoading(
        "dynamic_batching: {default_timeout: 100ms}\n",
        Duration.ofHours(1),
        "past its timeout of 100ms");
  }

  /**
   * Holds the load of model "lazy" (configured with {@code config}) while a request with {@code
   * timeout} waits for it past its deadline: the request fails with {@code failure} before the load
   * ends, and the model then loads and serves, and the lease the expired request got is released.
   */
  private void assertTimesOutWhileLoading(String config, Duration timeout, String failure)
      throws Exception {
    harness.model("lazy", 1, 1);
    harness.config("lazy", "warmup: {enabled: false}\nmax_batch_size: 8\n" + config);
    harness.manager.start().join();
    Gate load = harness.engine.holdLoads("lazy");
    CompletableFuture<InferenceResponse> late =
        harness.inference.submit(request("lazy", rows(1, 7)).withTimeout(timeout));
    load.awaitArrivals(1);

    harness.time.advance(Duration.ofSeconds(1));

    assertThatThrownBy(() -> late.get(30, SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(DeadlineExceededException.class)
        .hasMessageStartingWith("request to model 'lazy' ")
        .hasMessageContaining(failure)
        .hasMessageEndingWith("; it was not run");
    assertThat(statistics("lazy").failuresByReason())
        .containsEntry(FailureReason.DEADLINE_EXCEEDED, 1L);
    load.open();
    assertThat(answerTo("lazy", 5)).isEqualTo(10);
    assertThat(executions("lazy")).extracting(Execution::firstValue).containsExactly(5f);
    // an unload waits for every lease: a leaked one would hold it for good
    harness.manager.unload("lazy").get(30, SECONDS);
    assertThat(harness.manager.status("lazy").get(0).activeRequests()).isZero();
  }

  @Test
  void theWaitForALoadIsNotQueueTime() throws Exception {
    CompletableFuture<InferenceResponse> response =
        submitWhileItsModelLoads(request("lazy", rows(1, 7)));

    assertThat(response.join().outputs()).hasSize(1);
    assertThat(statistics("lazy").queueTime().count()).isEqualTo(1);
    assertThat(statistics("lazy").queueTime().total()).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void theDeadlineTimerRejectsARequestStuckBehindABusySlot() throws IOException {
    model("d", "max_batch_size: 8\ndynamic_batching: {default_timeout: 50ms}\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("d");
    CompletableFuture<InferenceResponse> first = blocker("d", gate);
    CompletableFuture<InferenceResponse> asksForMore =
        harness.inference.submit(request("d", rows(1, 7)).withTimeout(Duration.ofHours(1)));
    harness.time.advance(Duration.ofMillis(50));
    assertThatThrownBy(() -> asksForMore.get(30, TimeUnit.SECONDS))
        .as("a request's timeout may only shorten the model's")
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(DeadlineExceededException.class);
    gate.open();
    first.join();
    assertThat(executions("d")).extracting(Execution::firstValue).doesNotContain(7f);
  }

  @Test
  void aFullQueueRejectsAtOnce() throws IOException {
    model("q", "max_batch_size: 8\ndynamic_batching: {max_queue_size: 2}\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("q");
    CompletableFuture<InferenceResponse> first = blocker("q", gate);
    CompletableFuture<InferenceResponse> a = harness.inference.submit(request("q", rows(1, 1)));
    CompletableFuture<InferenceResponse> b = harness.inference.submit(request("q", rows(1, 2)));
    CompletableFuture<InferenceResponse> c = harness.inference.submit(request("q", rows(1, 3)));
    assertThat(c).isCompletedExceptionally();
    assertThatThrownBy(c::join)
        .hasCauseInstanceOf(QueueFullException.class)
        .hasMessageContaining("max_queue_size");
    gate.open();
    first.join();
    a.join();
    b.join();
    assertThat(statistics("q").failuresByReason()).containsEntry(FailureReason.QUEUE_FULL, 1L);
  }

  @Test
  void maxQueueSizeBoundsEachPriorityLevelsQueueApart() throws IOException {
    model("q", "max_batch_size: 4\ndynamic_batching: {max_queue_size: 2, priority_levels: 3}\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("q");
    CompletableFuture<InferenceResponse> first = blocker("q", gate);
    List<CompletableFuture<InferenceResponse>> admitted = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      admitted.add(harness.inference.submit(request("q", rows(1, i)).withPriority(3)));
    }
    CompletableFuture<InferenceResponse> lowRejected =
        harness.inference.submit(request("q", rows(1, 2)).withPriority(3));

    for (int i = 0; i < 2; i++) {
      admitted.add(harness.inference.submit(request("q", rows(1, 10 + i)).withPriority(1)));
    }
    CompletableFuture<InferenceResponse> highRejected =
        harness.inference.submit(request("q", rows(1, 12)).withPriority(1));

    assertThat(admitted).as("a full level 3 leaves room at level 1").noneMatch(f -> f.isDone());
    assertThatThrownBy(lowRejected::join)
        .hasCauseInstanceOf(QueueFullException.class)
        .hasMessageEndingWith(
            "model 'q' version 1 has 2 requests queued at priority 3 (max_queue_size, per"
                + " priority level); retry later");
    assertThatThrownBy(highRejected::join)
        .hasCauseInstanceOf(QueueFullException.class)
        .hasMessageContaining("has 2 requests queued at priority 1 (max_queue_size");
    gate.open();
    first.join();
    admitted.forEach(CompletableFuture::join);
    assertThat(executions("q").get(1).firstValue()).as("level 1 runs first").isEqualTo(10f);
    assertThat(statistics("q").failuresByReason()).containsEntry(FailureReason.QUEUE_FULL, 2L);
  }

  @Test
  void cancellingAQueuedRequestRemovesItAndReleasesItsLease() throws IOException {
    model("c", "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("c");
    CompletableFuture<InferenceResponse> first = blocker("c", gate);
    CompletableFuture<InferenceResponse> cancelled =
        harness.inference.submit(request("c", rows(1, 5)));
    CompletableFuture<InferenceResponse> kept = harness.inference.submit(request("c", rows(1, 6)));
    assertThat(harness.manager.status("c").get(0).activeRequests()).isEqualTo(3);

    assertThat(cancelled.cancel(false)).isTrue();

    assertThat(harness.manager.status("c").get(0).activeRequests()).isEqualTo(2);
    gate.open();
    first.join();
    kept.join();
    assertThat(executions("c")).extracting(Execution::firstValue).doesNotContain(5f);
    assertThatThrownBy(cancelled::join).isInstanceOf(CancellationException.class);
    assertThat(statistics("c").failuresByReason()).containsEntry(FailureReason.CANCELLED, 1L);
  }

  @Test
  void maxQueueDelayWaitsForAFullerBatchFromTheOldestArrival() throws Exception {
    model("w", "max_batch_size: 4\ndynamic_batching: {max_queue_delay: 20ms}\n");
    harness.manager.start().join();
    CompletableFuture<InferenceResponse> a = harness.inference.submit(request("w", rows(1, 1)));
    CompletableFuture<InferenceResponse> b = harness.inference.submit(request("w", rows(1, 2)));
    assertThat(a).as("a free slot waits for more").isNotDone();
    harness.time.advance(Duration.ofMillis(20));
    a.get(30, TimeUnit.SECONDS);
    b.get(30, TimeUnit.SECONDS);
    assertThat(executions("w")).extracting(Execution::rows).containsExactly(2L);

    List<CompletableFuture<InferenceResponse>> full = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      full.add(harness.inference.submit(request("w", rows(1, i))));
    }
    try {
      CompletableFuture.allOf(full.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(
          "executions "
              + executions("w")
              + " done "
              + full.stream().map(CompletableFuture::isDone).toList(),
          e);
    }
    assertThat(executions("w").get(1).rows()).as("a full batch does not wait").isEqualTo(4);
  }

  @Test
  void aRequestWaitsForAFullerBatchNoLongerThanHalfItsTimeout() throws Exception {
    model(
        "t",
        "max_batch_size: 4\ndynamic_batching: {max_queue_delay: 100ms, default_timeout: 50ms}\n");
    harness.manager.start().join();
    CompletableFuture<InferenceResponse> alone = harness.inference.submit(request("t", rows(1, 1)));
    harness.time.advance(Duration.ofMillis(24));
    assertThat(alone).as("still waiting for companions").isNotDone();

    harness.time.advance(Duration.ofMillis(1));

    assertThat(alone.get(30, TimeUnit.SECONDS).outputs()).hasSize(1);
    assertThat(executions("t")).extracting(Execution::rows).containsExactly(1L);
  }

  @Test
  void preferredBatchSizesCutBatches() throws IOException {
    model("pref", "max_batch_size: 8\ndynamic_batching: {preferred_batch_sizes: [2]}\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("pref");
    CompletableFuture<InferenceResponse> first = blocker("pref", gate);
    List<CompletableFuture<InferenceResponse>> responses = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      responses.add(harness.inference.submit(request("pref", rows(1, i))));
    }
    gate.open();
    first.join();
    responses.forEach(CompletableFuture::join);
    assertThat(executions("pref")).extracting(Execution::rows).containsExactly(1L, 2L, 2L, 1L);
  }

  @Test
  void twoInstancesRunTwoExecutionsAtOnce() throws IOException {
    model("i", "max_batch_size: 8\ninstances: 2\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("i");
    CompletableFuture<InferenceResponse> first = blocker("i", gate);
    CompletableFuture<InferenceResponse> second =
        CompletableFuture.supplyAsync(
                () -> harness.inference.submit(request("i", rows(1, 1))), callers)
            .thenCompose(f -> f);
    gate.awaitArrivals(1);
    assertThat(harness.engine.maxConcurrentExecutions()).isEqualTo(2);
    gate.open();
    first.join();
    second.join();
  }

  @Test
  void aBadRequestInABatchFailsAloneAndTheOthersSucceed() throws IOException {
    assertFailsAloneInItsBatch("b", Float.NaN, "refuses NaN");
  }

  @Test
  void anEngineFailureOnOneRequestInABatchFailsItAloneToo() throws IOException {
    assertFailsAloneInItsBatch("e", -1234.5f, "fails on -1234.5");
  }

  /**
   * Batches a request whose first value is {@code bad} between two good ones: it fails with {@code
   * failure}, and the others get their answers from the batch run again request by request.
   */
  private void assertFailsAloneInItsBatch(String model, float bad, String failure)
      throws IOException {
    model(model, "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions(model);
    CompletableFuture<InferenceResponse> first = blocker(model, gate);
    CompletableFuture<InferenceResponse> good =
        harness.inference.submit(request(model, rows(1, 1)));
    CompletableFuture<InferenceResponse> refused =
        harness.inference.submit(request(model, rows(1, bad)));
    CompletableFuture<InferenceResponse> other =
        harness.inference.submit(request(model, rows(2, 10)));
    gate.open();
    first.join();
    assertThat(good.join().outputs().get(0).toFloatArray()[0]).isEqualTo(2);
    assertThat(other.join().outputs().get(0).toFloatArray()[0]).isEqualTo(20);
    assertThatThrownBy(refused::join).hasMessageContaining(failure);
    assertThat(executions(model))
        .extracting(Execution::rows)
        .as("the batch, then each request alone")
        .containsExactly(1L, 4L, 1L, 1L, 2L);
  }

  @Test
  void aWorkerRunsTheNextBatchWhileAnEarlierAnswerIsStillBeingWritten() throws Exception {
    model("w", "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("w");
    CompletableFuture<InferenceResponse> first = blocker("w", gate);
    CompletableFuture<InferenceResponse> queued =
        harness.inference.submit(request("w", rows(1, 1)));
    CountDownLatch answering = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    // stands for an adapter writing to a client that does not read: it holds its thread
    CompletableFuture<Void> slowReader =
        queued.thenRun(
            () -> {
              answering.countDown();
              awaitQuietly(released);
            });
    gate.open();
    first.join();
    assertThat(answering.await(30, TimeUnit.SECONDS))
        .as("the queued request was answered")
        .isTrue();

    CompletableFuture<InferenceResponse> later = harness.inference.submit(request("w", rows(1, 5)));

    assertThat(later.get(30, TimeUnit.SECONDS).outputs().get(0).toFloatArray()[0])
        .as("run and answered while the slow reader still holds the first answer's thread")
        .isEqualTo(10);
    assertThat(slowReader).isNotDone();
    released.countDown();
    slowReader.get(30, TimeUnit.SECONDS);
    assertThat(executions("w")).extracting(Execution::rows).containsExactly(1L, 1L, 1L);
  }

  @Test
  void aBatchWhoseOutputHasTheWrongNumberOfRowsFailsItsRequestsAndTheModelGoesOn()
      throws Exception {
    harness.model("r", 1, 1, "fail=rows");
    harness.config("r", "warmup: {enabled: false}\nload_at_startup: true\nmax_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("r");
    CompletableFuture<InferenceResponse> alone = blocker("r", gate);
    List<CompletableFuture<InferenceResponse>> batched = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      batched.add(harness.inference.submit(request("r", rows(1, i))));
    }
    gate.open();

    assertThat(alone.get(30, TimeUnit.SECONDS).outputs().get(0).toFloatArray()[0]).isEqualTo(-2000);
    for (CompletableFuture<InferenceResponse> response : batched) {
      // the outputs cannot be split back into the requests' rows, so none gets an answer
      assertThatThrownBy(() -> response.get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BackendException.class)
          .hasMessage(
              "model 'r' returned output 'y' with 2 rows for a batch of 3 rows; is dimension 0"
                  + " really a batch dimension?");
    }
    assertThat(executions("r")).extracting(Execution::rows).containsExactly(1L, 3L);
    assertThat(statistics("r").failuresByReason()).containsEntry(FailureReason.BACKEND_FAILURE, 3L);
    assertThat(answerTo("r", 5)).isEqualTo(10);
  }

  @Test
  void aHeapThatRunsOutInAnExecutionFailsItsRequestsAsInsufficientMemoryAndTheModelGoesOn()
      throws Exception {
    model("o", "max_batch_size: 8\n");
    harness.manager.start().join();
    harness.engine.failExecutions("o", new OutOfMemoryError("Java heap space"));
    // run on the caller's thread
    assertThatThrownBy(() -> harness.inference.submit(request("o", rows(2, 1))).get(30, SECONDS))
        .cause()
        .isInstanceOf(HangarException.class)
        .hasMessageStartingWith(
            "the server's heap ran out running model 'o' on a request of 2 rows (the heap holds at"
                + " most ")
        .hasMessageEndingWith(
            "); send smaller requests, or give the server more memory (--memory, or HANGAR_HEAP)")
        .satisfies(
            e ->
                assertThat(((HangarException) e).category())
                    .isEqualTo(ErrorCategory.INSUFFICIENT_RESOURCES));
    // and batched on a worker, behind a held execution
    Gate gate = harness.engine.holdExecutions("o");
    CompletableFuture<InferenceResponse> first = blocker("o", gate);
    List<CompletableFuture<InferenceResponse>> batched = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      batched.add(harness.inference.submit(request("o", rows(1, i))));
    }
    gate.open();
    assertThatThrownBy(() -> first.get(30, SECONDS)).hasMessageContaining("heap ran out");
    for (CompletableFuture<InferenceResponse> response : batched) {
      assertThatThrownBy(() -> response.get(30, SECONDS))
          .hasMessageContaining("heap ran out running model 'o' on a request of 1 rows");
    }
    assertThat(statistics("o").failuresByReason())
        .containsEntry(FailureReason.INSUFFICIENT_MEMORY, 5L);

    // the model's slot was freed each time: it goes on serving
    harness.engine.failExecutions("o", (Error) null);
    assertThat(answerTo("o", 5)).isEqualTo(10);
  }

  @Test
  void theBackendsCallIsTimedApartFromJoiningAndSplittingTheBatch() throws IOException {
    model("t", "max_batch_size: 8\n");
    harness.manager.start().join();
    Gate gate = harness.engine.holdExecutions("t");
    CompletableFuture<InferenceResponse> held = blocker("t", gate);

    harness.time.advance(Duration.ofMillis(7)); // while the backend runs, and only then
    gate.open();
    held.join();

    StatisticsSnapshot snapshot = statistics("t");
    assertThat(snapshot.computeTime().total()).isEqualTo(Duration.ofMillis(7));
    assertThat(snapshot.computeInputTime()).isZero();
    assertThat(snapshot.computeOutputTime()).isZero();
    assertThat(snapshot.batches().get(1))
        .isEqualTo(
            new dev.hangar.core.health.BatchStatistics(
                1, Duration.ZERO, Duration.ofMillis(7), Duration.ZERO));
  }

  @Test
  void aBatchsAnswersGoToAtMostTheHelpersAndAtLeastEightToATask() {
    assertThat(ModelScheduler.answerTasks(5, 7)).isEqualTo(1);
    assertThat(ModelScheduler.answerTasks(24, 7)).isEqualTo(3);
    assertThat(ModelScheduler.answerTasks(64, 3)).isEqualTo(3);
    assertThat(ModelScheduler.answerTasks(64, 0)).as("the worker answers itself").isZero();
    assertThat(InferenceService.answerHelpersFor(1)).isZero();
    assertThat(InferenceService.answerHelpersFor(2)).isZero();
    assertThat(InferenceService.answerHelpersFor(4)).isEqualTo(1);
    assertThat(InferenceService.answerHelpersFor(16)).isEqualTo(7);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
