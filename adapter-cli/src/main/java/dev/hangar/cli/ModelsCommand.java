package dev.hangar.cli;

import dev.hangar.core.config.DataSize;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hangar models}: the repository listing. */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description =
        "List the models of the repository: versions, format, state, memory, last use, pinned.",
    footer = {
      "",
      "Example:",
      "  hangar models --repo models",
      "  hangar models --repo models --load   # load each model to show its memory"
    })
final class ModelsCommand implements Callable<Integer> {
  @Mixin RepositoryOptions repository;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--load",
      description =
          "Load every model first (start-up models and the rest), to show their state and memory.")
  boolean load;

  @Override
  public Integer call() {
    try (HangarRuntime hangar = HangarRuntime.create(repository.settings(), repository.plugins)) {
      ModelManager manager = hangar.manager();
      manager.start(load).join();
      if (load) {
        for (ModelStatus status : manager.list()) {
          if (status.format().isPresent()) {
            manager
                .load(status.name(), dev.hangar.core.config.LoadPriority.NORMAL)
                .exceptionally(e -> null)
                .join();
          }
        }
      }
      spec.commandLine().getOut().print(table(manager.list(), Instant.now()));
      return 0;
    }
  }

  static String table(List<ModelStatus> statuses, Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "MODEL", "VERSION", "FORMAT", "STATE", "MEMORY", "LAST USE", "PINNED", "DETAIL"
        });
    for (ModelStatus status : statuses) {
      rows.add(
          new String[] {
            status.name(),
            status.version() == 0 ? "-" : status.version() + (status.isDefault() ? "*" : ""),
            status.format().orElse("-"),
            status.state().name(),
            status.memoryBytes() == 0 ? "-" : DataSize.format(status.memoryBytes()),
            status.lastUsed().map(at -> ago(Duration.between(at, now))).orElse("never"),
            status.pinned() ? "yes" : "no",
            status.reason().orElse("")
          });
    }
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length - 1; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
    return text.toString();
  }

  private static String ago(Duration duration) {
    long seconds = Math.max(0, duration.getSeconds());
    if (seconds < 60) {
      return seconds + "s ago";
    }
    if (seconds < 3600) {
      return seconds / 60 + "m ago";
    }
    return seconds / 3600 + "h ago";
  }
}
