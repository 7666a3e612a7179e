package dev.hangar.core.health;

import java.time.Duration;

/**
 * Executions of one batch size.
 *
 * @param count how many executions had this many rows
 * @param computeTime their total time in the model
 */
public record BatchStatistics(long count, Duration computeTime) {}
