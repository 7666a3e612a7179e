package dev.hangar.core.model;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.memory.EvictionReturns;
import dev.hangar.core.memory.MemoryBudget;
import dev.hangar.core.memory.MemoryEstimator;
import dev.hangar.core.memory.MemoryReclaimer;
import dev.hangar.core.memory.PeakSampler;
import dev.hangar.core.memory.ResidentMemory;
import dev.hangar.core.repository.BackendRegistry;
import dev.hangar.spi.Backend;
import dev.hangar.spi.HangarException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * The {@link ModelManager}'s memory: keeps the budget's accounts and admits loads into it.
 *
 * <p>A load is estimated from its files (a factor learned per format), admitted when the budget's
 * use (the larger of resident memory and the accounted total) leaves room for the estimate, or
 * after evicting unpinned versions in least-recently-used order as its priority allows, then
 * charged what it was measured to take. A closed version's charge is released, and what its format
 * gave back of resident memory is learned, so that later evictions expect no more than that.
 *
 * <p>Admission and eviction run on the manager's loader thread. They read the models under the
 * manager's lock and evict through its {@link Unloading}.
 */
final class MemoryAdmission {
  private static final System.Logger LOG = System.getLogger(MemoryAdmission.class.getName());

  /** How evictions unload: the manager's unloading, which owns the versions' states. */
  interface Unloading {
    /** Stops new leases on the version's loaded instance; called with the lock held. */
    void begin(VersionEntry entry, String reason);

    /** Waits for its last lease, closes it and releases its charge; called without the lock. */
    void finish(VersionEntry entry, LoadedVersion loaded, ModelState finalState, String reason);
  }

  private final BackendRegistry backends;
  private final MemoryBudget<Object> budget;
  private final MemoryEstimator estimator = new MemoryEstimator();
  private final EvictionReturns evictionReturns = new EvictionReturns();
  // the formats whose engine a load has started; loader thread only
  private final Set<String> startedEngines = new HashSet<>();
  private final ResidentMemory memory;
  private final MemoryReclaimer reclaimer;
  private final ReentrantLock lock;
  private final Map<String, ModelEntry> models;
  private final Unloading unloading;
  // whether the pressure with nothing left to evict was logged; loader thread only
  private boolean pressureReported;

  /**
   * @param lock the manager's lock, which guards {@code models}
   * @param models the manager's models, read under {@code lock}
   */
  MemoryAdmission(
      BackendRegistry backends,
      DataSize limit,
      ResidentMemory memory,
      MemoryReclaimer reclaimer,
      ReentrantLock lock,
      Map<String, ModelEntry> models,
      Unloading unloading) {
    this.backends = requireNonNull(backends, "backends is null");
    this.budget = new MemoryBudget<>(limit);
    this.memory = requireNonNull(memory, "memory is null");
    this.reclaimer = requireNonNull(reclaimer, "reclaimer is null");
    this.lock = requireNonNull(lock, "lock is null");
    this.models = requireNonNull(models, "models is null");
    this.unloading = requireNonNull(unloading, "unloading is null");
  }

  /** Measures the server's own memory now as the budget's baseline, and returns it. */
  long measureBaseline() {
    long baseline = memory.residentBytes();
    budget.setBaseline(baseline);
    return baseline;
  }

  long limitBytes() {
    return budget.limitBytes();
  }

  long accountedBytes() {
    return budget.accountedBytes();
  }

  long residentBytes() {
    return memory.residentBytes();
  }

  /** The budget's use now, what admission weighs a load against. */
  long usedBytes() {
    return used(memory.residentBytes());
  }

  /** What a load of {@code weightBytes} of files of the format is expected to take. */
  long estimate(String format, long weightBytes) {
    return estimator.estimate(format, weightBytes);
  }

  /**
   * Starts measuring a load that was admitted: resident memory's growth over it, the peak within
   * (engines hold several copies of a model for a moment while loading), and whether requests ran
   * meanwhile.
   */
  LoadMeasurement startMeasuring() {
    return new LoadMeasurement(memory.residentBytes(), PeakSampler.start(memory), serving());
  }

  /** Resident memory when a load began, its peak since, and what the models had served then. */
  record LoadMeasurement(long residentBefore, PeakSampler sampler, Serving servingBefore)
      implements AutoCloseable {
    @Override
    public void close() {
      sampler.close();
    }
  }

