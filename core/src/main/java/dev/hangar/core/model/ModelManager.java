package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.Durations;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.config.Suggestions;
import dev.hangar.core.health.ModelStatistics;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.core.repository.ModelVersionFile;
import dev.hangar.core.repository.RepositoryEntry;
import dev.hangar.core.time.TimeSource;
import dev.hangar.spi.Backend;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelOptimizer;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Keeps models loaded, warm and inside the process's memory budget.
 *
 * <p><b>Requests</b> {@linkplain #acquire acquire} a {@link ModelLease} on a READY version. A
 * version that is not loaded is loaded on demand; concurrent requests share that one load. Leases
 * keep a version from being closed: eviction and unloading stop new leases, then wait for the last
 * one to be released.
 *
 * <p><b>Loads</b> run one at a time on the manager's loader thread, high-priority ones first, so
 * that each load's growth of resident memory can be measured. Before a load, the manager estimates
 * its size (file size times a factor learned per format) and admits it: when the resident memory or
 * the accounted total (whichever is larger) plus the estimate would pass the budget, it evicts
 * unpinned models in least-recently-used order, idle ones only for a {@link LoadPriority#NORMAL}
 * load, busy ones too for a {@link LoadPriority#HIGH} one, until the load fits; otherwise the load
 * fails with an {@link InsufficientMemoryException}. When evicting all of those would still not
 * make room (what they hold is known), it fails at once and evicts none. After load and warmup the
 * estimate is replaced by the measured growth (capped at what loads of the format kept once warm
 * when requests ran meanwhile, as their memory grew too), or the backend's own figure when that is
 * larger. After each unload, freed native memory is handed back to the OS. {@link MemoryAdmission}
 * keeps these accounts and makes these decisions; the manager owns the states they change.
 *
 * <p><b>Versions</b> follow each model's version policy; requests without a version go to the
 * highest served version that is READY, or else the highest served one. {@link #refresh()} applies
 * changes on disk: a changed or new version loads first, traffic moves to it, and the old one
 * unloads after draining. Until then, or for good when the new version fails to load, the old one
 * answers requests without a version, and requests may name it too.
 *
 * <p>Thread-safe. {@link #lock} guards every model's and version's state and the model map's
 * membership; the hot path (a lease on a READY version) takes no lock.
 */
public final class ModelManager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ModelManager.class.getName());
  private static final int ACQUIRE_ATTEMPTS = 3;
  // how long close() waits for in-flight requests; adapters drain their requests before closing
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(30);

  private final ModelRepository repository;
  private final BackendRegistry backends;
  private final MemoryAdmission admission;
  private final ModelStatuses statuses;
  private final TimeSource time;
  private final Executor completions;
  private final Warmup warmup;
  private final ThreadPoolExecutor loader;
  private final AtomicLong taskSequence = new AtomicLong();
  private final List<Consumer<LoadedVersion>> unloadListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ModelTransition>> transitionListeners = new CopyOnWriteArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, ModelEntry> models = new ConcurrentHashMap<>();
  private volatile boolean closed;
  // set when shutdown begins: the load in progress stops at its next warmup run, no other starts
  private volatile boolean loadsStopped;
  private volatile boolean preload = true;

  /**
   * Creates a manager. Call {@link #start()} to scan the repository and load start-up models.
   *
   * @param completions where requests continue after waiting for a load (never the loader thread)
   */
  public ModelManager(
      ModelRepository repository,
      BackendRegistry backends,
      DataSize memoryBudget,
      ResidentMemory memory,
      MemoryReclaimer reclaimer,
      TimeSource time,
      Executor completions) {
    this.repository = requireNonNull(repository, "repository is null");
    this.backends = requireNonNull(backends, "backends is null");
    this.admission =
        new MemoryAdmission(
            backends,
            requireNonNull(memoryBudget, "memoryBudget is null"),
            memory,
            reclaimer,
            lock,
            models,
            new MemoryAdmission.Unloading() {
              @Override
              public void begin(VersionEntry entry, String reason) {
                beginUnload(entry, reason);
              }

              @Override
              public void finish(
                  VersionEntry entry, LoadedVersion loaded, ModelState finalState, String reason) {
                finishUnload(entry, loaded, finalState, reason);
              }
            });
    this.time = requireNonNull(time, "time is null");
    this.completions = requireNonNull(completions, "completions is null");
    this.warmup = new Warmup(time);
    this.statuses = new ModelStatuses(lock, models, this.time);
    this.loader =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new PriorityBlockingQueue<>(),
            runnable -> {
              Thread thread = new Thread(runnable, "hangar-model-loader");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Measures the server's own memory as the budget's baseline, scans the repository and queues the
   * loads of pinned and start-up models.
   *
   * @return a future that completes when every start-up load has finished, well or not
   */
  public CompletableFuture<Void> start() {
    return start(true);
  }

  /**
   * Like {@link #start()}; with {@code loadStartupModels} false, models load only on demand (for
   * one-shot commands), pinned and start-up ones included.
   */
  public CompletableFuture<Void> start(boolean loadStartupModels) {
    preload = loadStartupModels;
    long baseline = admission.measureBaseline();
    LOG.log(
        Level.INFO,
        "memory budget {0}, of which the server itself holds {1}",
        DataSize.format(admission.limitBytes()),
        DataSize.format(baseline));
    if (baseline >= admission.limitBytes()) {
      LOG.log(
          Level.WARNING,
          "the server alone ({0}) already fills the memory budget ({1}); no model will fit",
          DataSize.format(baseline),
          DataSize.format(admission.limitBytes()));
    }
    return refresh();
  }

  /**
   * Brings resident memory back within the budget when the server's runs have grown it past: evicts
   * idle unpinned versions, least recently used first, until it is within the budget, none is idle,
   * or an eviction frees far less than expected. Runs on the loader thread, after the loads queued
   * before it.
   *
   * @return a future of how many versions it evicted
   */
  public CompletableFuture<Integer> relieveMemoryPressure() {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    if (loadsStopped) {
      done.complete(0);
      return done;
    }
    try {
      loader.execute(
          new LoaderTask(
              LoadPriority.NORMAL,
              taskSequence.incrementAndGet(),
              () -> {
                try {
                  done.complete(admission.relievePressure());
                } catch (Throwable failure) {
                  done.completeExceptionally(failure);
                }
              }));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      done.complete(0); // closed meanwhile: nothing left to relieve
    }
    return done;
  }

  /** Registers a callback run after a loaded version is closed, for whoever holds state for it. */
  public void onUnloaded(Consumer<LoadedVersion> listener) {
    unloadListeners.add(listener);
  }

  /**
   * Registers a callback run on every state change, with the manager's lock held: it must be quick
   * and must not call the manager.
   */
  public void onTransition(Consumer<ModelTransition> listener) {
    transitionListeners.add(listener);
  }

  /** Returns the memory budget in bytes. */
  public long budgetBytes() {
    return admission.limitBytes();
  }

  /** Returns the baseline plus every model's account, in bytes. */
  public long accountedBytes() {
    return admission.accountedBytes();
  }

  /** Returns the process's resident memory now, in bytes. */
  public long residentBytes() {
    return admission.residentBytes();
  }

  /**
   * Returns the budget's use now, in bytes: the larger of resident memory and the accounted total,
   * which a load's estimate is added to when it is admitted.
   */
  public long usedBytes() {
    return admission.usedBytes();
  }

  // ---------------------------------------------------------------------------------------------
  // Leases

  /**
   * Returns a lease on a READY version of the model, loading it first when needed.
   *
   * @param version the version, or empty for the default one
   * @return a future that fails with {@link ModelNotFoundException}, {@link
   *     ModelUnavailableException} or {@link InsufficientMemoryException} when no lease can be had
   */
  public CompletableFuture<ModelLease> acquire(String name, OptionalLong version) {
    ModelEntry model = models.get(name);
    if (model != null) {
      VersionEntry entry =
          version.isPresent() ? named(model, version.getAsLong()) : model.defaultVersion;
      if (entry != null) {
        LoadedVersion ready = entry.ready;
        if (ready != null && ready.tryAcquire()) {
          return CompletableFuture.completedFuture(lease(entry, ready));
        }
      }
    }
    return acquireSlowly(name, version, 1);
  }

  private CompletableFuture<ModelLease> acquireSlowly(
      String name, OptionalLong version, int attempt) {
    CompletableFuture<LoadedVersion> loading;
    VersionEntry entry;
    lock.lock();
    try {
      ModelEntry model = models.get(name);
      if (model == null || closed) {
        return CompletableFuture.failedFuture(unknownModel(name));
      }
      if (model.definition == null) {
        return CompletableFuture.failedFuture(
            new ModelUnavailableException(
                "model '" + name + "' cannot be served: " + model.problem.getMessage(),
                model.problem));
      }
      entry = resolve(model, version);
      LoadedVersion ready = entry.ready;
      if (ready != null && ready.tryAcquire()) {
        return CompletableFuture.completedFuture(lease(entry, ready));
      }
      if (entry.state == ModelState.FAILED
          && entry.loading == null
          && !isRetryable(entry.failure)) {
        return CompletableFuture.failedFuture(failedLoad(entry));
      }
      loading = ensureLoading(model, entry, model.loadPriority());
    } catch (HangarException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      lock.unlock();
    }
    VersionEntry target = entry;
    return loading
        .handleAsync(
            (loaded, failure) -> {
              if (failure != null) {
                Throwable cause = unwrap(failure);
                if (cause instanceof HangarException hangar
                    && hangar.category() != ErrorCategory.INSUFFICIENT_RESOURCES
                    && hangar.category() != ErrorCategory.NOT_FOUND
                    && hangar.category() != ErrorCategory.UNAVAILABLE) {
                  cause = failedLoad(target.key, hangar);
                }
                return CompletableFuture.<ModelLease>failedFuture(cause);
              }
              if (loaded.tryAcquire()) {
                return CompletableFuture.completedFuture(lease(target, loaded));
              }
              if (attempt < ACQUIRE_ATTEMPTS) {
                return acquireSlowly(name, version, attempt + 1);
              }
              return CompletableFuture.<ModelLease>failedFuture(unloadedAgain(target));
            },
            completions)
        .thenCompose(future -> future);
  }

  /** The failure of a request whose version, loaded for it, was unloaded each time it came. */
  private ModelUnavailableException unloadedAgain(VersionEntry entry) {
    lock.lock();
    try {
      // what unloaded it (a request to unload, or eviction for another model) says what to do
      return new ModelUnavailableException(
          entry.key.describe()
              + " was unloaded again before it could serve ("
              + entry.state
              + (entry.reason == null ? "" : ": " + entry.reason)
              + "); retry");
    } finally {
      lock.unlock();
    }
  }

  private ModelLease lease(VersionEntry entry, LoadedVersion loaded) {
    return new ModelLease(
        loaded,
        () -> {
          entry.lastUsedNanos = time.nanoTime();
          entry.used = true;
        });
  }

  private VersionEntry resolve(ModelEntry model, OptionalLong version) {
    if (version.isEmpty()) {
      VersionEntry entry = model.defaultVersion;
      if (entry == null) {
        throw new ModelUnavailableException("model '" + model.name + "' has no version to serve");
      }
      return entry;
    }
    VersionEntry entry = named(model, version.getAsLong());
    if (entry == null) {
      throw new ModelNotFoundException(
          "model '"
              + model.name
              + "' has no version "
              + version.getAsLong()
              + " being served; served versions: "
              + servedVersions(model));
    }
    return entry;
  }

  /**
   * The version a request names, when it may: one the policy serves, or the one from before that
   * answers requests without a version while none of those is READY (one loading, or failed to
   * load). Null for any other.
   */
  private static VersionEntry named(ModelEntry model, long version) {
    VersionEntry entry = model.served.get(version);
    if (entry != null) {
      return entry;
    }
    VersionEntry previous = model.defaultVersion;
    return previous != null && previous.key.version() == version ? previous : null;
  }

  /** The versions requests may name ({@link #named}), highest first. */
  private static List<Long> servedVersions(ModelEntry model) {
    List<Long> versions = new ArrayList<>(model.served.keySet());
    VersionEntry previous = model.defaultVersion;
    if (previous != null && !model.served.containsKey(previous.key.version())) {
      versions.add(previous.key.version());
    }
    versions.sort(Comparator.reverseOrder());
    return versions;
  }

  private ModelNotFoundException unknownModel(String name) {
    return new ModelNotFoundException(
        "unknown model '" + name + "'" + Suggestions.hint(name, models.keySet()));
  }

  private static boolean isRetryable(HangarException failure) {
    return failure == null || failure.category() == ErrorCategory.INSUFFICIENT_RESOURCES;
  }

  private static HangarException failedLoad(VersionEntry entry) {
    return failedLoad(entry.key, entry.failure);
  }

  private static HangarException failedLoad(ModelVersionKey key, HangarException failure) {
    return new ModelUnavailableException(
        key.describe() + " failed to load: " + failure.getMessage(), failure);
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  // ---------------------------------------------------------------------------------------------
  // The repository API

  /**
   * Reads the model's directory again and loads every served version of it (again, if it failed),
   * with the given priority, as Triton's load does: new versions and a changed file or config
   * apply, and a model gone from the repository unloads. A directory that cannot be read fails the
   * load and leaves what was loaded before serving.
   *
   * @return a future that completes when the loads have finished, failing with the first failure
   */
  public CompletableFuture<Void> load(String name, LoadPriority priority) {
    List<CompletableFuture<LoadedVersion>> loads = new ArrayList<>();
    lock.lock();
    try {
      refreshOne(name);
      ModelEntry model = models.get(name);
      if (model == null) {
        return CompletableFuture.failedFuture(unknownModel(name));
      }
      if (model.definition == null) {
        // what is wrong is in its files (a user error, 400), as for a model read before
        return CompletableFuture.failedFuture(
            new HangarException(
                model.problem.category(),
                "model '" + name + "' cannot be served: " + model.problem.getMessage(),
                model.problem));
      }
      if (model.problem != null) {
        return CompletableFuture.failedFuture(
            new HangarException(
                model.problem.category(),
                "model '"
                    + name
                    + "' cannot be read again"
                    + (model.versions.values().stream().anyMatch(v -> v.loaded != null)
                        ? ", and serves what it loaded before: "
                        : " (none of its versions is loaded): ")
                    + model.problem.getMessage(),
                model.problem));
      }
      for (VersionEntry entry : model.served.values()) {
        if (entry.state == ModelState.FAILED) {
          entry.failure = null;
        }
        entry.loadRequests++;
        loads.add(ensureLoading(model, entry, priority, true));
      }
    } finally {
      lock.unlock();
    }
    return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
  }

  /**
   * Unloads every loaded version of a model, after their in-flight requests finish. Requests that
   * arrive later load it again.
   *
   * @return a future that completes when the versions are closed
   */
  public CompletableFuture<Void> unload(String name) {
    List<CompletableFuture<Void>> unloads = new ArrayList<>();
    lock.lock();
    try {
      ModelEntry model = models.get(name);
      if (model == null) {
        return CompletableFuture.failedFuture(unknownModel(name));
      }
      for (VersionEntry entry : model.versions.values()) {
        entry.unloadRequests++;
        entry.reloadRequested = false; // a change not loaded yet is not loaded now
        unloads.add(unloadOnRequest(entry));
      }
    } finally {
      lock.unlock();
    }
    return CompletableFuture.allOf(unloads.toArray(CompletableFuture[]::new));
  }

  /** Pins or unpins a model; a pinned model is loaded now and never evicted. */
  public CompletableFuture<Void> setPinned(String name, boolean pinned) {
    lock.lock();
    try {
      ModelEntry model = models.get(name);
      if (model == null) {
        return CompletableFuture.failedFuture(unknownModel(name));
      }
      model.pinnedOverride = pinned;
      LOG.log(Level.INFO, "model {0} {1}", name, pinned ? "pinned" : "unpinned");
    } finally {
      lock.unlock();
    }
    return pinned ? load(name, LoadPriority.HIGH) : CompletableFuture.completedFuture(null);
  }

  /**
   * Scans the repository and applies what changed: new models register (and load, when pinned or
   * marked for start-up), changed models load their new versions or files before the old ones
   * unload, removed models unload after draining.
   *
   * @return a future that completes when the loads this refresh started have finished
   */
  public CompletableFuture<Void> refresh() {
    return refresh(System.currentTimeMillis(), Duration.ZERO);
  }

  /**
   * Scans the repository and applies what changed, as {@link #refresh()} does, but for models with
   * a file modified within {@code quiet} of now, or gone for less than that: they are left as they
   * are until a later scan, so that a file still being written (copied over in place, say) is not
   * loaded half-written and then again, and a model deleted and put back at once is not unloaded.
   *
   * @return a future that completes when the loads this refresh started have finished
   */
  public CompletableFuture<Void> refreshSettled(Duration quiet) {
    return refresh(System.currentTimeMillis(), quiet);
  }

  private CompletableFuture<Void> refresh(long nowMillis, Duration quiet) {
    long quietMillis = quiet.toMillis();
    List<RepositoryEntry> scanned = repository.scan();
    List<CompletableFuture<?>> started = new ArrayList<>();
    lock.lock();
    try {
      Set<String> seen = new HashSet<>();
      for (RepositoryEntry entry : scanned) {
        seen.add(entry.name());
        ModelEntry known = models.get(entry.name());
        if (known != null) {
          known.missingSinceMillis = -1;
        }
        long since = nowMillis - entry.lastModifiedMillis();
        // a time in the future by more than the quiet period is a clock's doing, not a write's
        if (Math.abs(since) < quietMillis) {
          LOG.log(
              Level.DEBUG,
              "model {0} was modified {1} ms ago; applying it once unchanged for {2}",
              entry.name(),
              since,
              Durations.format(quiet));
          continue;
        }
        started.addAll(apply(entry));
      }
      for (ModelEntry model : List.copyOf(models.values())) {
        if (seen.contains(model.name)) {
          continue;
        }
        if (model.missingSinceMillis < 0) {
          model.missingSinceMillis = nowMillis;
        }
        if (nowMillis - model.missingSinceMillis >= quietMillis) {
          started.addAll(remove(model));
        }
      }
    } finally {
      lock.unlock();
    }
    return CompletableFuture.allOf(
        started.stream().map(f -> f.exceptionally(e -> null)).toArray(CompletableFuture[]::new));
  }

  /** Applies what changed on disk for one model, its removal included. */
  private void refreshOne(String name) {
    Optional<RepositoryEntry> scanned = repository.scan(name);
    if (scanned.isPresent()) {
      apply(scanned.get());
      return;
    }
    ModelEntry model = models.get(name);
    if (model != null) {
      remove(model);
    }
  }

  /** Forgets a model gone from the repository and unloads its versions after draining. */
  private List<CompletableFuture<Void>> remove(ModelEntry model) {
    models.remove(model.name);
    LOG.log(Level.INFO, "model {0} was removed from the repository", model.name);
    List<CompletableFuture<Void>> unloads = new ArrayList<>();
    for (VersionEntry entry : model.versions.values()) {
      unloads.add(queueUnload(entry, ModelState.UNLOADED, "removed from the repository"));
    }
    return unloads;
  }

  private List<CompletableFuture<?>> apply(RepositoryEntry scanned) {
    List<CompletableFuture<?>> started = new ArrayList<>();
    ModelEntry model = models.get(scanned.name());
    if (model == null) {
      model = new ModelEntry(scanned.name());
      models.put(model.name, model);
      if (scanned.problem().isPresent()) {
        model.problem = scanned.problem().get();
        LOG.log(
            Level.WARNING,
            "model {0} cannot be served: {1}",
            model.name,
            model.problem.getMessage());
        return started;
      }
      model.definition = scanned.definition().orElseThrow();
      warnOfVersionsNotServed(model.definition);
      syncVersions(model, true, started);
      LOG.log(
          Level.INFO,
          "model {0} found: {1}, versions {2}, serving {3}",
          model.name,
          model.definition.format(),
          model.definition.versions().stream().map(ModelVersionFile::version).toList(),
          model.served.keySet());
      return started;
    }
    if (scanned.problem().isPresent()) {
      HangarException problem = scanned.problem().get();
      if (model.definition != null) {
        // keep serving what is loaded: a broken edit must not take a working model down
        if (model.problem == null || !problem.getMessage().equals(model.problem.getMessage())) {
          LOG.log(
              Level.WARNING,
              "model {0} changed on disk but cannot be read; still serving the previous version: {1}",
              model.name,
              problem.getMessage());
        }
      }
      model.problem = problem;
      return started;
    }
    ModelDefinition definition = scanned.definition().orElseThrow();
    boolean configChanged =
        model.definition == null
            || !definition.configStamp().equals(model.definition.configStamp());
    boolean changed =
        configChanged
            || model.definition == null
            || !definition.versions().equals(model.definition.versions())
            || !definition.misnamedVersions().equals(model.definition.misnamedVersions());
    model.problem = null;
    if (!changed) {
      return started;
    }
    ModelDefinition previous = model.definition;
    model.definition = definition;
    LOG.log(Level.INFO, "model {0} changed on disk; applying", model.name);
    warnOfVersionsNotServed(definition);
    List<Long> servedNow = definition.servedVersions();
    for (VersionEntry entry : model.versions.values()) {
      // a version the policy no longer serves is retired below, not loaded again first
      Optional<ModelVersionFile> file =
          definition
              .version(entry.key.version())
              .filter(found -> servedNow.contains(found.version()));
      boolean fileChanged =
          file.isPresent()
              && (entry.file == null || !file.get().stamp().equals(entry.file.stamp()));
      if (entry.state == ModelState.FAILED && (fileChanged || configChanged)) {
        entry.failure = null;
      }
      if (entry.loaded != null && file.isPresent() && (fileChanged || configChanged)) {
        entry.reloadRequested = true;
        started.add(ensureLoading(model, entry, LoadPriority.HIGH));
      } else if (entry.loading != null && file.isPresent() && (fileChanged || configChanged)) {
        // the load in progress reads what was there before: it loads again once done
        entry.reloadRequested = true;
        started.add(entry.loading);
      }
    }
    syncVersions(model, previous == null || hasResidentVersion(model), started);
    return started;
  }

  /**
   * Says once, as a model is found or changes, which of its directories no version is read from,
   * and which versions its policy names that are not on disk.
   */
  private static void warnOfVersionsNotServed(ModelDefinition definition) {
    if (!definition.misnamedVersions().isEmpty()) {
      LOG.log(
          Level.WARNING,
          "model {0}: the directories {1} hold model files but are not named as versions (whole"
              + " numbers from 1, without leading zeros), so nothing is served from them",
          definition.name(),
          definition.misnamedVersions());
    }
    if (!definition.missingSpecificVersions().isEmpty()) {
      LOG.log(
          Level.WARNING,
          "model {0}: version_policy names versions {1}, which have no version directory with a"
              + " model file; serving {2}",
          definition.name(),
          definition.missingSpecificVersions(),
          definition.servedVersions());
    }
  }

  /** Creates entries for newly served versions and loads them when the model is in use. */
  private void syncVersions(
      ModelEntry model, boolean loadNewVersions, List<CompletableFuture<?>> started) {
    ModelConfig config = model.definition.config();
    Map<Long, VersionEntry> served = new LinkedHashMap<>();
    for (long version : model.definition.servedVersions()) {
      VersionEntry entry =
          model.versions.computeIfAbsent(
              version,
              v ->
                  new VersionEntry(
                      new ModelVersionKey(model.name, v),
                      new ModelStatistics(time, config.health())));
      // a changed health: block judges the versions it already had from now on
      entry.statistics.setThresholds(config.health());
      served.put(version, entry);
      boolean wanted = preload && (config.loadAtStartup() || model.pinned());
      if (entry.loaded == null
          && entry.loading == null
          && (wanted || (loadNewVersions && hasResidentVersion(model)))) {
        started.add(
            ensureLoading(model, entry, model.pinned() ? LoadPriority.HIGH : model.loadPriority()));
      }
    }
    model.served = Map.copyOf(served);
    updateDefault(model);
    retireUnserved(model);
  }

  private static boolean hasResidentVersion(ModelEntry model) {
    return model.versions.values().stream()
        .anyMatch(entry -> entry.loaded != null || entry.loading != null);
  }

  /**
   * Points requests without a version at the highest served version that is READY; while none is (a
   * new version still loading), at the highest version still READY from before; failing that, at
   * the highest served version, which then loads on demand.
   */
  private void updateDefault(ModelEntry model) {
    VersionEntry chosen = null;
    for (VersionEntry entry : model.versions.descendingMap().values()) {
      if (entry.ready != null && model.served.containsKey(entry.key.version())) {
        chosen = entry;
        break;
      }
    }
    if (chosen == null) {
      for (VersionEntry entry : model.versions.descendingMap().values()) {
        if (entry.ready != null) {
          chosen = entry;
          break;
        }
      }
    }
    if (chosen == null) {
      chosen =
          model.served.keySet().stream().max(Long::compare).map(model.served::get).orElse(null);
    }
    if (chosen != model.defaultVersion) {
      model.defaultVersion = chosen;
      if (chosen != null && chosen.ready != null) {
        LOG.log(
            Level.INFO,
            "model {0}: requests without a version now go to version {1}",
            model.name,
            chosen.key.version());
      }
    }
  }

  /** Unloads versions the policy no longer serves, once the default version is READY. */
  private void retireUnserved(ModelEntry model) {
    VersionEntry current = model.defaultVersion;
    boolean defaultReady =
        current != null && current.ready != null && model.served.containsKey(current.key.version());
    for (VersionEntry entry : List.copyOf(model.versions.values())) {
      if (model.served.containsKey(entry.key.version())) {
        continue;
      }
      if (entry.loaded == null && entry.loading == null) {
        model.versions.remove(entry.key.version());
      } else if (defaultReady && entry.loaded != null && !entry.loaded.isClosing()) {
        queueUnload(
            entry,
            ModelState.UNLOADED,
            "no longer served (served now: "
                + model.served.keySet().stream().sorted().toList()
                + ")");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  private CompletableFuture<LoadedVersion> ensureLoading(
      ModelEntry model, VersionEntry entry, LoadPriority priority) {
    return ensureLoading(model, entry, priority, false);
  }

  /**
   * Starts a load of the entry unless one runs or it is loaded. A load the repository API asked for
   * ({@code yieldsToUnload}) gives way to an unload asked for after it, so that the last of the two
   * wins; a load a request needs does not.
   */
  private CompletableFuture<LoadedVersion> ensureLoading(
      ModelEntry model, VersionEntry entry, LoadPriority priority, boolean yieldsToUnload) {
    if (entry.loading != null
        && (entry.loadingAfterUnloads < 0 || entry.loadingAfterUnloads == entry.unloadRequests)) {
      return entry.loading;
    }
    if (entry.ready != null && !entry.reloadRequested) {
      return CompletableFuture.completedFuture(entry.ready);
    }
    CompletableFuture<LoadedVersion> future = new CompletableFuture<>();
    long unloadsBefore = yieldsToUnload ? entry.unloadRequests : -1;
    entry.loading = future;
    entry.loadingAfterUnloads = unloadsBefore;
    loader.execute(
        new LoaderTask(
            priority,
            taskSequence.incrementAndGet(),
            () -> runLoad(model, entry, priority, unloadsBefore, future)));
    return future;
  }

  /**
   * Runs a load on the loader thread; {@code unloadsBefore} is the entry's unload requests when the
   * load was asked for, or -1 for a load that does not give way to a later one.
   */
  private void runLoad(
      ModelEntry model,
      VersionEntry entry,
      LoadPriority priority,
      long unloadsBefore,
      CompletableFuture<LoadedVersion> future) {
    boolean yieldsToUnload = unloadsBefore >= 0;
    LoadedVersion loaded = null;
    Throwable failure = null;
    try {
      loaded = loadNow(model, entry, priority, unloadsBefore);
    } catch (Throwable e) {
      failure =
          e instanceof HangarException
              ? e
              : new HangarException(
                  ErrorCategory.INTERNAL,
                  "loading model '" + entry.key.name() + "' failed: " + e,
                  e);
    }
    // done loading before anyone hears of it: a reload asked for by whoever the future wakes
    // (a file changed meanwhile) must start a new load, not get this finished one back
    CompletableFuture<LoadedVersion> again = null;
    lock.lock();
    try {
      if (entry.loading == future) {
        entry.loading = null;
        if (entry.reloadRequested
            && !loadsStopped
            && models.get(model.name) == model
            && model.served.get(entry.key.version()) == entry) {
          // its files changed while this load read them: whoever waits gets the next load's
          LOG.log(
              Level.INFO,
              "{0} changed on disk while it loaded; loading it again",
              entry.key.describe());
          again = ensureLoading(model, entry, priority, yieldsToUnload);
        }
      }
    } finally {
      lock.unlock();
    }
    if (again != null) {
      again.whenComplete(
          (next, error) -> {
            if (error == null) {
              future.complete(next);
            } else {
              future.completeExceptionally(error);
            }
          });
      return;
    }
    if (failure == null) {
      future.complete(loaded);
    } else {
      future.completeExceptionally(failure);
    }
  }

  private static ModelOptimizer optimizerOf(Backend backend, String model, String format) {
    return backend
        .capability(ModelOptimizer.class)
        .orElseThrow(
            () ->
                new ModelLoadException(
                    ErrorCategory.USER_ERROR,
                    "model '"
                        + model
                        + "' has an optimization block in its config.yaml, but the "
                        + format
                        + " backend has no optimizer; remove the block or serve another format"));
  }

  private LoadedVersion loadNow(
      ModelEntry model, VersionEntry entry, LoadPriority priority, long unloadsBefore) {
    ModelDefinition definition;
    ModelVersionFile file;
    LoadedVersion previous;
    lock.lock();
    try {
      if (loadsStopped) {
        throw new ModelUnavailableException("the server is shutting down");
      }
      if (unloadsBefore >= 0 && entry.unloadRequests != unloadsBefore) {
        // the last request was an unload: this load, asked for before it, does not undo it
        throw new ModelUnavailableException(
            entry.key.describe() + " was unloaded on request after this load was asked for");
      }
      if (entry.ready != null && !entry.reloadRequested) {
        return entry.ready;
      }
      if (model.definition == null) {
        throw new ModelUnavailableException(
            "model '" + model.name + "' cannot be served: " + model.problem.getMessage());
      }
      definition = model.definition;
      file =
          definition
              .version(entry.key.version())
              .orElseThrow(
                  () -> new ModelNotFoundException(entry.key.describe() + " is no longer on disk"));
      previous = entry.reloadRequested ? entry.loaded : null;
      entry.reloadRequested = false;
      entry.file = file;
      transition(
          entry,
          ModelState.LOADING,
          previous == null
              ? ""
              : "the file or config changed; the loaded instance serves until this one is ready",
          // another try after a failure: its end is logged, unless it is the same failure again
          entry.lastLoadFailure != null ? Level.DEBUG : Level.INFO);
    } finally {
      lock.unlock();
    }
    Object account = new Object();
    long weightBytes = weightBytes(definition, file);
    long need = admission.estimate(definition.format(), weightBytes);
    try {
      admission.startEngine(entry, definition.format(), need);
    } catch (HangarException e) {
      failLoad(model, entry, previous, e);
      throw e;
    } catch (RuntimeException e) {
      HangarException failure = asHangar(e, "preparing the " + definition.format() + " backend");
      failLoad(model, entry, previous, failure);
      throw failure;
    }
    try {
      admission.admit(entry, account, need, priority);
    } catch (HangarException e) {
      failLoad(model, entry, previous, e);
      throw e;
    }
    MemoryAdmission.LoadMeasurement measurement = admission.startMeasuring();
    long start = time.nanoTime();
    LoadedModel loadedModel;
    try {
      ModelConfig config = definition.config();
      Backend backend = backends.backend(definition.format());
      ModelSource source = definition.source(file);
      if (config.optimization().isPresent()) {
        // optimized once by the backend and cached; later loads reuse the optimized file
        source =
            optimizerOf(backend, model.name, definition.format())
                .prepare(source, config.optimization().get());
      }
      loadedModel = backend.load(source);
    } catch (RuntimeException e) {
      measurement.close();
      admission.abandon(account);
      HangarException failure = asHangar(e, "loading");
      failLoad(model, entry, previous, failure);
      throw failure;
    }
    Duration loadTime = Duration.ofNanos(time.nanoTime() - start);
    entry.statistics.recordLoad(loadTime);
    ModelConfig config = definition.config();
    LoadedVersion loaded;
    List<Duration> warmupTimes;
    try {
      ModelSignature signature = config.servedSignature(loadedModel.signature());
      loaded =
          new LoadedVersion(
              entry.key,
              definition.format(),
              config,
              loadedModel,
              signature,
              config.effectiveMaxBatchSize(signature),
              entry.statistics,
              account);
      lock.lock();
      try {
        transition(entry, ModelState.WARMING, "loaded in " + Durations.format(loadTime));
      } finally {
        lock.unlock();
      }
      warmupTimes =
          warmup.run(
              loadedModel,
              signature,
              loaded.maxBatchSize(),
              config.warmup(),
              definition.directory(),
              () -> loadsStopped);
      loadedModel.warmedUp();
    } catch (RuntimeException e) {
      measurement.close();
      closeQuietly(loadedModel);
      admission.abandon(account);
      HangarException failure = asHangar(e, "warming up");
      failLoad(model, entry, previous, failure);
      throw failure;
    }
    warmupTimes.forEach(entry.statistics::recordWarmup);
    MemoryAdmission.Charge charge =
        admission.charge(
            account,
            definition.format(),
            weightBytes,
            measurement,
            loadedModel.memoryEstimateBytes());
    long accounted = charge.bytes();
    try {
      admission.settle(entry, priority, accounted, need);
    } catch (HangarException e) {
      closeQuietly(loadedModel);
      admission.abandon(account);
      failLoad(model, entry, previous, e);
      throw e;
    }
    Duration warmupTotal = warmupTimes.stream().reduce(Duration.ZERO, Duration::plus);
    lock.lock();
    try {
      entry.loaded = loaded;
      entry.ready = loaded;
      entry.failure = null;
      entry.lastLoadFailure = null;
      model.hasServed = true;
      entry.accountedBytes = accounted;
      entry.loadTime = loadTime;
      entry.warmupTime = warmupTimes.isEmpty() ? null : warmupTotal;
      entry.lastUsedNanos = time.nanoTime();
      transition(
          entry,
          ModelState.READY,
          "load "
              + Durations.format(loadTime)
              + ", warmup "
              + warmupTimes.size()
              + " runs in "
              + Durations.format(warmupTotal)
              + ", memory "
              + DataSize.format(accounted)
              + " (estimated "
              + DataSize.format(need)
              + (charge.measuredUnderTraffic()
                  ? "; resident memory grew "
                      + DataSize.format(charge.measuredBytes())
                      + " while requests ran, which counts their memory too"
                  : "")
              + ")");
      if (previous != null) {
        previous.beginClosing();
      }
      updateDefault(model);
      retireUnserved(model);
    } finally {
      lock.unlock();
    }
    if (previous != null) {
      closeWhenDrained(entry, previous, "the previous instance, after draining");
    }
    return loaded;
  }

  private void failLoad(
      ModelEntry model, VersionEntry entry, LoadedVersion previous, HangarException failure) {
    entry.statistics.recordLoadFailure();
    lock.lock();
    try {
      if (previous != null && !previous.isClosing()) {
        entry.ready = previous;
        entry.loaded = previous;
        transition(
            entry,
            ModelState.READY,
            "reload failed, still serving the previous instance: " + failure.getMessage(),
            Level.WARNING);
        return;
      }
      // the same failure again (each request to a model that cannot load tries once more) is
      // logged at DEBUG: the log would otherwise grow with the request rate
      String kind = failureKind(failure);
      boolean again = kind.equals(entry.lastLoadFailure);
      entry.lastLoadFailure = kind;
      if (failure.category() == ErrorCategory.UNAVAILABLE) {
        // refused for now (models busy), not failed: its next request tries again
        entry.failure = null;
        transition(
            entry,
            ModelState.AVAILABLE,
            "not loaded: " + failure.getMessage(),
            again ? Level.DEBUG : Level.INFO);
      } else {
        entry.failure = failure;
        transition(
            entry, ModelState.FAILED, failure.getMessage(), again ? Level.DEBUG : Level.WARNING);
      }
      updateDefault(model);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What makes two load failures the same: a refusal for memory or for now is the same as the last
   * of its kind (its figures and the busy models it names move from one try to the next); any other
   * failure, its category and message but for the numbers in it.
   */
  private static String failureKind(HangarException failure) {
    if (failure instanceof InsufficientMemoryException
        || failure.category() == ErrorCategory.UNAVAILABLE) {
      return failure.category() + ": " + failure.getClass().getName();
    }
    return failure.category() + ": " + String.valueOf(failure.getMessage()).replaceAll("[0-9]", "");
  }

  // ---------------------------------------------------------------------------------------------
  // Unloading

  /** Unloads on request, unless a load is asked for before the unload's turn comes. */
  private CompletableFuture<Void> unloadOnRequest(VersionEntry entry) {
    long loadsBefore = entry.loadRequests;
    return queueUnload(
        entry, ModelState.UNLOADED, "unloaded on request", () -> entry.loadRequests == loadsBefore);
  }

  private CompletableFuture<Void> queueUnload(
      VersionEntry entry, ModelState finalState, String reason) {
    return queueUnload(entry, finalState, reason, () -> true);
  }

  /** Unloads on the loader thread when {@code stillWanted}, asked with the lock held, says so. */
  private CompletableFuture<Void> queueUnload(
      VersionEntry entry, ModelState finalState, String reason, BooleanSupplier stillWanted) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    loader.execute(
        new LoaderTask(
            LoadPriority.HIGH,
            taskSequence.incrementAndGet(),
            () -> {
              try {
                LoadedVersion loaded;
                lock.lock();
                try {
                  loaded = entry.loaded;
                  if (!stillWanted.getAsBoolean()) {
                    LOG.log(
                        Level.INFO,
                        "{0}: the unload asked for is not done, a load was asked for after it",
                        entry.key.describe());
                    done.complete(null);
                    return;
                  }
                  if (loaded == null || loaded.isClosing()) {
                    if (loaded == null && entry.state != ModelState.FAILED) {
                      entry.failure = null;
                    }
                    done.complete(null);
                    return;
                  }
                  beginUnload(entry, reason);
                } finally {
                  lock.unlock();
                }
                finishUnload(entry, loaded, finalState, reason);
                done.complete(null);
              } catch (Throwable failure) {
                done.completeExceptionally(failure);
              }
            }));
    return done;
  }

  /** Stops new leases on the entry's loaded instance; call with the lock held. */
  private void beginUnload(VersionEntry entry, String reason) {
    LoadedVersion loaded = entry.loaded;
    entry.ready = null;
    transition(
        entry,
        ModelState.UNLOADING,
        reason
            + (loaded.activeLeases() > 0
                ? "; waiting for " + loaded.activeLeases() + " in-flight requests"
                : ""));
    loaded.beginClosing();
    ModelEntry model = models.get(entry.key.name());
    if (model != null) {
      updateDefault(model);
    }
  }

  /** Waits for the last lease, closes the instance and hands memory back; call without the lock. */
  private void finishUnload(
      VersionEntry entry, LoadedVersion loaded, ModelState finalState, String reason) {
    if (!awaitDrained(loaded)) {
      return;
    }
    String residentChange = admission.closeAndRelease(loaded);
    lock.lock();
    try {
      if (entry.loaded == loaded) {
        entry.loaded = null;
        entry.accountedBytes = 0;
        ModelEntry model = models.get(entry.key.name());
        if (model != null
            && !model.served.containsKey(entry.key.version())
            && entry.loading == null) {
          // a version the policy no longer serves leaves the listing with its last transition
          model.versions.remove(entry.key.version(), entry);
        }
        transition(entry, finalState, reason + "; resident memory " + residentChange);
      }
    } finally {
      lock.unlock();
    }
    unloadListeners.forEach(listener -> listener.accept(loaded));
  }

  /**
   * Waits for the last lease on a version. Interrupted only at shutdown, when requests still hold
   * leases past the grace period: the version then stays open rather than close under a request.
   */
  private static boolean awaitDrained(LoadedVersion loaded) {
    try {
      loaded.drained().get();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.log(
          Level.WARNING,
          "{0} still serves {1} requests at shutdown; left open",
          loaded.key(),
          loaded.activeLeases());
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  private void closeWhenDrained(VersionEntry entry, LoadedVersion previous, String what) {
    if (!awaitDrained(previous)) {
      return;
    }
    String residentChange = admission.closeAndRelease(previous);
    LOG.log(
        Level.INFO,
        "model {0} version {1}: closed {2}; resident memory {3}",
        entry.key.name(),
        entry.key.version(),
        what,
        residentChange);
    unloadListeners.forEach(listener -> listener.accept(previous));
  }

  static void closeQuietly(LoadedModel model) {
    try {
      model.close();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "closing a model failed: " + e.getMessage(), e);
    }
  }

  /**
   * What a version's files weigh: the model file, and in a version directory the files beside it
   * too, which hold weights for some formats (ONNX external data) and are loaded with it.
   */
  private static long weightBytes(ModelDefinition definition, ModelVersionFile file) {
    if (definition.isBareFile()) {
      return file.stamp().size();
    }
    try (java.util.stream.Stream<Path> files = Files.list(file.file().getParent())) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              path -> {
                try {
                  return Files.size(path);
                } catch (java.io.IOException e) {
                  return 0; // gone since it was listed: it weighs nothing now
                }
              })
          .sum();
    } catch (java.io.IOException e) {
      return file.stamp().size();
    }
  }

  private static HangarException asHangar(RuntimeException e, String activity) {
    if (e instanceof HangarException hangar) {
      return hangar;
    }
    return new HangarException(ErrorCategory.BACKEND_FAILURE, activity + " failed: " + e, e);
  }

  private void transition(VersionEntry entry, ModelState to, String detail) {
    transition(entry, to, detail, to == ModelState.FAILED ? Level.WARNING : Level.INFO);
  }

  private void transition(VersionEntry entry, ModelState to, String detail, Level level) {
    ModelState from = entry.state;
    entry.state = to;
    entry.reason = detail == null || detail.isEmpty() ? null : detail;
    LOG.log(
        level,
        "model {0} version {1}: {2} -> {3}{4}",
        entry.key.name(),
        Long.toString(entry.key.version()), // MessageFormat would write 1,000 for 1000
        from,
        to,
        detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
    ModelTransition transition =
        new ModelTransition(entry.key, from, to, Optional.ofNullable(entry.reason));
    for (Consumer<ModelTransition> listener : transitionListeners) {
      listener.accept(transition);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Views

  /**
   * Returns the status of every model version known, sorted by name and version (highest first).
   */
  public List<ModelStatus> list() {
    return statuses.list();
  }

  /**
   * Returns the status of one model's versions.
   *
   * @throws ModelNotFoundException when there is no such model
   */
  public List<ModelStatus> status(String name) {
    return statuses.of(name).orElseThrow(() -> unknownModel(name));
  }

  /** Returns the definition of a model, when it is in the repository and readable. */
  public Optional<ModelDefinition> definition(String name) {
    ModelEntry model = models.get(name);
    return model == null ? Optional.empty() : Optional.ofNullable(model.definition);
  }

  /**
   * Returns the version requests without one go to now, without waiting for any lock: the hot path
   * of the response cache.
   */
  public OptionalLong defaultVersion(String name) {
    ModelEntry model = models.get(name);
    VersionEntry entry = model == null ? null : model.defaultVersion;
    return entry == null ? OptionalLong.empty() : OptionalLong.of(entry.key.version());
  }

  /**
   * Returns the statistics of a served version without waiting for any lock (the hot path of the
   * response cache); empty when the version is not served.
   */
  public Optional<ModelStatistics> servedStatistics(String name, long version) {
    ModelEntry model = models.get(name);
    VersionEntry entry = model == null ? null : named(model, version);
    return entry == null ? Optional.empty() : Optional.of(entry.statistics);
  }

  /**
   * Returns the versions of a model that requests may name, highest first: those its version policy
   * serves and, while none of them is READY (one loading, or failed to load), the version from
   * before that answers requests without a version. Empty for an unknown model.
   */
  public List<Long> servedVersions(String name) {
    ModelEntry model = models.get(name);
    return model == null ? List.of() : servedVersions(model);
  }

  /** Returns the statistics of a model version, when it is known. */
  public Optional<ModelStatistics> statistics(ModelVersionKey key) {
    ModelEntry model = models.get(key.name());
    if (model == null) {
      return Optional.empty();
    }
    lock.lock();
    try {
      VersionEntry entry = model.versions.get(key.version());
      return entry == null ? Optional.empty() : Optional.of(entry.statistics);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns whether the server is ready: every model has been read once (one whose later edit
   * cannot be read serves what it read before), and every pinned or start-up model has loaded and
   * has not failed since. One unloaded on request or evicted after it served still counts, as in
   * Triton: it loads again at its next request, and a server that waited for it would get none.
   *
   * @return the models that cannot be read, and those still loading for the first time or failed,
   *     with their state; empty when ready
   */
  public List<String> notReady() {
    return statuses.notReady();
  }

  /**
   * Begins shutdown for loads: the load in progress stops at its next warmup run, and this and
   * every later load fails as unavailable ("the server is shutting down"), so that requests waiting
   * for one get an answer while the adapters still drain. Loaded models keep serving until {@link
   * #close()}.
   */
  public void stopLoading() {
    loadsStopped = true;
  }

  /**
   * Stops loading ({@link #stopLoading()}), unloads every model after its in-flight requests
   * finish, then stops the loader. Models are closed; backends are the registry owner's to close.
   */
  @Override
  public void close() {
    List<CompletableFuture<Void>> unloads = new ArrayList<>();
    loadsStopped = true;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (ModelEntry model : models.values()) {
        for (VersionEntry entry : model.versions.values()) {
          unloads.add(queueUnload(entry, ModelState.UNLOADED, "server shutting down"));
        }
      }
    } finally {
      lock.unlock();
    }
    try {
      CompletableFuture.allOf(unloads.toArray(CompletableFuture[]::new))
          .get(CLOSE_GRACE.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.log(
          Level.WARNING,
          "models still had requests in flight {0} after shutdown began; stopping without them",
          Durations.format(CLOSE_GRACE));
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.log(Level.WARNING, "unloading at shutdown failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loader.shutdownNow();
    try {
      loader.awaitTermination(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A loader-thread task, ordered by priority, then submission. */
  private record LoaderTask(LoadPriority priority, long sequence, Runnable work)
      implements Runnable, Comparable<LoaderTask> {
    @Override
    public void run() {
      work.run();
    }

    @Override
    public int compareTo(LoaderTask other) {
      int byPriority = Integer.compare(other.priority.ordinal(), priority.ordinal());
      return byPriority != 0 ? byPriority : Long.compare(sequence, other.sequence);
    }
  }
}
