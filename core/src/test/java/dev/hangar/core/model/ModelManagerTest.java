package dev.hangar.core.model;

import static dev.hangar.core.testing.Harness.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.testing.Harness;
import dev.hangar.core.testing.LogLines;
import dev.hangar.core.testing.Transitions;
import dev.hangar.spi.Tensor;
import dev.hangar.testkit.fake.Gate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelManagerTest {
  @TempDir Path root;
  private Harness harness;
  private final Transitions transitions = new Transitions();

  @BeforeEach
  void setUp() {
    harness = new Harness(root, DataSize.ofMegabytes(100), 10 * MB);
    harness.manager.onTransition(transitions);
  }

  @AfterEach
  void tearDown() {
    harness.close();
  }

  private ModelManager manager() {
    return harness.manager;
  }

  /** Leases the default version, runs nothing, releases, and moves the clock on. */
  private void use(String name) {
    try (ModelLease lease = manager().acquire(name, OptionalLong.empty()).join()) {
      assertThat(lease.version().key().name()).isEqualTo(name);
    }
    harness.time.advance(Duration.ofSeconds(1));
  }

  private ModelState state(String name) {
    return manager().status(name).get(0).state();
  }

  private InferenceResponse infer(String name) {
    return harness.inference.infer(
        InferenceRequest.of(name, List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4))));
  }

  @Test
  void evictsIdleModelsLeastRecentlyUsedFirst() throws IOException {
    for (String name : List.of("a", "b", "c", "d", "e", "f")) {
      harness.model(name, 1, 20);
    }
    manager().start().join();
    for (String name : List.of("a", "b", "c", "d", "b", "a")) {
      use(name);
    }
    assertThat(manager().accountedBytes()).isEqualTo(90 * MB);

    use("e");

    assertThat(state("c")).isEqualTo(ModelState.EVICTED);
    assertThat(List.of("a", "b", "d", "e")).allMatch(name -> state(name) == ModelState.READY);
    assertThat(harness.engine.closes("c")).isEqualTo(1);
    assertThat(manager().status("c").get(0).reason().orElseThrow())
        .contains("evicted to make room for e v1")
        .contains("resident memory 90.0MB -> 70.0MB");

    use("f");

    assertThat(state("d")).isEqualTo(ModelState.EVICTED);
    assertThat(manager().accountedBytes()).isLessThanOrEqualTo(100 * MB);

    use("c");

    assertThat(state("c")).as("an evicted model loads again on demand").isEqualTo(ModelState.READY);
    assertThat(state("b")).as("b was used before e, f and c").isEqualTo(ModelState.EVICTED);
    assertThat(harness.engine.loads("c")).isEqualTo(2);
  }

  @Test
  void residentMemoryPastTheBudgetEvictsIdleModelsLeastRecentlyUsedFirstUntilItIsWithin()
      throws IOException {
    for (String name : List.of("a", "b", "c", "d")) {
      harness.model(name, 1, 20);
    }
    harness.config("d", "pinned: true\n");
    manager().start().join();
    use("a");
    use("b");
    use("c");
    ModelLease busy = manager().acquire("a", OptionalLong.empty()).join();
    // the server's runs grew its own memory by 25MB: 115MB of the 100MB budget
    harness.memory.setBaselineBytes(35 * MB);

    int evicted = manager().relieveMemoryPressure().join();
    busy.close();

    assertThat(evicted).isEqualTo(1);
    assertThat(state("b")).as("the least recently used idle one").isEqualTo(ModelState.EVICTED);
    assertThat(manager().status("b").get(0).reason().orElseThrow())
        .contains("evicted as resident memory 115.0MB passed the 100.0MB memory budget");
    assertThat(List.of("a", "c", "d")).allMatch(name -> state(name) == ModelState.READY);
    assertThat(manager().residentBytes()).isLessThanOrEqualTo(100 * MB);
    assertThat(manager().relieveMemoryPressure().join()).as("within the budget now").isZero();
  }

  @Test
  void memoryPressureEvictsNeitherPinnedNorBusyModels() throws IOException {
    harness.model("pinned", 1, 20);
    harness.config("pinned", "pinned: true\n");
    harness.model("busy", 1, 20);
    manager().start().join();
    use("busy");
    ModelLease lease = manager().acquire("busy", OptionalLong.empty()).join();
    harness.memory.setBaselineBytes(90 * MB);

    assertThat(manager().relieveMemoryPressure().join()).isZero();
    lease.close();

    assertThat(state("pinned")).isEqualTo(ModelState.READY);
    assertThat(state("busy")).isEqualTo(ModelState.READY);
  }

  @Test
  void memoryPressureChecksRunOnTheirOwn() throws Exception {
    harness.model("idle", 1, 20);
    manager().start().join();
    use("idle");
    java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try (MemoryPressureChecks checks =
        new MemoryPressureChecks(manager(), timer, Duration.ofMillis(10))) {
      checks.start();
      harness.memory.setBaselineBytes(95 * MB);
      transitions.await("idle", ModelState.EVICTED);
    } finally {
      timer.shutdownNow();
    }
  }

  @Test
  void pinnedModelsAreNeverEvicted() throws IOException {
    harness.model("pinned", 1, 30);
    harness.config("pinned", "pinned: true\n");
    for (String name : List.of("a", "b", "c")) {
      harness.model(name, 1, 20);
    }
    manager().start().join();
    assertThat(state("pinned")).isEqualTo(ModelState.READY);
    use("a");
    use("b");
    use("c");
    assertThat(state("a")).as("the pinned model is older but stays").isEqualTo(ModelState.EVICTED);
    assertThat(state("pinned")).isEqualTo(ModelState.READY);
    assertThat(manager().status("pinned").get(0).pinned()).isTrue();
  }

  @Test
  void aLoadThatCannotFitFailsNamingTheBudgetTheNeedAndThePinnedModels() throws IOException {
    harness.model("pinned", 1, 50);
    harness.config("pinned", "pinned: true\n");
    harness.model("big", 1, 40);
    harness.model("huge", 1, 200);
    manager().start().join();

    assertThatThrownBy(() -> use("big"))
        .hasRootCauseInstanceOf(InsufficientMemoryException.class)
        .rootCause()
        .hasMessageContaining("cannot load model 'big' version 1")
        .hasMessageContaining("it needs about ")
        .hasMessageContaining("100.0MB memory budget")
        .hasMessageContaining("pinned: pinned v1 (50.0MB)");
    assertThatThrownBy(() -> use("huge"))
        .rootCause()
        .hasMessageContaining(
            "more than the memory budget of 100.0MB leaves beside the server's own 10.0MB");
    assertThat(manager().accountedBytes()).isEqualTo(60 * MB);
    assertThat(harness.engine.loads("big")).as("admission refuses before loading").isZero();

    manager().setPinned("pinned", false).join();
    use("big");
    assertThat(state("pinned")).isEqualTo(ModelState.EVICTED);
  }

  @Test
  void theAccountedTotalAndResidentMemoryNeverPassTheBudget() throws IOException {
    int[] sizes = {10, 15, 20, 25, 30, 35, 40, 12, 18, 22};
    for (int i = 0; i < sizes.length; i++) {
      harness.model("m" + i, 1, sizes[i]);
    }
    manager().start().join();
    java.util.Random random = new java.util.Random(7);
    for (int request = 0; request < 200; request++) {
      use("m" + random.nextInt(sizes.length));
      assertThat(manager().accountedBytes()).isLessThanOrEqualTo(100 * MB);
    }
    assertThat(harness.memory.peakBytes()).isLessThanOrEqualTo(100 * MB);
    assertThat(transitions.all().stream().filter(t -> t.to() == ModelState.EVICTED))
        .hasSizeGreaterThan(50);
  }

  /** Models a and b (20MB each) served, a the least recently used; c (10MB) not loaded yet. */
  private void serveAAndBButNotC() throws IOException {
    harness.model("a", 1, 20);
    harness.model("b", 1, 20);
    harness.model("c", 1, 10);
    manager().start().join();
    use("a");
    use("b");
  }

  @Test
  void aLoadThatEvictingCannotMakeRoomForEvictsNothing() throws IOException {
    serveAAndBButNotC();
    // the server itself has grown to 95MB of the 100MB budget: with a and b gone, c (about 14MB
    // estimated) would still not fit
    harness.memory.setBaselineBytes(95 * MB);

    assertThatThrownBy(() -> infer("c"))
        .isInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining("cannot load model 'c' version 1")
        .hasMessageContaining(
            "evicting every model it may evict would free at most 40.0MB, so none was evicted");
    assertThat(state("a")).isEqualTo(ModelState.READY);
    assertThat(state("b")).isEqualTo(ModelState.READY);
    assertThat(harness.engine.closes("a") + harness.engine.closes("b")).isZero();

    // at 60MB, evicting a, the least recently used, makes room
    harness.memory.setBaselineBytes(60 * MB);
    use("c");
    assertThat(state("a")).isEqualTo(ModelState.EVICTED);
    assertThat(state("b")).isEqualTo(ModelState.READY);
    assertThat(state("c")).isEqualTo(ModelState.READY);
  }

  @Test
  void filesBesideTheModelFileCountInItsEstimate() throws IOException {
    Path file = harness.model("side", 1, 10);
    // weights in a side file (as ONNX external data): 200MB, more than the 100MB budget
    try (java.io.RandomAccessFile weights =
        new java.io.RandomAccessFile(file.resolveSibling("weights.bin").toFile(), "rw")) {
      weights.setLength(200 * MB);
    }
    manager().start().join();
    assertThatThrownBy(() -> use("side"))
        .rootCause()
        .isInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining("more than the memory budget of 100.0MB leaves");
    assertThat(harness.engine.loads("side")).as("refused before loading").isZero();
  }

  @Test
  void aLoadRefusedAfterItEvictedSaysWhatItEvicted() throws IOException {
    serveAAndBButNotC();
    harness.memory.setBaselineBytes(60 * MB);
    // what a held does not go back to the system, as pages a heap keeps
    manager().onUnloaded(unloaded -> harness.memory.setBaselineBytes(95 * MB));

    assertThatThrownBy(() -> infer("c"))
        .isInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining(
            "it evicted a v1 (20.0MB), but evicting a v1 (20.0MB) freed 0B of the 20.0MB it was"
                + " expected to (the engine keeps memory after an unload), so no more were"
                + " evicted");
    assertThat(state("a")).isEqualTo(ModelState.EVICTED);
    assertThat(state("b")).isEqualTo(ModelState.READY);
  }

  @Test
  void anEngineThatKeepsWhatItsModelsHeldLosesOneModelToTheFirstLoadThatEvictsAndNoneAfter()
      throws IOException {
    // what a model held stays with the engine once it closes, as allocators keep freed memory
    for (String name : List.of("a", "b", "c")) {
      harness.model(name, 1, 20, "kept=" + 20 * MB);
    }
    harness.model("big", 1, 30);
    harness.model("bigger", 1, 40);
    manager().start().join();
    use("a");
    use("b");
    use("c");
    // resident 70MB of the 100MB budget

    // big (about 34MB estimated) evicts a, which frees nothing: it stops there
    assertThatThrownBy(() -> infer("big"))
        .isInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining("it evicted a v1 (20.0MB), but evicting a v1 (20.0MB) freed 0B");
    assertThat(state("a")).isEqualTo(ModelState.EVICTED);
    assertThat(state("b")).isEqualTo(ModelState.READY);
    assertThat(state("c")).isEqualTo(ModelState.READY);

    // the format was seen to give nothing back: a later load evicts nothing for nothing
    assertThatThrownBy(() -> infer("bigger"))
        .isInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining(
            "and evicting every model it may evict would free nothing (their engines were seen to"
                + " keep what a model held once it closed), so none was evicted");
    assertThat(state("b")).isEqualTo(ModelState.READY);
    assertThat(state("c")).isEqualTo(ModelState.READY);
    assertThat(harness.engine.closes("b") + harness.engine.closes("c")).isZero();
    use("b");
    use("c");
  }

  @Test
  void aLoadThatMeasuresMoreThanItsEstimateEvictsToGetBackUnderTheBudget() throws IOException {
    harness.model("a", 1, 30);
    harness.model("b", 1, 30);
    // a tiny file that holds 45 MB once loaded: the estimate (4 MB plus twice the file) is far too
    // low
    Path sneaky = root.resolve("sneaky/1/model.fake");
    dev.hangar.testkit.fake.FakeBackendProvider.write(
        sneaky, "x=FP32 -1,4", "y=FP32 -1,4", 45 * MB);
    manager().start().join();
    use("a");
    use("b");

    use("sneaky");

    assertThat(manager().accountedBytes()).isLessThanOrEqualTo(100 * MB);
    assertThat(state("a")).isEqualTo(ModelState.EVICTED);
    assertThat(state("sneaky")).isEqualTo(ModelState.READY);
  }

  @Test
  void concurrentRequestsShareOneLoad() throws IOException {
    harness.model("a", 1, 10);
    manager().start().join();
    Gate loads = harness.engine.holdLoads("a");
    List<CompletableFuture<ModelLease>> leases = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      leases.add(manager().acquire("a", OptionalLong.empty()));
    }
    loads.awaitArrivals(1);
    assertThat(leases).noneMatch(CompletableFuture::isDone);
    loads.open();
    for (CompletableFuture<ModelLease> lease : leases) {
      lease.join().close();
    }
    assertThat(harness.engine.loads("a")).isEqualTo(1);
    assertThat(transitions.count("a", ModelState.LOADING)).isEqualTo(1);
  }

  @Test
  void aLeaseHoldsOffEvictionUntilItIsReleased() throws IOException {
    harness.model("busy", 1, 40);
    harness.model("urgent", 1, 50);
    harness.config("urgent", "load_priority: high\n");
    harness.model("ordinary", 1, 50);
    manager().start().join();
    ModelLease held = manager().acquire("busy", OptionalLong.empty()).join();

    // only a request in flight stands in the way: refused for now (503), not failed (507)
    assertThatThrownBy(() -> use("ordinary"))
        .rootCause()
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("busy: busy v1 (1 requests)")
        .hasMessageContaining("a high-priority load may evict busy models")
        .hasMessageEndingWith("the busy models hold enough: retry once their requests end");
    assertThat(state("ordinary")).isEqualTo(ModelState.AVAILABLE);
    assertThat(manager().status("ordinary").get(0).reason().orElseThrow())
        .startsWith("not loaded: cannot load model 'ordinary' version 1");

    CompletableFuture<ModelLease> urgent = manager().acquire("urgent", OptionalLong.empty());
    transitions.await("busy", ModelState.UNLOADING);
    assertThat(urgent).isNotDone();
    assertThat(harness.engine.closes("busy")).as("a leased model is not closed").isZero();
    assertThat(
            held.version()
                .model()
                .infer(List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4))))
        .as("the lease holder can still run")
        .hasSize(1);

    held.close();

    urgent.join().close();
    assertThat(harness.engine.closes("busy")).isEqualTo(1);
    assertThat(state("busy")).isEqualTo(ModelState.EVICTED);
    assertThat(state("urgent")).isEqualTo(ModelState.READY);
  }

  @Test
  void aFailingWarmupMakesTheModelFailedAndReleasesItsMemory() throws IOException {
    harness.model("flaky", 1, 20, "fail=warmup");
    harness.model("fine", 1, 20);
    manager().start().join();

    assertThatThrownBy(() -> infer("flaky"))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("model 'flaky' version 1 failed to load")
        .hasMessageContaining("fake inference failure");
    assertThat(state("flaky")).isEqualTo(ModelState.FAILED);
    assertThat(manager().status("flaky").get(0).reason().orElseThrow())
        .contains("warmup with synthetic inputs x [1, 4] failed: ")
        .contains("fake inference failure")
        .endsWith(
            "; should the model need other sizes, set warmup.free_dimension_size or"
                + " warmup.batch_sizes in config.yaml, or give warmup.samples");
    assertThat(harness.engine.allocatedBytes()).isZero();
    assertThat(manager().accountedBytes()).isEqualTo(10 * MB);
    assertThat(infer("fine").outputs()).hasSize(1);
    assertThatThrownBy(() -> infer("flaky")).hasMessageContaining("failed to load");
    assertThat(harness.engine.loads("flaky"))
        .as("a failed model is not retried on every request")
        .isEqualTo(1);
  }

  @Test
  void aBackendSettingOfTheWrongFormNamesItsFileAndKey() throws IOException {
    harness.model("p", 1, 10);
    harness.config("p", "parameters: {speed: 99}\n");
    manager().start().join();
    assertThatThrownBy(() -> use("p"))
        .hasMessageContaining(
            root.resolve("p/config.yaml")
                + ": 'parameters.speed' must be an integer from 1 to 10, got '99'");
  }

  @Test
  void aBatchedModelWhoseOutputsHaveOtherRowsFailsWarmupSayingWhatToSet() throws IOException {
    harness.model("r", 1, 10, "fail=rows");
    harness.config("r", "max_batch_size: 8\n");
    manager().start().join();
    assertThatThrownBy(() -> use("r"))
        .hasMessageContaining("warmup with synthetic inputs x [8, 4] returned output 'y' of shape")
        .hasMessageContaining(
            "not 8 rows: dimension 0 is not a batch dimension here, so requests cannot be"
                + " batched; set max_batch_size: 0 in config.yaml");
  }

  @Test
  void warmupRunsBatchSizeOneAndTheMaximumBeforeReady() throws IOException {
    harness.model("w", 1, 10);
    harness.config("w", "max_batch_size: 16\nwarmup: {iterations: 3}\n");
    manager().start().join();
    use("w");
    assertThat(harness.engine.executions("w"))
        .extracting(e -> e.rows())
        .containsExactly(1L, 1L, 1L, 16L, 16L, 16L);
    assertThat(manager().status("w").get(0).warmupTime()).isPresent();
    assertThat(
            manager()
                .statistics(new ModelVersionKey("w", 1))
                .orElseThrow()
                .snapshot()
                .warmupTimes()
                .count())
        .isEqualTo(6);
  }

  @Test
  void stoppingLoadsEndsAWarmupInProgressAtItsNextRunAndRefusesLaterLoads() throws IOException {
    harness.model("slow", 1, 10);
    harness.config("slow", "max_batch_size: 16\nwarmup: {iterations: 3}\n");
    harness.model("later", 1, 10);
    Gate warmupRuns = harness.engine.holdExecutions("slow");
    manager().start().join();
    CompletableFuture<ModelLease> waiting = manager().acquire("slow", OptionalLong.empty());
    warmupRuns.awaitArrivals(1);

    manager().stopLoading();
    warmupRuns.open();

    assertThatThrownBy(waiting::join)
        .hasCauseInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("the server is shutting down: warmup stopped after 1 of 6 runs");
    assertThat(harness.engine.executions("slow")).hasSize(1);
    assertThat(harness.engine.closes("slow")).isEqualTo(1);
    assertThat(state("slow")).isEqualTo(ModelState.AVAILABLE);
    assertThat(manager().accountedBytes()).as("the baseline alone").isEqualTo(10 * MB);
    assertThatThrownBy(() -> use("later"))
        .hasCauseInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("the server is shutting down");
    assertThat(harness.engine.loads("later")).isZero();
  }

  @Test
  void warmupSampleFilesRunToo() throws IOException {
    harness.model("s", 1, 10);
    harness.config("s", "warmup: {iterations: 1, batch_sizes: [2], samples: [sample.json]}\n");
    Files.writeString(
        root.resolve("s/sample.json"),
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [3, 4], \"data\": [1,2,3,4,5,6,7,8,9,10,11,12]}]}");
    manager().start().join();
    use("s");
    assertThat(harness.engine.executions("s")).extracting(e -> e.rows()).containsExactly(2L, 3L);
    assertThat(harness.engine.warmedUp("s")).as("told once its warmup had run").isEqualTo(1);

    Files.writeString(
        root.resolve("s/sample.json"),
        "{\"inputs\": [{\"name\": \"z\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1,2,3,4]}]}");
    manager().unload("s").join();
    assertThatThrownBy(() -> use("s"))
        .hasMessageContaining("warmup with sample sample.json failed: ")
        .hasMessageNotContaining("warmup.free_dimension_size");
  }

  @Test
  void warmupSampleFilesAreRefusedWhereARequestWouldBe() throws IOException {
    harness.model("s", 1, 10);
    harness.config("s", "max_batch_size: 4\nwarmup: {iterations: 1, samples: [sample.json]}\n");
    Files.writeString(
        root.resolve("s/sample.json"),
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [8, 4], \"data\": ["
            + "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32"
            + "]}]}");
    manager().start().join();
    assertThatThrownBy(() -> use("s"))
        .hasMessageContaining("sample.json has 8 rows, more than the model's max_batch_size 4");

    Files.writeString(
        root.resolve("s/sample.json"),
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\":"
            + " [1,2,3,4]}], \"outputs\": [{\"name\": \"nope\"}]}");
    assertThatThrownBy(() -> manager().load("s", LoadPriority.NORMAL).join())
        .hasMessageContaining(
            "sample.json asks for output 'nope', which the model does not have; its outputs are"
                + " [y]");
  }

  @Test
  void servesTheLatestVersionByDefaultAndFollowsTheVersionPolicy() throws IOException {
    harness.model("v", 1, 10);
    harness.model("v", 2, 10);
    manager().start().join();
    assertThat(infer("v").version()).isEqualTo(2);
    assertThatThrownBy(
            () ->
                harness.inference.infer(
                    InferenceRequest.of(
                            "v", List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)))
                        .withVersion(1)))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("served versions: [2]");

    harness.config("v", "version_policy: all\n");
    manager().refresh().join();
    assertThat(
            harness
                .inference
                .infer(
                    InferenceRequest.of(
                            "v", List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)))
                        .withVersion(1))
                .version())
        .isEqualTo(1);
  }

  @Test
  void versionsAPolicyChangeNoLongerServesAreUnloadedNotLoadedAgainFirst() throws Exception {
    for (long version = 1; version <= 3; version++) {
      harness.model("v", version, 10);
    }
    harness.config("v", "version_policy: all\n");
    manager().start().join();
    for (long version = 1; version <= 3; version++) {
      harness.inference.infer(
          InferenceRequest.of("v", List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)))
              .withVersion(version));
    }
    assertThat(harness.engine.loads("v")).isEqualTo(3);

    harness.config("v", "version_policy: latest\n");
    manager().refresh().join();
    transitions.await("v", ModelState.UNLOADED, 2);

    // version 3 loads again with its new config; 1 and 2 only unload
    assertThat(harness.engine.loads("v")).isEqualTo(4);
    assertThat(manager().status("v"))
        .filteredOn(status -> status.version() < 3)
        .allSatisfy(
            status -> {
              assertThat(status.state()).isEqualTo(ModelState.UNLOADED);
              assertThat(status.reason()).contains("no longer served (served now: [3])");
            });
  }

  @Test
  void aNewVersionLoadsFirstThenTrafficMovesAndTheOldOneDrains() throws IOException {
    harness.model("m", 1, 10);
    harness.config("m", "load_at_startup: true\n");
    manager().start().join();
    assertThat(infer("m").version()).isEqualTo(1);
    ModelLease inFlight = manager().acquire("m", OptionalLong.empty()).join();

    harness.model("m", 2, 10);
    Gate loads = harness.engine.holdLoads("m");
    CompletableFuture<Void> refreshed = manager().refresh();
    loads.awaitArrivals(1);
    assertThat(infer("m").version()).as("version 1 serves while 2 loads").isEqualTo(1);
    loads.open();
    refreshed.join();
    transitions.await("m", ModelState.READY, 2);

    assertThat(infer("m").version()).isEqualTo(2);
    transitions.await("m", ModelState.UNLOADING);
    assertThat(harness.engine.closes("m")).as("version 1 waits for its in-flight request").isZero();
    inFlight.close();
    transitions.await("m", ModelState.UNLOADED);
    assertThat(harness.engine.closes("m")).isEqualTo(1);
    assertThat(manager().status("m")).extracting(ModelStatus::version).containsExactly(2L);
  }

  @Test
  void aReloadThatDoesNotFitBesideTheInstanceItReplacesSaysSoAndHowToReloadInItsPlace()
      throws IOException {
    harness.model("a", 1, 20);
    harness.config("a", "load_at_startup: true\n");
    manager().start().join();
    // the new file is estimated at about 81MB: beside the 20MB instance it passes the 100MB budget
    harness.model("a", 1, 70);
    manager().refresh().join();

    ModelStatus status = manager().status("a").get(0);
    assertThat(status.state()).isEqualTo(ModelState.READY);
    assertThat(status.reason().orElseThrow())
        .startsWith("reload failed, still serving the previous instance: cannot load model 'a'")
        .endsWith(
            "; the instance it would replace holds 20.0MB and serves until then: to load the new"
                + " one in its place, unload the model first");
    manager().unload("a").join();
    manager().load("a", LoadPriority.NORMAL).join();
    assertThat(manager().status("a").get(0).memoryBytes()).isEqualTo(70 * MB);
  }

  @Test
  void aVersionThatFailsToLoadLeavesThePreviousOneAnsweringAndNamedByRequests() throws IOException {
    harness.model("m", 1, 10);
    harness.config("m", "load_at_startup: true\n");
    manager().start().join();
    harness.model("m", 2, 10, "fail=load");
    manager().refresh().join();
    transitions.await("m", ModelState.FAILED);

    // version 1 answers requests without a version, and so may be named, as it is in answers
    assertThat(infer("m").version()).isEqualTo(1);
    assertThat(inferVersion("m", 1).version()).isEqualTo(1);
    assertThat(manager().servedVersions("m")).containsExactly(2L, 1L);
    assertThatThrownBy(() -> inferVersion("m", 3))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("has no version 3 being served; served versions: [2, 1]");

    // mended and loaded again, version 2 takes over: version 1 is retired and no longer named
    harness.model("m", 2, 10);
    manager().load("m", LoadPriority.NORMAL).join();
    assertThat(infer("m").version()).isEqualTo(2);
    transitions.await("m", ModelState.UNLOADED);
    assertThat(manager().servedVersions("m")).containsExactly(2L);
    assertThatThrownBy(() -> inferVersion("m", 1))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("served versions: [2]");
  }

  private InferenceResponse inferVersion(String name, long version) {
    return harness.inference.infer(
        InferenceRequest.of(name, List.of(Tensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)))
            .withVersion(version));
  }

  @Test
  void aChangedFileReloadsWithoutAGap() throws IOException {
    Path file = harness.model("m", 1, 10);
    manager().start().join();
    use("m");
    harness.model("m", 1, 12);
    Files.setLastModifiedTime(
        file,
        java.nio.file.attribute.FileTime.fromMillis(
            Files.getLastModifiedTime(file).toMillis() + 10_000));

    manager().refresh().join();

    assertThat(harness.engine.loads("m")).isEqualTo(2);
    assertThat(harness.engine.closes("m")).isEqualTo(1);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(12 * MB);
    assertThat(infer("m").outputs()).hasSize(1);
  }

  @Test
  void aRefreshOfSettledFilesLeavesFilesStillBeingWrittenForALaterOne() throws IOException {
    Path file = harness.model("m", 1, 10);
    modifiedAgo(file, Duration.ofMinutes(1));
    manager().start().join();
    use("m");
    Duration quiet = Duration.ofSeconds(1);

    // written over in place just now, as cp does; and a model copied in just now
    harness.model("m", 1, 12);
    Path added = harness.model("n", 1, 1);
    manager().refreshSettled(quiet).join();

    assertThat(harness.engine.loads("m")).as("not reloaded while being written").isEqualTo(1);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(10 * MB);
    assertThatThrownBy(() -> manager().status("n")).isInstanceOf(ModelNotFoundException.class);

    // unchanged for the quiet period: applied, once
    modifiedAgo(file, Duration.ofSeconds(2));
    modifiedAgo(added, Duration.ofSeconds(2));
    manager().refreshSettled(quiet).join();
    manager().refreshSettled(quiet).join();

    assertThat(harness.engine.loads("m")).isEqualTo(2);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(12 * MB);
    assertThat(manager().status("n")).hasSize(1);

    // a time well in the future is a clock's, not a write's: applied at once
    harness.model("m", 1, 14);
    modifiedAgo(file, Duration.ofHours(-1));
    manager().refreshSettled(quiet).join();
    assertThat(harness.engine.loads("m")).isEqualTo(3);
  }

  @Test
  void aRefreshOfSettledFilesRemovesAModelOnlyOnceItHasBeenGoneForTheQuietPeriod(
      @TempDir Path elsewhere) throws Exception {
    modifiedAgo(harness.model("m", 1, 10), Duration.ofMinutes(1));
    manager().start().join();
    use("m");
    Path directory = harness.repository.resolve("m");
    Path aside = elsewhere.resolve("m");
    Duration quiet = Duration.ofMillis(100);

    // deleted and put back at once, as a script replacing the directory does
    Files.move(directory, aside);
    manager().refreshSettled(quiet).join();
    assertThat(state("m")).isEqualTo(ModelState.READY);
    Files.move(aside, directory);
    manager().refreshSettled(quiet).join();
    assertThat(state("m")).isEqualTo(ModelState.READY);
    assertThat(harness.engine.closes("m")).isZero();

    // gone for longer
    Files.move(directory, aside);
    manager().refreshSettled(quiet).join();
    Thread.sleep(quiet.toMillis() + 50);
    manager().refreshSettled(quiet).join();
    assertThatThrownBy(() -> manager().status("m")).isInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void anEngineThatCannotFitBesideTheServerIsNotStartedAndOneThatFitsCountsAsTheServers()
      throws IOException {
    harness.engine.takeOnStart(95 * MB);
    harness.model("m", 1, 10);
    manager().start().join();

    assertThatThrownBy(() -> manager().load("m", LoadPriority.HIGH).join())
        .hasCauseInstanceOf(InsufficientMemoryException.class)
        .hasMessageContaining(
            "cannot load model 'm' version 1: starting the fake engine takes about 95.0MB and the"
                + " model about ")
        .hasMessageContaining(
            "more than the memory budget of 100.0MB leaves beside the server's own 10.0MB; raise"
                + " the budget (--memory)");
    assertThat(harness.engine.allocatedBytes()).as("not started").isZero();

    harness.engine.takeOnStart(50 * MB);
    manager().load("m", LoadPriority.HIGH).join();

    // the server's own 10MB, the engine's 50MB, the model's 10MB
    assertThat(manager().accountedBytes()).isEqualTo(70 * MB);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(10 * MB);
  }

  @Test
  void aLoadRefusedWithNoModelLoadedSaysTheServerAloneHoldsMoreThanTheBudget() throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    // engines' libraries, heap and memory kept after unloads: the process alone past the budget
    harness.memory.setBaselineBytes(120 * MB);

    assertThatThrownBy(() -> manager().load("m", LoadPriority.HIGH).join())
        .hasCauseInstanceOf(InsufficientMemoryException.class)
        .hasMessageEndingWith(
            "; with no model loaded the server alone holds 120.0MB (its engines' libraries, the"
                + " heap, memory the engines keep after an unload): raise the budget (--memory)");
  }

  /** Sets a file's modification time to {@code ago} before now. */
  private static void modifiedAgo(Path file, Duration ago) throws IOException {
    Files.setLastModifiedTime(
        file,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - ago.toMillis()));
  }

  @Test
  void aChangedHealthBlockJudgesTheVersionAlreadyServed() throws IOException {
    harness.model("m", 1, 10);
    harness.config("m", "health: {max_error_rate: 1.0, min_requests: 1}\n");
    manager().start().join();
    use("m");
    harness.engine.failExecutions("m", new IllegalStateException("the engine broke"));
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> infer("m")).hasMessageContaining("the engine broke");
    }
    ModelVersionKey key = new ModelVersionKey("m", 1);
    assertThat(manager().statistics(key).orElseThrow().snapshot().degradedReason()).isEmpty();

    harness.config("m", "health: {max_error_rate: 0.1, min_requests: 1}\n");
    manager().refresh().join();

    assertThat(manager().statistics(key).orElseThrow().snapshot().degradedReason())
        .hasValueSatisfying(reason -> assertThat(reason).startsWith("error rate 100.0%"));
  }

  /** Loads the model while the server's own resident memory grows by {@code bytes}. */
  private void loadWhileResidentMemoryGrows(String name, long bytes) {
    long baseline = harness.memory.residentBytes() - harness.engine.allocatedBytes();
    Gate loads = harness.engine.holdLoads(name);
    CompletableFuture<Void> loading = manager().load(name, LoadPriority.NORMAL);
    loads.awaitArrivals(1);
    harness.memory.setBaselineBytes(baseline + bytes);
    loads.open();
    loading.join();
  }

  @Test
  void aLoadMeasuredWhileRequestsRunIsChargedNoMoreThanItsEstimate() throws Exception {
    harness.model("busy", 1, 10);
    harness.model("m", 1, 10);
    manager().start().join();
    use("busy");
    ModelLease inFlight = manager().acquire("busy", OptionalLong.empty()).join();
    // the busy model's request grows its engine's arena by 60MB while m loads
    loadWhileResidentMemoryGrows("m", 60 * MB);
    inFlight.close();

    ModelStatus status = manager().status("m").get(0);
    assertThat(status.memoryBytes())
        .as("what m holds (10MB) up to its estimate, not the 70MB resident memory grew")
        .isBetween(10 * MB, 30 * MB);
    assertThat(status.reason().orElseThrow())
        .contains("resident memory grew 70.0MB while requests ran");
  }

  @Test
  void aLoadMeasuredInQuietIsChargedAllThatResidentMemoryGrew() throws Exception {
    harness.model("idle", 1, 10);
    harness.model("m", 1, 10);
    manager().start().join();
    use("idle");
    // nothing else runs: the growth is the load's own (its engine's arena, its copies)
    loadWhileResidentMemoryGrows("m", 60 * MB);

    ModelStatus status = manager().status("m").get(0);
    assertThat(status.memoryBytes()).isEqualTo(70 * MB);
    assertThat(status.reason().orElseThrow()).doesNotContain("while requests ran");
  }

  @Test
  void aLoadWhoseResidentMemoryBarelyGrowsIsChargedWhatTheBackendSaysItHolds() throws Exception {
    harness.model("m", 1, 10);
    manager().start().join();
    long baseline = harness.memory.residentBytes() - harness.engine.allocatedBytes();
    Gate loads = harness.engine.holdLoads("m");
    CompletableFuture<Void> loading = manager().load("m", LoadPriority.NORMAL);
    loads.awaitArrivals(1);
    // the allocator gives the load the pages an unloaded model freed: resident memory grows 52KB
    harness.memory.setBaselineBytes(baseline - 10 * MB + 52 * 1024);
    loads.open();
    loading.join();

    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(10 * MB);
  }

  @Test
  void aFileThatChangesWhileItsFirstLoadRunsIsLoadedAgainAndALoadAskedForAfterGetsTheNewOne()
      throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    Gate loads = harness.engine.holdLoads("m");
    CompletableFuture<Void> first = manager().load("m", LoadPriority.NORMAL);
    loads.awaitArrivals(1);

    harness.model("m", 1, 12);
    CompletableFuture<Void> refreshed = manager().refresh();
    CompletableFuture<Void> asked = manager().load("m", LoadPriority.NORMAL);
    loads.open();
    first.join();
    refreshed.join();
    asked.join();

    assertThat(harness.engine.loads("m")).isEqualTo(2);
    assertThat(state("m")).isEqualTo(ModelState.READY);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(12 * MB);
    // nothing is left to apply
    manager().refresh().join();
    assertThat(harness.engine.loads("m")).isEqualTo(2);
  }

  @Test
  void aFileThatChangesWhileItReloadsIsLoadedAgain() throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    use("m");
    Gate loads = harness.engine.holdLoads("m");
    harness.model("m", 1, 12);
    CompletableFuture<Void> reloading = manager().refresh();
    loads.awaitArrivals(1);

    harness.model("m", 1, 14);
    CompletableFuture<Void> refreshed = manager().refresh();
    loads.open();
    reloading.join();
    refreshed.join();

    assertThat(harness.engine.loads("m")).isEqualTo(3);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(14 * MB);
  }

  @Test
  void ofALoadAndAnUnloadAskedForWhileALoadRunsTheLastWins() throws IOException {
    harness.model("m", 1, 10);
    harness.model("n", 1, 10);
    manager().start().join();
    Gate loadsOfM = harness.engine.holdLoads("m");
    Gate loadsOfN = harness.engine.holdLoads("n");

    // load, unload, load: loaded
    CompletableFuture<Void> first = manager().load("m", LoadPriority.NORMAL);
    loadsOfM.awaitArrivals(1);
    CompletableFuture<Void> unloaded = manager().unload("m");
    CompletableFuture<Void> second = manager().load("m", LoadPriority.NORMAL);
    loadsOfM.open();
    first.join();
    second.join();
    unloaded.join();
    assertThat(state("m")).isEqualTo(ModelState.READY);
    assertThat(harness.engine.loads("m")).isEqualTo(1);

    // load, a change, unload: unloaded, and the change is not loaded
    CompletableFuture<Void> loading = manager().load("n", LoadPriority.NORMAL);
    loadsOfN.awaitArrivals(1);
    harness.model("n", 1, 12);
    manager().refresh();
    CompletableFuture<Void> unloadedN = manager().unload("n");
    loadsOfN.open();
    loading.join();
    unloadedN.join();
    assertThat(state("n")).isEqualTo(ModelState.UNLOADED);
    assertThat(harness.engine.loads("n")).isEqualTo(1);
  }

  @Test
  void aFileReplacedByOneOfTheSameSizeAndModificationTimeIsReloaded() throws Exception {
    Path file = harness.model("m", 1, 10);
    manager().start().join();
    use("m");
    java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(file);
    long size = Files.size(file);
    Thread.sleep(20); // the status-change time moves on

    // retrained weights copied over with their time kept (cp -p, rsync -a, tar, touch -r)
    harness.model("m", 1, 10, "note=retrained");
    Files.setLastModifiedTime(file, modified);
    assertThat(Files.size(file)).isEqualTo(size);
    manager().refresh().join();

    assertThat(harness.engine.loads("m")).isEqualTo(2);
  }

  @Test
  void aFileThatChangesAsItsLoadFinishesIsReloaded() throws IOException {
    Path file = harness.model("m", 1, 10);
    manager().start().join();
    Gate loads = harness.engine.holdLoads("m");
    // the refresh runs in the load's completion, on the loader's thread, before it returns
    CompletableFuture<Void> refreshed =
        manager()
            .load("m", LoadPriority.NORMAL)
            .thenCompose(
                loaded -> {
                  try {
                    harness.model("m", 1, 12);
                    Files.setLastModifiedTime(
                        file,
                        java.nio.file.attribute.FileTime.fromMillis(
                            Files.getLastModifiedTime(file).toMillis() + 10_000));
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                  return manager().refresh();
                });
    loads.awaitArrivals(1);
    loads.open();

    refreshed.join();

    assertThat(harness.engine.loads("m")).as("the changed file is loaded").isEqualTo(2);
    assertThat(manager().status("m").get(0).memoryBytes()).isEqualTo(12 * MB);
  }

  @Test
  void aRemovedModelUnloadsAndIsNoLongerFound() throws IOException {
    harness.model("gone", 1, 10);
    manager().start().join();
    use("gone");
    try (Stream<Path> files = Files.walk(root.resolve("gone"))) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
    manager().refresh().join();
    transitions.await("gone", ModelState.UNLOADED);
    assertThat(harness.engine.closes("gone")).isEqualTo(1);
    assertThatThrownBy(() -> infer("gone")).isInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void unloadAndLoadThroughTheApi() throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    manager().load("m", LoadPriority.NORMAL).join();
    assertThat(state("m")).isEqualTo(ModelState.READY);
    manager().unload("m").join();
    assertThat(state("m")).isEqualTo(ModelState.UNLOADED);
    assertThat(infer("m").outputs()).as("a later request loads it again").hasSize(1);
    assertThatThrownBy(() -> manager().load("nope", LoadPriority.NORMAL).join())
        .hasRootCauseInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void aModelNeverLoadedWhoseEditCannotBeReadDoesNotClaimToServeWhatItLoaded() throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    harness.config("m", "max_batch_sise: 4\n");

    assertThatThrownBy(() -> manager().load("m", LoadPriority.NORMAL).join())
        .hasMessageContaining("model 'm' cannot be read again (none of its versions is loaded): ")
        .hasMessageNotContaining("serves what it loaded before");
    assertThat(manager().status("m").get(0).reason().orElseThrow())
        .startsWith("changed on disk but cannot be read: ")
        .contains("max_batch_sise");
  }

  @Test
  void aLoadReadsTheModelAgainFromDisk() throws IOException {
    harness.model("m", 1, 10);
    manager().start().join();
    use("m");

    harness.model("m", 2, 10);
    manager().load("m", LoadPriority.NORMAL).join();
    assertThat(manager().servedVersions("m")).containsExactly(2L);
    assertThat(infer("m").version()).isEqualTo(2);

    harness.config("m", "max_batch_sise: 4\n");
    assertThatThrownBy(() -> manager().load("m", LoadPriority.NORMAL).join())
        .hasMessageContaining("model 'm' cannot be read again, and serves what it loaded before")
        .hasMessageContaining("max_batch_sise");
    assertThat(infer("m").version()).as("the broken edit takes nothing down").isEqualTo(2);
    assertThat(manager().status("m").get(0).reason().orElseThrow())
        .startsWith("changed on disk but cannot be read, serving what it read before: ")
        .contains("max_batch_sise");

    harness.config("m", "max_batch_size: 4\n");
    manager().load("m", LoadPriority.NORMAL).join();
    assertThat(manager().definition("m").orElseThrow().config().maxBatchSize()).contains(4);
    assertThat(infer("m").version()).isEqualTo(2);

    try (Stream<Path> files = Files.walk(root.resolve("m"))) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
    assertThatThrownBy(() -> manager().load("m", LoadPriority.NORMAL).join())
        .hasRootCauseInstanceOf(ModelNotFoundException.class);
    transitions.await("m", ModelState.UNLOADED);
    assertThatThrownBy(() -> infer("m")).isInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void readinessWaitsForStartupModels() throws IOException {
    harness.model("boot", 1, 10);
    harness.config("boot", "load_at_startup: true\n");
    harness.model("lazy", 1, 10);
    Gate loads = harness.engine.holdLoads("boot");
    CompletableFuture<Void> started = manager().start();
    loads.awaitArrivals(1);
    assertThat(manager().notReady()).singleElement().asString().startsWith("boot (LOADING");
    loads.open();
    started.join();
    assertThat(manager().notReady()).isEmpty();
    assertThat(state("lazy")).isEqualTo(ModelState.AVAILABLE);
  }

  @Test
  void aModelThatCannotBeReadKeepsTheServerFromBeingReady() throws IOException {
    harness.model("typo", 1, 10);
    harness.config("typo", "load_at_startup: true\nmax_batchsize: 4\n");
    harness.model("fine", 1, 10);
    manager().start().join();
    assertThat(manager().notReady())
        .singleElement()
        .asString()
        .startsWith("typo (cannot be served: ")
        .contains("max_batchsize");

    harness.config("typo", "load_at_startup: true\nmax_batch_size: 4\n");
    manager().refresh().join();
    assertThat(manager().notReady()).isEmpty();
  }

  @Test
  void readinessKeepsAStartupModelThatServedWhenUnloadedOrEvictedButNotWhenItFails()
      throws IOException {
    Path file = harness.model("boot", 1, 40);
    harness.config("boot", "load_at_startup: true\n");
    harness.model("big", 1, 60);
    manager().start().join();
    assertThat(manager().notReady()).isEmpty();

    manager().unload("boot").join();
    assertThat(state("boot")).isEqualTo(ModelState.UNLOADED);
    assertThat(manager().notReady()).as("unloaded on request, it loads at its next one").isEmpty();

    use("boot");
    use("big");
    assertThat(state("boot")).isEqualTo(ModelState.EVICTED);
    assertThat(manager().notReady()).as("evicted, it loads at its next request").isEmpty();

    harness.model("boot", 1, 40, "fail=load");
    Files.setLastModifiedTime(
        file,
        java.nio.file.attribute.FileTime.fromMillis(
            Files.getLastModifiedTime(file).toMillis() + 10_000));
    manager().refresh().join();
    assertThatThrownBy(() -> use("boot")).hasMessageContaining("fake load failure");
    assertThat(manager().notReady()).singleElement().asString().startsWith("boot (FAILED");
  }

  @Test
  void requestsWhoseModelCannotBeHadAreCountedAsFailedByReason() throws IOException {
    // 200MB: more than the 100MB budget holds
    harness.model("big", 1, 200);
    harness.model("broken", 1, 10, "fail=load");
    manager().start().join();

    assertThatThrownBy(() -> infer("big")).isInstanceOf(InsufficientMemoryException.class);
    assertThatThrownBy(() -> infer("broken")).isInstanceOf(ModelUnavailableException.class);
    assertThatThrownBy(() -> infer("broken")).isInstanceOf(ModelUnavailableException.class);

    assertThat(failures("big"))
        .containsEntry(dev.hangar.core.health.FailureReason.INSUFFICIENT_MEMORY, 1L);
    assertThat(failures("broken"))
        .containsEntry(dev.hangar.core.health.FailureReason.UNAVAILABLE, 2L);
  }

  @Test
  void aVersionClosesForANormalEvictionOnlyWhileNoLeaseIsHeldInOneStep() throws IOException {
    harness.model("a", 1, 10);
    manager().start().join();
    ModelLease lease = manager().acquire("a", OptionalLong.empty()).join();
    LoadedVersion version = lease.version();

    assertThat(version.beginClosingIfIdle()).as("a lease is held").isFalse();
    assertThat(version.isClosing()).isFalse();
    assertThat(version.tryAcquire()).as("still leased out").isTrue();
    version.release();
    lease.close();

    assertThat(version.beginClosingIfIdle()).isTrue();
    assertThat(version.tryAcquire()).as("no lease once closing").isFalse();
    assertThat(version.drained()).isDone();
  }

  @Test
  void theSameLoadFailureAgainIsLoggedOnlyAtDebug() throws IOException {
    // 200MB: more than the 100MB budget holds; each request tries the load again
    harness.model("big", 1, 200);
    manager().start().join();

    List<String> logged =
        loggedAtInfo(
            "model big ",
            () -> {
              for (int i = 0; i < 3; i++) {
                // the server's own memory moves between tries: the numbers in the message change
                harness.memory.setBaselineBytes((10 + i) * MB);
                assertThatThrownBy(() -> infer("big"))
                    .isInstanceOf(InsufficientMemoryException.class);
              }
            });

    assertThat(harness.engine.loads("big")).isZero();
    assertThat(transitions.count("big", ModelState.FAILED)).as("every try fails").isEqualTo(3);
    assertThat(logged)
        .as("the first failure only")
        .hasSize(2)
        .anyMatch(line -> line.startsWith("INFO model big version 1: AVAILABLE -> LOADING"))
        .anyMatch(line -> line.startsWith("WARNING model big version 1: LOADING -> FAILED"));
  }

  @Test
  void aRefusalForMemoryAgainIsLoggedOnlyAtDebugWhateverModelsItNames() throws IOException {
    harness.model("a", 1, 30);
    harness.model("b", 1, 30);
    // needs about 69MB: room once a and b are gone, but they are busy
    harness.model("big", 1, 65);
    manager().start().join();
    use("a");
    use("b");
    ModelLease busyA = manager().acquire("a", OptionalLong.empty()).join();
    ModelLease busyB = manager().acquire("b", OptionalLong.empty()).join();

    List<String> logged =
        loggedAtInfo(
            "model big ",
            () -> {
              // the refusal names the busy models: a and b, then a alone
              assertThatThrownBy(() -> infer("big"))
                  .isInstanceOf(ModelUnavailableException.class)
                  .hasMessageContaining("busy: a v1 (1 requests), b v1 (1 requests)");
              try (ModelLease again = manager().acquire("a", OptionalLong.empty()).join()) {
                assertThatThrownBy(() -> infer("big"))
                    .isInstanceOf(ModelUnavailableException.class)
                    .hasMessageContaining("busy: a v1 (2 requests), b v1 (1 requests)");
              }
              busyB.close();
              // b idle now, and evictable: still not room enough with a busy
              assertThatThrownBy(() -> infer("big"))
                  .isInstanceOf(ModelUnavailableException.class)
                  .hasMessageContaining("busy: a v1 (1 requests);");
            });
    busyA.close();

    assertThat(logged)
        .as("the first refusal only: the rest differ in the models they name, not in kind")
        .hasSize(2)
        .anyMatch(line -> line.startsWith("INFO model big version 1: AVAILABLE -> LOADING"))
        .anyMatch(line -> line.startsWith("INFO model big version 1: LOADING -> AVAILABLE"));
  }

  /**
   * The manager's lines at INFO or above that start with {@code prefix} while {@code action} runs.
   */
  private static List<String> loggedAtInfo(String prefix, Runnable action) {
    return LogLines.atInfo(ModelManager.class, line -> line.startsWith(prefix), action);
  }

  private java.util.Map<dev.hangar.core.health.FailureReason, Long> failures(String model) {
    return manager()
        .statistics(new ModelVersionKey(model, 1))
        .orElseThrow()
        .snapshot()
        .failuresByReason();
  }

  @Test
  void statisticsCountRequestsFailuresAndJudgeDegraded() throws IOException {
    harness.model("h", 1, 10);
    harness.config(
        "h",
        "health: {max_error_rate: 0.2, min_requests: 5, window: 1m}\nwarmup: {enabled: false}\n");
    manager().start().join();
    for (int i = 0; i < 5; i++) {
      infer("h");
    }
    harness.engine.failExecutions("h", new dev.hangar.spi.BackendException("boom"));
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> infer("h")).hasMessageContaining("boom");
    }
    var snapshot = manager().statistics(new ModelVersionKey("h", 1)).orElseThrow().snapshot();
    assertThat(snapshot.successes()).isEqualTo(5);
    assertThat(snapshot.failures()).isEqualTo(5);
    assertThat(snapshot.failuresByReason())
        .containsEntry(dev.hangar.core.health.FailureReason.BACKEND_FAILURE, 5L);
    assertThat(snapshot.requestLatency().count()).isEqualTo(5);
    assertThat(snapshot.degradedReason())
        .hasValueSatisfying(reason -> assertThat(reason).contains("error rate 50.0%"));

    var monitor = new dev.hangar.core.health.HealthMonitor(manager(), harness.time);
    assertThat(monitor.model("h").get(0).verdict())
        .isEqualTo(dev.hangar.core.health.ModelHealth.Verdict.DEGRADED);
    assertThat(monitor.server().degraded())
        .singleElement()
        .asString()
        .startsWith("h v1: error rate 50.0%");
    assertThat(monitor.server().ready()).isTrue();

    harness.time.advance(Duration.ofMinutes(2));
    assertThat(
            manager()
                .statistics(new ModelVersionKey("h", 1))
                .orElseThrow()
                .snapshot()
                .degradedReason())
        .as("the window moved past the failures")
        .isEmpty();
    assertThat(monitor.model("h").get(0).verdict())
        .isEqualTo(dev.hangar.core.health.ModelHealth.Verdict.HEALTHY);
  }
}
