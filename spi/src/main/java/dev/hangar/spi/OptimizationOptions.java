package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * What a {@link ModelOptimizer} should try: a graph optimization level and, optionally, int8
 * weights. The same options give the same optimized model, so they are part of its cache key.
 *
 * @param level how far the engine rewrites the graph
 * @param int8 whether weights of matrix products are stored as int8, with activations quantized
 *     dynamically at run time
 * @param int8Tolerance the largest absolute difference from the original's outputs that int8 may
 *     cause on the optimizer's test inputs; above it, int8 is refused
 * @param granularity whether int8 weights get one scale per tensor or one per output channel
 */
public record OptimizationOptions(
    Level level, boolean int8, double int8Tolerance, Granularity granularity) {

  /** The default int8 tolerance: an absolute error of 0.01 on any output value. */
  public static final double DEFAULT_INT8_TOLERANCE = 0.01;

  /** Graph optimization levels, from none to everything the engine has. */
  public enum Level {
    /** No graph rewriting. */
    NONE,
    /** Semantics-preserving rewrites: constant folding, redundant node removal, simple fusions. */
    BASIC,
    /** Basic plus complex fusions. */
    EXTENDED,
    /** Everything, including layout changes specific to this machine's CPU. */
    ALL;

    /** Returns the lower-case name used in configuration and on the command line. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Returns the level of the given name, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted names
     */
    public static Level fromConfigName(String name) {
      for (Level level : values()) {
        if (level.configName().equalsIgnoreCase(name == null ? "" : name.trim())) {
          return level;
        }
      }
      throw new IllegalArgumentException(
          "unknown optimization level '" + name + "'; expected none, basic, extended or all");
    }
  }

  /** How many scales an int8 weight tensor gets. */
  public enum Granularity {
    /** One scale for the whole weight tensor. */
    PER_TENSOR,
    /** One scale per output channel (column of the weight matrix): smaller error, same speed. */
    PER_CHANNEL
  }

  /** Validates. */
  public OptimizationOptions {
    requireNonNull(level, "level is null");
    requireNonNull(granularity, "granularity is null");
    if (!(int8Tolerance > 0) || Double.isInfinite(int8Tolerance)) {
      throw new IllegalArgumentException(
          "int8 tolerance must be a positive number, got " + int8Tolerance);
    }
  }

  /** Returns the options of graph optimization at {@code level} only, without int8. */
  public static OptimizationOptions graphOnly(Level level) {
    return new OptimizationOptions(level, false, DEFAULT_INT8_TOLERANCE, Granularity.PER_TENSOR);
  }

  /** Returns these options with int8 switched off. */
  public OptimizationOptions withoutInt8() {
    return int8 ? new OptimizationOptions(level, false, int8Tolerance, granularity) : this;
  }

  /** Returns whether the options ask for anything at all. */
  public boolean isEmpty() {
    return level == Level.NONE && !int8;
  }

  /** Returns a short description, such as {@code level all, int8 per-channel (tolerance 0.01)}. */
  public String describe() {
    String text = "level " + level.configName();
    if (int8) {
      text +=
          ", int8 "
              + (granularity == Granularity.PER_CHANNEL ? "per-channel" : "per-tensor")
              + " (tolerance "
              + int8Tolerance
              + ")";
    }
    return text;
  }
}
