package dev.hangar.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.cli.remote.RemoteException;
import dev.hangar.cli.remote.V2Client;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.LoadPriority;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hangar models}: the repository listing, of this process's repository or a server's. */
@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description =
        "List the models of the repository, or of a running server (--url): versions, format,"
            + " state, memory, last use, pinned.",
    footer = {
      "",
      "Examples:",
      "  hangar models --repo models",
      "  hangar models --repo models --load   # load each model to show its memory",
      "  hangar models --url http://127.0.0.1:8000 --load"
    })
final class ModelsCommand implements Callable<Integer> {
  @Mixin RepositoryOptions repository;

  @Mixin RemoteOptions remote;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--load",
      description =
          "Load every model first (start-up models and the rest), to show their state and memory;"
              + " progress goes to stderr.")
  boolean load;

  @Option(
      names = "--admin-token",
      paramLabel = "TOKEN",
      defaultValue = "${env:HANGAR_ADMIN_TOKEN}",
      description =
          "With --url --load: the server's admin bearer token, when it needs one (env"
              + " HANGAR_ADMIN_TOKEN).")
  String adminToken;

  @Mixin ProgressOption progressOption;

  /** One line of the listing. */
  record Row(
      String name,
      String version,
      String format,
      String state,
      String memory,
      String lastUse,
      String pinned,
      String detail) {}

  @Override
  public Integer call() {
    remote.checkExclusive(spec);
    if (spec.commandLine().getParseResult().hasMatchedOption("--admin-token")
        && !(remote.isRemote() && load)) {
      // HANGAR_ADMIN_TOKEN in the environment is not a mistake; a token typed for nothing is
      throw new UsageException(
          "--admin-token applies with --url and --load, where it authorizes the server's loads");
    }
    if (remote.isRemote()) {
      try (V2Client client = remote.client()) {
        List<String> failed = load ? loadRemote(client) : List.of();
        spec.commandLine().getOut().print(table(rows(client.index(), Instant.now())));
        return loaded(failed);
      }
    }
    try (HangarRuntime hangar =
        HangarRuntime.create(repository.repositorySettings(), repository.plugins)) {
      ModelManager manager = hangar.manager();
      manager.start(false).join();
      List<String> failed = load ? loadAll(manager) : List.of();
      spec.commandLine().getOut().print(table(manager.list(), Instant.now()));
      return loaded(failed);
    }
  }

  /** The exit status once the table is printed: 1 when a load failed, so that scripts can tell. */
  private int loaded(List<String> failed) {
    if (failed.isEmpty()) {
      return 0;
    }
    spec.commandLine()
        .getErr()
        .println(
            "error: "
                + failed.size()
                + (failed.size() == 1 ? " model" : " models")
                + " failed to load: "
                + String.join(", ", failed)
                + " (the table's DETAIL says why)");
    return 1;
  }

  private List<String> loadAll(ModelManager manager) {
    Set<String> names = new LinkedHashSet<>();
    List<String> unreadable = new ArrayList<>();
    for (ModelStatus status : manager.list()) {
      if (status.format().isPresent()) {
        names.add(status.name());
      } else {
        unreadable.add(status.name()); // its files cannot be read: it cannot load either
      }
    }
    List<String> failed = new ArrayList<>(unreadable);
    failed.addAll(
        loadEach(
            names,
            name ->
                manager
                    .load(name, LoadPriority.NORMAL)
                    .handle((loaded, problem) -> Optional.ofNullable(problem).map(this::message))
                    .join()));
    return failed;
  }

  private List<String> loadRemote(V2Client client) {
    Set<String> names = new LinkedHashSet<>();
    List<String> unreadable = new ArrayList<>();
    for (JsonNode entry : client.index()) {
      JsonNode hangar = entry.path("hangar");
      if (hangar.isMissingNode() || !hangar.path("format").isNull()) {
        names.add(entry.path("name").asText());
      } else {
        unreadable.add(entry.path("name").asText());
      }
    }
    Optional<String> token = Optional.ofNullable(adminToken).filter(value -> !value.isBlank());
    List<String> failed = new ArrayList<>(unreadable);
    failed.addAll(
        loadEach(
            names,
            name -> {
              try {
                client.load(name, token);
                return Optional.empty();
              } catch (RemoteException e) {
                if (e.status() == 0 || e.status() == 401 || e.status() == 403) {
                  throw e; // unreachable, or refused: no other load would do better
                }
                return Optional.of(e.getMessage());
              }
            }));
    return failed;
  }

  /**
   * Loads each model with {@code load} (its failure's message, or none), showing progress.
   *
   * @return the models that failed to load
   */
  private List<String> loadEach(Set<String> names, Function<String, Optional<String>> load) {
    Progress progress = progressOption.on(spec.commandLine().getErr());
    progress.start("loading models", names.size());
    List<String> failed = new ArrayList<>();
    int done = 0;
    try {
      for (String name : names) {
        progress.update(done, name);
        long start = System.nanoTime();
        Optional<String> failure = load.apply(name);
        failure.ifPresent(problem -> failed.add(name));
        done++;
        progress.update(done, name);
        progress.milestone(loadLine(done, names.size(), name, start, failure));
      }
    } finally {
      progress.finish();
    }
    return failed;
  }

  private static String loadLine(
      int done, int total, String name, long start, Optional<String> failure) {
    long millis = (System.nanoTime() - start) / 1_000_000;
    return "loaded "
        + done
        + "/"
        + total
        + ": "
        + name
        + failure.map(problem -> " failed: " + problem).orElse(" in " + millis + " ms");
  }

  private String message(Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    String message = String.valueOf(cause.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  static String table(List<ModelStatus> statuses, Instant now) {
    List<Row> rows = new ArrayList<>();
    for (ModelStatus status : statuses) {
      rows.add(
          new Row(
              status.name(),
              status.version() == 0 ? "-" : status.version() + (status.isDefault() ? "*" : ""),
              status.format().orElse("-"),
              status.state().name(),
              status.memoryBytes() == 0 ? "-" : DataSize.format(status.memoryBytes()),
              status.lastUsed().map(at -> ago(Duration.between(at, now))).orElse("never"),
              status.pinned() ? "yes" : "no",
              status.reason().orElse("")));
    }
    return table(rows);
  }

  /**
   * The rows of a server's repository index: Hangar's extra fields under {@code "hangar"} when the
   * server has them (another v2 server gives name, version, state and reason only).
   */
  static List<Row> rows(JsonNode index, Instant now) {
    List<Row> rows = new ArrayList<>();
    for (JsonNode entry : index) {
      JsonNode hangar = entry.path("hangar");
      boolean extended = hangar.isObject();
      String version = entry.path("version").asText("-");
      if (extended && hangar.path("default_version").asBoolean(false)) {
        version += "*";
      }
      long memory = hangar.path("memory_bytes").asLong(0);
      JsonNode lastUsed = hangar.path("last_used");
      // a version that serves but passes its health thresholds says so, and why
      boolean degraded = extended && hangar.path("health").asText("").equals("DEGRADED");
      rows.add(
          new Row(
              entry.path("name").asText(),
              version,
              extended && hangar.path("format").isTextual() ? hangar.get("format").asText() : "-",
              degraded
                  ? "DEGRADED"
                  : extended ? hangar.path("state").asText() : entry.path("state").asText(),
              memory == 0 ? "-" : DataSize.format(memory),
              !extended
                  ? "-"
                  : lastUsed.isIntegralNumber()
                      ? ago(Duration.between(Instant.ofEpochMilli(lastUsed.asLong()), now))
                      : "never",
              !extended ? "-" : hangar.path("pinned").asBoolean() ? "yes" : "no",
              degraded
                  ? hangar.path("health_reason").asText("")
                  : extended && hangar.path("reason").isTextual()
                      ? hangar.get("reason").asText()
                      : entry.path("reason").asText("")));
    }
    return rows;
  }

  static String table(List<Row> rows) {
    List<String[]> cells = new ArrayList<>();
    cells.add(
        new String[] {
          "MODEL", "VERSION", "FORMAT", "STATE", "MEMORY", "LAST USE", "PINNED", "DETAIL"
        });
    for (Row row : rows) {
      cells.add(
          new String[] {
            row.name(),
            row.version(),
            row.format(),
            row.state(),
            row.memory(),
            row.lastUse(),
            row.pinned(),
            row.detail()
          });
    }
    int[] widths = new int[cells.get(0).length];
    for (String[] row : cells) {
      for (int i = 0; i < row.length - 1; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (String[] row : cells) {
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
