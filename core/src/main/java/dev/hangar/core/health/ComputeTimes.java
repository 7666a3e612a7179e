package dev.hangar.core.health;

/**
 * The phases of one execution, in nanoseconds, as Triton's statistics split them.
 *
 * @param inputNanos building the model's inputs (for a batch, joining its requests' tensors)
 * @param inferNanos the backend's call, its own copies in and out of the engine included
 * @param outputNanos splitting the outputs back per request
 */
public record ComputeTimes(long inputNanos, long inferNanos, long outputNanos) {}
