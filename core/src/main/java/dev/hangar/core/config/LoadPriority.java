package dev.hangar.core.config;

/**
 * How hard a load may push other models out ({@code load_priority: normal|high}).
 *
 * <p>The rule: a {@link #NORMAL} load takes free room under the budget and may evict idle (no
 * request queued or running), unpinned models, least recently used first. A {@link #HIGH} load may
 * also evict busy unpinned models, least recently used first: their in-flight requests finish
 * first, and later requests for them load them again on demand. Pinned models are never evicted.
 * Pinned models load with {@link #HIGH} priority.
 */
public enum LoadPriority {
  /** Takes free room and idle least-recently-used models. */
  NORMAL,
  /** May also evict busy unpinned models, after their in-flight requests finish. */
  HIGH
}
