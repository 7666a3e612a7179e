package dev.hangar.core.model;

/** The lifecycle of one model version. */
public enum ModelState {
  /** On disk, not loaded. */
  AVAILABLE,
  /** Being loaded into its backend. */
  LOADING,
  /** Loaded, running warmup inferences; not yet serving. */
  WARMING,
  /** Serving requests. */
  READY,
  /** Being unloaded: new requests are not accepted, in-flight ones finish first. */
  UNLOADING,
  /** Unloaded on request (the repository API, a removed file, a replaced version). */
  UNLOADED,
  /** Unloaded to make room for another model. Loads again on demand. */
  EVICTED,
  /** Failed to load or warm up; the reason says why. */
  FAILED;

  /** Returns whether a version in this state holds engine resources. */
  public boolean isResident() {
    return this == WARMING || this == READY || this == UNLOADING;
  }
}
