package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hangar.cli.bench.LevelResult.Latencies;
import dev.hangar.cli.bench.LoadGenerator.Mode;
import dev.hangar.cli.bench.LoadGenerator.Settings;
import dev.hangar.core.config.Durations;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A finished benchmark: what ran where, and one {@link LevelResult} per concurrency or rate.
 * Renders itself as the terminal table, JSON and CSV; {@link HtmlReport} renders the page.
 *
 * @param model the model
 * @param version the version that answered, 0 when unknown
 * @param target {@code in process}, or the server's URL
 * @param protocol {@code in-process}, {@code json} or {@code binary}
 * @param mode concurrency or rate
 * @param inputs where the inputs came from
 * @param settings how it was measured
 * @param machine the machine and JVM the client ran on
 * @param started when it started
 * @param notes lines worth knowing when reading the numbers
 * @param results one per level, in the order run
 */
public record BenchReport(
    String model,
    long version,
    String target,
    String protocol,
    Mode mode,
    String inputs,
    Settings settings,
    String machine,
    Instant started,
    List<String> notes,
    List<LevelResult> results) {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Copies. */
  public BenchReport {
    requireNonNull(model, "model is null");
    requireNonNull(target, "target is null");
    requireNonNull(protocol, "protocol is null");
    requireNonNull(mode, "mode is null");
    requireNonNull(inputs, "inputs is null");
    requireNonNull(settings, "settings is null");
    requireNonNull(machine, "machine is null");
    requireNonNull(started, "started is null");
    notes = List.copyOf(notes);
    results = List.copyOf(results);
  }

  /** Returns the heading of the level column: {@code concurrency} or {@code rate/s}. */
  String levelHeading() {
    return mode == Mode.CONCURRENCY ? "concurrency" : "rate/s";
  }

  /** Returns one line saying what ran: model, version, target, protocol, batch, inputs. */
  String title() {
    return model
        + (version > 0 ? " version " + version : "")
        + ", "
        + (protocol.equals("in-process") ? "in process" : target + " (" + protocol + ")")
        + ", batch "
        + settings.batchSize()
        + ", "
        + inputs;
  }

  /** Returns one line saying how it was measured. */
  String method() {
    String schedule =
        mode == Mode.RATE
            ? "open loop, "
                + settings.distribution().name().toLowerCase(Locale.ROOT)
                + " arrivals, latency from the intended send time; "
            : "closed loop; ";
    return schedule
        + "warmup "
        + Durations.format(settings.warmup())
        + ", windows of "
        + Durations.format(settings.window())
        + " until the last 3 are within "
        + number(settings.stabilityPercent())
        + "% (at most "
        + settings.maxWindows()
        + ")";
  }

  /** The table printed on the terminal. */
  public String table() {
    List<String[]> rows = new ArrayList<>();
    boolean rate = mode == Mode.RATE;
    List<String> heading =
        new ArrayList<>(
            List.of(
                levelHeading(),
                "infer/s",
                "p50 ms",
                "p90 ms",
                "p95 ms",
                "p99 ms",
                "avg batch",
                "errors",
                "windows"));
    if (rate) {
      heading.add("sender");
    }
    rows.add(heading.toArray(String[]::new));
    for (LevelResult result : results) {
      Latencies latency = result.latency();
      List<String> row =
          new ArrayList<>(
              List.of(
                  result.level().valueText(),
                  String.format(Locale.ROOT, "%.1f", result.throughput()),
                  millis(latency.p50()),
                  millis(latency.p90()),
                  millis(latency.p95()),
                  millis(latency.p99()),
                  result.averageBatch().isPresent()
                      ? String.format(Locale.ROOT, "%.2f", result.averageBatch().getAsDouble())
                      : "-",
                  errors(result.errors()),
                  result.windowsRun() + (result.stable() ? ", stable" : ", unstable")));
      if (rate) {
        row.add(result.lag().map(LevelResult.ClientLag::verdict).orElse("-"));
      }
      rows.add(row.toArray(String[]::new));
    }
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder text = new StringBuilder();
    text.append(title()).append('\n');
    text.append(method()).append('\n');
    for (String note : notes) {
      text.append(note).append('\n');
    }
    text.append('\n');
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        boolean left = i >= row.length - (rate ? 3 : 2);
        String format = "%" + (left ? "-" : "") + widths[i] + "s";
        line.append(String.format(Locale.ROOT, format, row[i])).append("  ");
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
    for (LevelResult result : results) {
      if (result.lag().isPresent() && !result.lag().get().keptUp()) {
        text.append(warning(result)).append('\n');
      }
    }
    return text.toString();
  }

  /** The JSON document of {@code --json}. */
  public String json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", model);
    if (version > 0) {
      root.put("version", version);
    } else {
      root.putNull("version");
    }
    root.put("target", target);
    root.put("protocol", protocol);
    root.put("mode", mode.name().toLowerCase(Locale.ROOT));
    root.put("batch_size", settings.batchSize());
    root.put("inputs", inputs);
    root.put("started", started.toString());
    root.put("machine", machine);
    ArrayNode noteList = root.putArray("notes");
    notes.forEach(noteList::add);
    ObjectNode method = root.putObject("settings");
    method.put("warmup_ms", settings.warmup().toMillis());
    method.put("window_ms", settings.window().toMillis());
    method.put("stability_percent", settings.stabilityPercent());
    method.put("max_windows", settings.maxWindows());
    if (mode == Mode.RATE) {
      method.put("distribution", settings.distribution().name().toLowerCase(Locale.ROOT));
      method.put("max_outstanding", settings.maxOutstanding());
    }
    ArrayNode list = root.putArray("results");
    for (LevelResult result : results) {
      ObjectNode node = list.addObject();
      double level = result.level().value();
      if (level == Math.rint(level)) {
        node.put(mode == Mode.CONCURRENCY ? "concurrency" : "rate", (long) level);
      } else {
        node.put("rate", level);
      }
      node.put("throughput_infer_per_sec", round(result.throughput()));
      node.put("requests_per_sec", round(result.requestRate()));
      node.put("requests", result.requests());
      ObjectNode latency = node.putObject("latency_ms");
      Latencies values = result.latency();
      putMillis(latency, "p50", values.p50());
      putMillis(latency, "p90", values.p90());
      putMillis(latency, "p95", values.p95());
      putMillis(latency, "p99", values.p99());
      putMillis(latency, "max", values.max());
      putMillis(latency, "mean", values.mean());
      ObjectNode errors = node.putObject("errors");
      new TreeMap<>(result.errors()).forEach(errors::put);
      ObjectNode examples = node.putObject("error_examples");
      new TreeMap<>(result.errorExamples()).forEach(examples::put);
      if (result.averageBatch().isPresent()) {
        node.put("average_batch_size", round(result.averageBatch().getAsDouble()));
      } else {
        node.putNull("average_batch_size");
      }
      node.put("windows", result.windowsRun());
      node.put("windows_reported", result.windowsReported());
      node.put("stable", result.stable());
      ArrayNode throughputs = node.putArray("window_throughputs");
      result.windowThroughputs().forEach(value -> throughputs.add(round(value)));
      result
          .lag()
          .ifPresent(
              lag -> {
                ObjectNode sender = node.putObject("sender");
                sender.put("send_delay_p99_ms", round(lag.p99Ms()));
                sender.put("send_delay_max_ms", round(lag.maxMs()));
                sender.put("blocked_sends", lag.blocked());
                sender.put("behind_at_window_end_ms", round(lag.behindMs()));
                sender.put("kept_up", lag.keptUp());
              });
    }
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The CSV of {@code --csv}: a header and one row per level. */
  public String csv() {
    StringBuilder text = new StringBuilder();
    text.append(
        "mode,level,throughput_infer_per_sec,requests_per_sec,requests,p50_ms,p90_ms,p95_ms,p99_ms,"
            + "max_ms,mean_ms,errors,average_batch_size,windows,stable,send_delay_p99_ms,kept_up\n");
    for (LevelResult result : results) {
      Latencies latency = result.latency();
      List<String> cells =
          List.of(
              mode.name().toLowerCase(Locale.ROOT),
              result.level().valueText(),
              number(round(result.throughput())),
              number(round(result.requestRate())),
              Long.toString(result.requests()),
              csvMillis(latency.p50()),
              csvMillis(latency.p90()),
              csvMillis(latency.p95()),
              csvMillis(latency.p99()),
              csvMillis(latency.max()),
              csvMillis(latency.mean()),
              Long.toString(result.errorCount()),
              result.averageBatch().isPresent()
                  ? number(round(result.averageBatch().getAsDouble()))
                  : "",
              Integer.toString(result.windowsRun()),
              Boolean.toString(result.stable()),
              result.lag().map(lag -> number(round(lag.p99Ms()))).orElse(""),
              result.lag().map(lag -> Boolean.toString(lag.keptUp())).orElse(""));
      text.append(String.join(",", cells)).append('\n');
    }
    return text.toString();
  }

  /** The warning of a level whose sender did not keep to its schedule. */
  static String warning(LevelResult result) {
    LevelResult.ClientLag lag = result.lag().orElseThrow();
    String why =
        lag.blocked() > 0
            ? lag.blocked()
                + " sends waited because --max-outstanding requests were in flight: the server"
                + " did not answer as fast as they arrived"
            : "the client itself fell " + Math.round(lag.behindMs()) + " ms behind its schedule";
    return String.format(
        Locale.ROOT,
        "warning: at %s the arrival schedule was not kept (%s; send delay p99 %.2f ms, max %.2f"
            + " ms); latencies still count from the intended send times, but the load offered was"
            + " lower than asked",
        result.level().label(),
        why,
        lag.p99Ms(),
        lag.maxMs());
  }

  static String millis(double value) {
    return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.3f", value);
  }

  static String errors(Map<String, Long> errors) {
    long total = errors.values().stream().mapToLong(Long::longValue).sum();
    if (total == 0) {
      return "0";
    }
    StringBuilder text = new StringBuilder().append(total).append(" (");
    new TreeMap<>(errors)
        .forEach(
            (kind, count) -> {
              if (text.charAt(text.length() - 1) != '(') {
                text.append(", ");
              }
              text.append(kind).append(' ').append(count);
            });
    return text.append(')').toString();
  }

  private static String csvMillis(double value) {
    return Double.isNaN(value) ? "" : number(round(value));
  }

  private static void putMillis(ObjectNode node, String field, double value) {
    if (Double.isNaN(value)) {
      node.putNull(field);
    } else {
      node.put(field, round(value));
    }
  }

  /** Rounds to a thousandth (a microsecond, for milliseconds). */
  static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  static String number(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
