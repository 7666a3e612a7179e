package dev.hangar.cli;

import dev.hangar.cli.bench.LoadGenerator;
import dev.hangar.cli.remote.V2Codec;
import dev.hangar.spi.OptimizationOptions;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The values shell completion offers for options that take one of a few words, in lower case as
 * users type them and the help writes them (picocli would offer an enum's constants as declared).
 */
abstract class CompletionCandidates<E extends Enum<E>> implements Iterable<String> {
  private final List<String> names;

  CompletionCandidates(Class<E> type) {
    this.names =
        Arrays.stream(type.getEnumConstants())
            .map(constant -> constant.name().toLowerCase(Locale.ROOT))
            .toList();
  }

  @Override
  public Iterator<String> iterator() {
    return names.iterator();
  }

  static final class Shells extends CompletionCandidates<CompletionCommand.Shell> {
    Shells() {
      super(CompletionCommand.Shell.class);
    }
  }

  static final class Protocols extends CompletionCandidates<V2Codec.Protocol> {
    Protocols() {
      super(V2Codec.Protocol.class);
    }
  }

  static final class ProgressStyles extends CompletionCandidates<Progress.Style> {
    ProgressStyles() {
      super(Progress.Style.class);
    }
  }

  static final class Distributions extends CompletionCandidates<LoadGenerator.Distribution> {
    Distributions() {
      super(LoadGenerator.Distribution.class);
    }
  }

  static final class Levels extends CompletionCandidates<OptimizationOptions.Level> {
    Levels() {
      super(OptimizationOptions.Level.class);
    }
  }
}