  /**
   * What the models had run at one moment (executions and failed requests, a count that only grows)
   * and whether any held a request then: two readings that differ, or either busy, mean that
   * requests ran in between.
   */
  private record Serving(long work, boolean busy) {
    boolean quietUntil(Serving after) {
      return !busy && !after.busy && work == after.work;
    }
  }

  private Serving serving() {
    lock.lock();
    try {
      long work = 0;
      boolean busy = false;
      for (ModelEntry model : models.values()) {
        for (VersionEntry entry : model.versions.values()) {
          work += entry.statistics.workCount();
          LoadedVersion loaded = entry.loaded;
          busy |= loaded != null && loaded.activeLeases() > 0;
        }
      }
      return new Serving(work, busy);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What a load was charged; {@code measuredBytes} is resident memory's growth over it, which was
   * not charged when {@code measuredUnderTraffic}.
   */
  record Charge(long bytes, long measuredBytes, boolean measuredUnderTraffic) {}

  /**
   * Charges a load that finished what it was measured to take, or what its backend knows it holds
   * when that is larger, and learns the format's factors from it. Requests that ran meanwhile grew
   * resident memory too (their engines' arenas, their buffers), so a load measured under traffic is
   * charged no more than what loads of its format were seen to keep (not their peak), and nothing
   * is learned from it.
   */
  Charge charge(
      Object account,
      String format,
      long weightBytes,
      LoadMeasurement measurement,
      long backendEstimate) {
    measurement.close();
    long measured = memory.residentBytes() - measurement.residentBefore();
    boolean underTraffic = !measurement.servingBefore().quietUntil(serving());
    // never less than what the backend knows it holds (its weights): a reload reuses the pages the
    // previous instance freed, and resident memory then grows by next to nothing
    long accounted =
        Math.max(
            underTraffic
                ? Math.min(measured, estimator.keptEstimate(format, weightBytes))
                : measured,
            backendEstimate);
    if (!underTraffic) {
      estimator.learn(
          format,
          weightBytes,
          Math.max(accounted, measurement.sampler().peakBytes() - measurement.residentBefore()),
          accounted);
    }
    budget.account(account, accounted);
    return new Charge(accounted, measured, underTraffic);
  }

  /** Gives up a load's charge, admitted or measured, and hands what it freed back to the system. */
  void abandon(Object account) {
    budget.release(account);
    reclaimer.releaseFreedMemory();
  }

  /**
   * Starts the format's engine for a load of {@code need} bytes; runs on the loader thread. The
   * engine's memory is the server's own, not the model's, and stays: when it and the model would
   * not fit beside the server's own memory even with every model evicted, the engine is not
   * started. Once started, what it took is added to the server's own memory.
   */
  void startEngine(VersionEntry target, String format, long need) {
    Backend backend = backends.backend(format);
    if (startedEngines.contains(format)) {
      backend.prepare();
      return;
    }
    long engine = backend.engineMemoryEstimateBytes();
    if (budget.baselineBytes() + engine + need > budget.limitBytes()) {
      throw pastTheBudget(
          target,
          "starting the "
              + format
              + " engine takes about "
              + DataSize.format(engine)
              + " and the model about "
              + DataSize.format(need));
    }
    long before = memory.residentBytes();
    backend.prepare();
    long grown = Math.max(0, memory.residentBytes() - before);
    startedEngines.add(format);
    budget.setBaseline(budget.baselineBytes() + grown);
    LOG.log(
        Level.INFO,
        "started the {0} engine ({1}); the server itself now holds {2} of the {3} memory budget",
        format,
        DataSize.format(grown),
        DataSize.format(budget.baselineBytes()),
        DataSize.format(budget.limitBytes()));
  }

  /**
   * The failure of a load that would not fit beside the server's own memory: {@code what} it takes.
   */
  private InsufficientMemoryException pastTheBudget(VersionEntry target, String what) {
    return new InsufficientMemoryException(
        "cannot load "
            + target.key.describe()
            + ": "
            + what
            + ", more than the memory budget of "
            + DataSize.format(budget.limitBytes())
            + " leaves beside the server's own "
            + DataSize.format(budget.baselineBytes())
            + "; raise the budget (--memory)");
  }

  /** Makes room for a load, evicting as its priority allows; runs on the loader thread. */
  void admit(VersionEntry target, Object account, long need, LoadPriority priority) {
    List<Eviction> evicted = new ArrayList<>();
    while (true) {
      lock.lock();
      try {
        long resident = memory.residentBytes();
        long used = used(resident);
        if (used + need <= budget.limitBytes()) {
          budget.account(account, need);
          return;
        }
        if (budget.baselineBytes() + need > budget.limitBytes()) {
          throw pastTheBudget(target, "it needs about " + DataSize.format(need));
        }
        // when even evicting every model it may leaves too little room, evicting them would lose
        // them for nothing
        long afterEvicting = usedAfterEvicting(target, priority, resident);
        if (afterEvicting + need > budget.limitBytes()) {
          long evictable = chooseVictim(target, priority) == null ? -1 : used - afterEvicting;
          throw insufficient(target, need, resident, used, priority, evictable, evicted);
        }
      } finally {
        lock.unlock();
      }
      Optional<Eviction> eviction = evictOne(target, priority, "to make room for " + target.key);
      if (eviction.isEmpty() || eviction.get().fellShort()) {
        // none left to evict, or one freed far less than planned: the plan was wrong, and evicting
        // more by it would likely lose them for nothing too
        eviction.ifPresent(evicted::add);
        lock.lock();
        try {
          long resident = memory.residentBytes();
          throw insufficient(target, need, resident, used(resident), priority, -1, evicted);
        } finally {
          lock.unlock();
        }
      }
      evicted.add(eviction.get());
    }
  }

  /**
   * Brings the accounted total back under the budget when a load measured more than its estimate,
   * evicting as the load's priority allows; runs on the loader thread.
   */
  void settle(VersionEntry target, LoadPriority priority, long measured, long estimated) {
    while (budget.accountedBytes() > budget.limitBytes()) {
      if (evictOne(target, priority, "to make room for " + target.key).isEmpty()) {
        throw new InsufficientMemoryException(
            target.key.describe()
                + " holds "
                + DataSize.format(measured)
                + " once loaded (estimated "
                + DataSize.format(estimated)
                + "), which passes the "
                + DataSize.format(budget.limitBytes())
                + " memory budget with nothing left to evict; it was unloaded");
      }
    }
  }

  /**
   * Brings resident memory back within the budget when the server's runs have grown it past (the
   * engines' arenas, buffers; admission only refuses loads then): evicts idle unpinned versions,
   * least recently used first, until it is within the budget, none is idle, or an eviction frees
   * less than half what it was expected to. Runs on the loader thread.
   *
   * @return how many versions it evicted
   */
  int relievePressure() {
    int evicted = 0;
    while (true) {
      long resident = memory.residentBytes();
      if (resident <= budget.limitBytes()) {
        pressureReported = false;
        return evicted;
      }
      String why =
          "as resident memory "
              + DataSize.format(resident)
              + " passed the "
              + DataSize.format(budget.limitBytes())
              + " memory budget";
      Optional<Eviction> eviction = evictOne(null, LoadPriority.NORMAL, why);
      if (eviction.isEmpty()) {
        if (!pressureReported) {
          // said once until memory is back within the budget: the check runs every few seconds
          pressureReported = true;
          LOG.log(
              Level.WARNING,
              "resident memory {0} passes the {1} memory budget and no idle unpinned model is"
                  + " left to evict; loads are refused until it falls",
              DataSize.format(resident),
              DataSize.format(budget.limitBytes()));
        }
        return evicted;
      }
      evicted++;
      if (eviction.get().fellShort()) {
        return evicted;
      }
    }
  }

  /**
   * Evicts the least recently used version the priority allows, waiting for its in-flight requests;
   * {@code why} ends the reason its state gives. Runs on the loader thread.
   *
   * @param target the version loading, which is not evicted; null for none
   * @return the eviction, empty when there was none to evict
   */
  private Optional<Eviction> evictOne(VersionEntry target, LoadPriority priority, String why) {
    VersionEntry victim;
    LoadedVersion victimLoad;
    String evicted;
    long usedBefore;
    long expected;
    lock.lock();
    try {
      while (true) {
        victim = chooseVictim(target, priority);
        if (victim == null) {
          return Optional.empty();
        }
        // requests take leases without the lock: a normal load evicts only a version idle at the
        // moment it stops taking them
        if (priority == LoadPriority.HIGH || victim.loaded.beginClosingIfIdle()) {
          break;
        }
      }
      victimLoad = victim.loaded;
      evicted = victim.describeMemory();
      long resident = memory.residentBytes();
      usedBefore = used(resident);
      expected =
          usedBefore
              - usedWithout(
                  resident,
                  victim.accountedBytes,
                  evictionReturns.expectedReturn(victimLoad.format(), victim.accountedBytes));
      unloading.begin(victim, "evicted (least recently used) " + why);
    } finally {
      lock.unlock();
    }
    unloading.finish(victim, victimLoad, ModelState.EVICTED, "evicted " + why);
    long usedAfter = used(memory.residentBytes());
    return Optional.of(new Eviction(evicted, expected, usedBefore - usedAfter));
  }

  /**
   * One eviction: the version and what it held, what it was expected to free of the budget's use
   * and what it freed.
   */
  private record Eviction(String description, long expectedBytes, long freedBytes) {
    /** Whether it freed less than half what it was expected to (of at least 1 MB: noise below). */
    boolean fellShort() {
      return expectedBytes >= 1L << 20 && freedBytes < expectedBytes / 2;
    }
  }

  private VersionEntry chooseVictim(VersionEntry target, LoadPriority priority) {
    VersionEntry victim = null;
    for (ModelEntry model : models.values()) {
      for (VersionEntry entry : model.versions.values()) {
        if (mayEvict(model, entry, target, priority)
            && (victim == null || entry.lastUsedNanos < victim.lastUsedNanos)) {
          victim = entry;
        }
      }
    }
    return victim;
  }

  /**
   * What the budget's use (the larger of resident memory and the accounted total) would be with
   * every version a load of {@code target} may evict gone: each takes its charge off the accounted
   * total, and off resident memory what its format was seen to give back.
   */
  private long usedAfterEvicting(VersionEntry target, LoadPriority priority, long resident) {
    long charged = 0;
    long returned = 0;
    for (ModelEntry model : models.values()) {
      for (VersionEntry entry : model.versions.values()) {
        if (mayEvict(model, entry, target, priority)) {
          charged += entry.accountedBytes;
          returned += evictionReturns.expectedReturn(entry.ready.format(), entry.accountedBytes);
        }
      }
    }
    return usedWithout(resident, charged, returned);
  }

  /** The budget's use: the larger of resident memory and the accounted total. */
  private long used(long resident) {
    return Math.max(resident, budget.accountedBytes());
  }

  /**
   * The budget's use with versions charged {@code charged} gone, which give {@code returned} of
   * resident memory back.
   */
  private long usedWithout(long resident, long charged, long returned) {
    return Math.max(resident - returned, budget.accountedBytes() - charged);
  }

  /**
   * Whether a load of {@code target} at {@code priority} may evict {@code entry}: a READY version
   * of an unpinned model, and an idle one for a normal load.
   */
  private static boolean mayEvict(
      ModelEntry model, VersionEntry entry, VersionEntry target, LoadPriority priority) {
    LoadedVersion loaded = entry.ready;
    return !model.pinned()
        && entry != target
        && loaded != null
        && entry.state == ModelState.READY
        && (priority == LoadPriority.HIGH || loaded.activeLeases() == 0);
  }

  /** What a load that failed had evicted first, for its message. */
  private static String evictedBefore(List<Eviction> evicted) {
    if (evicted.isEmpty()) {
      return "";
    }
    Eviction last = evicted.get(evicted.size() - 1);
    String all = evicted.stream().map(Eviction::description).collect(Collectors.joining(", "));
    if (last.fellShort()) {
      return "; it evicted "
          + all
          + ", but evicting "
          + last.description()
          + " freed "
          + DataSize.format(Math.max(0, last.freedBytes()))
          + " of the "
          + DataSize.format(last.expectedBytes())
          + " it was expected to (the engine keeps memory after an unload), so no more were"
          + " evicted";
    }
    return "; it evicted "
        + all
        + ", but resident memory did not fall by what they were measured to hold";
  }

  /**
   * The failure of a load that does not fit; {@code evictable} is what evicting the models it could
   * still have evicted would free, when that would not have made room (-1 when there are none or it
   * does not apply), and {@code evicted} the evictions it made before finding so.
   */
  private HangarException insufficient(
      VersionEntry target,
      long need,
      long resident,
      long used,
      LoadPriority priority,
      long evictable,
      List<Eviction> evicted) {
    List<String> pinned = new ArrayList<>();
    List<String> busy = new ArrayList<>();
    // what every unpinned version holds, busy or not: leases and states change under this count
    long unpinnedCharged = 0;
    long unpinnedReturned = 0;
    for (ModelEntry model : models.values()) {
      for (VersionEntry entry : model.versions.values()) {
        LoadedVersion loaded = entry.loaded;
        if (loaded == null || entry == target) {
          continue;
        }
        if (model.pinned()) {
          pinned.add(entry.describeMemory());
          continue;
        }
        unpinnedCharged += entry.accountedBytes;
        unpinnedReturned += evictionReturns.expectedReturn(loaded.format(), entry.accountedBytes);
        if (loaded.activeLeases() > 0) {
          busy.add(entry.key + " (" + loaded.activeLeases() + " requests)");
        } else if (entry.state != ModelState.READY) {
          busy.add(entry.key + " (" + entry.state + ")");
        }
      }
    }
    String problem =
        "cannot load "
            + target.key.describe()
            + ": it needs about "
            + DataSize.format(need)
            + " but only "
            + DataSize.format(Math.max(0, budget.limitBytes() - used))
            + " of the "
            + DataSize.format(budget.limitBytes())
            + " memory budget is free (resident "
            + DataSize.format(resident)
            + ", accounted "
            + DataSize.format(budget.accountedBytes())
            + ")"
            + evictedBefore(evicted)
            + (evictable >= 0
                ? (evicted.isEmpty()
                        ? ", and evicting every model it may"
                        : "; evicting every model it may still")
                    + " evict would free "
                    + (evictable > 0
                        ? "at most " + DataSize.format(evictable)
                        : "nothing (their engines were seen to keep what a model held once it"
                            + " closed)")
                    + ", so "
                    + (evicted.isEmpty() ? "none was" : "no more were")
                    + " evicted"
                : "")
            + "; pinned: "
            + (pinned.isEmpty() ? "none" : String.join(", ", pinned))
            + "; busy: "
            + (busy.isEmpty() ? "none" : String.join(", ", busy))
            + (priority == LoadPriority.NORMAL && !busy.isEmpty()
                ? "; a high-priority load may evict busy models"
                : "")
            + (budget.modelBytes() == 0 && resident + need > budget.limitBytes()
                ? "; with no model loaded the server alone holds "
                    + DataSize.format(resident)
                    + " (its engines' libraries, the heap, memory the engines keep after an"
                    + " unload): raise the budget (--memory)"
                : "")
            + (target.loaded != null
                ? "; the instance it would replace holds "
                    + DataSize.format(target.accountedBytes)
                    + " and serves until then: to load the new one in its place, unload the"
                    + " model first"
                : "");
    if (usedWithout(resident, unpinnedCharged, unpinnedReturned) + need <= budget.limitBytes()) {
      // only requests in flight or loads and unloads under way stand in the way, and they end: a
      // retry can load it (503); 507 says that no retry will
      return new ModelUnavailableException(
          problem
              + (busy.isEmpty()
                  ? "; models that were busy a moment ago hold enough: retry"
                  : "; the busy models hold enough: retry once their requests end"));
    }
    return new InsufficientMemoryException(problem);
  }

  /**
   * Closes an instance, hands the memory it freed back to the system, learns what that gave back
   * and releases its charge; returns resident memory's change, "before -> after".
   */
  String closeAndRelease(LoadedVersion loaded) {
    long before = memory.residentBytes();
    ModelManager.closeQuietly(loaded.model());
    reclaimer.releaseFreedMemory();
    long after = memory.residentBytes();
    evictionReturns.record(loaded.format(), budget.accountOf(loaded.account()), before, after);
    budget.release(loaded.account());
    return DataSize.format(before) + " -> " + DataSize.format(after);
  }
}
