package dev.hangar.core.health;

import java.time.Duration;

/**
 * Executions of one batch size.
 *
 * @param count how many executions had this many rows
 * @param inputTime their total time building the model's inputs
 * @param computeTime their total time in the model
 * @param outputTime their total time splitting the outputs per request
 */
public record BatchStatistics(
    long count, Duration inputTime, Duration computeTime, Duration outputTime) {}
