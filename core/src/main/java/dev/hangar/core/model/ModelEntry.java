package dev.hangar.core.model;

import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.spi.HangarException;
import java.util.Map;
import java.util.TreeMap;

/**
 * One model name in the {@link ModelManager}: its definition (or the problem reading it) and its
 * versions. Fields are guarded by the manager's lock but for the volatile ones.
 */
final class ModelEntry {
  final String name;
  final TreeMap<Long, VersionEntry> versions = new TreeMap<>();
  volatile ModelDefinition definition;
  HangarException problem;
  Boolean pinnedOverride;
  volatile Map<Long, VersionEntry> served = Map.of();
  volatile VersionEntry defaultVersion;
  // once a version has served, readiness no longer waits for the model to load: unloaded on
  // request or evicted, it loads again at its next request
  boolean hasServed;
  // when a settled refresh first found it gone from the repository, -1 while it is there
  long missingSinceMillis = -1;

  ModelEntry(String name) {
    this.name = name;
  }

  boolean pinned() {
    if (pinnedOverride != null) {
      return pinnedOverride;
    }
    return definition != null && definition.config().pinned();
  }

  LoadPriority loadPriority() {
    return pinned()
        ? LoadPriority.HIGH
        : definition == null ? LoadPriority.NORMAL : definition.config().loadPriority();
  }
}
