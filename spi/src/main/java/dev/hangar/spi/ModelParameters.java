package dev.hangar.spi;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The backend-specific settings of a model ({@code parameters:} in its {@code config.yaml}), as
 * strings, with typed accessors that fail with a {@link ErrorCategory#USER_ERROR} naming the
 * setting when a value has the wrong form.
 *
 * @param values the settings by name
 * @param source where they were written (a config.yaml), named in errors; empty when nowhere
 */
public record ModelParameters(Map<String, String> values, String source) {
  /** Validates and copies. */
  public ModelParameters {
    values = Map.copyOf(requireNonNull(values, "values is null"));
    requireNonNull(source, "source is null");
  }

  /** Parameters written nowhere in particular. */
  public ModelParameters(Map<String, String> values) {
    this(values, "");
  }

  /** Returns an empty set of parameters. */
  public static ModelParameters empty() {
    return new ModelParameters(Map.of());
  }

  /** Returns the names that are set. */
  public Set<String> names() {
    return values.keySet();
  }

  /** Returns a setting as a string. */
  public Optional<String> string(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /**
   * Returns a setting as an int, which must lie in {@code [min, max]}.
   *
   * @throws ModelLoadException when the value is not such an integer
   */
  public Optional<Integer> integer(String name, int min, int max) {
    String value = values.get(name);
    if (value == null) {
      return Optional.empty();
    }
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed >= min && parsed <= max) {
        return Optional.of(parsed);
      }
    } catch (NumberFormatException ignored) {
      // reported below with the accepted range
    }
    throw new ModelLoadException(
        ErrorCategory.USER_ERROR,
        named(name) + " must be an integer from " + min + " to " + max + ", got '" + value + "'");
  }

  /**
   * Returns a setting as a boolean ({@code true} or {@code false}).
   *
   * @throws ModelLoadException when the value is neither
   */
  public Optional<Boolean> bool(String name) {
    String value = values.get(name);
    if (value == null) {
      return Optional.empty();
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Optional.of(true);
      case "false" -> Optional.of(false);
      default ->
          throw new ModelLoadException(
              ErrorCategory.USER_ERROR,
              named(name) + " must be true or false, got '" + value + "'");
    };
  }

  /**
   * Returns a setting that must be one of the given choices (compared ignoring case), in lower
   * case.
   *
   * @throws ModelLoadException when it is none of them
   */
  public Optional<String> choice(String name, Set<String> choices) {
    String value = values.get(name);
    if (value == null) {
      return Optional.empty();
    }
    String normalized = value.trim().toLowerCase(Locale.ROOT);
    if (!choices.contains(normalized)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          named(name)
              + " must be one of "
              + choices.stream().sorted().toList()
              + ", got '"
              + value
              + "'");
    }
    return Optional.of(normalized);
  }

  /** Names a setting as its file has it: {@code models/m/config.yaml: 'parameters.threads'}. */
  private String named(String name) {
    return source.isEmpty() ? "parameter '" + name + "'" : source + ": 'parameters." + name + "'";
  }
}
