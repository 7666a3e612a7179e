package dev.hangar.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hangar.core.config.DataSize;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.OptimizationReport.Accuracy;
import dev.hangar.spi.OptimizationReport.Latency;
import dev.hangar.spi.OptimizationReport.Refusal;
import dev.hangar.spi.OptimizationReport.Variant;
import dev.hangar.spi.Runs;
import dev.hangar.spi.TuningReport;
import dev.hangar.spi.TuningReport.Trial;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Prints {@code hangar optimize}'s reports as tables or JSON. */
final class OptimizeOutput {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private OptimizeOutput() {}

  /** The optimization report as a table, one row per variant. */
  static String table(OptimizationReport report, Runs warmup) {
    StringBuilder text = new StringBuilder();
    line(text, "model", report.model());
    line(text, "engine", report.engine());
    line(text, "options", report.options().describe());
    text.append('\n');
    List<String> header = new ArrayList<>(List.of("variant", "file", "load"));
    List<Latency> shape = report.original().latencies();
    for (Latency latency : shape) {
      String batch = latency.batchSize() == 0 ? "fixed" : "b" + latency.batchSize();
      header.add(batch + " p50");
      header.add(batch + " p99");
    }
    header.add("max err");
    header.add("mean err");
    List<List<String>> rows = new ArrayList<>();
    rows.add(header);
    for (Variant variant : report.variants()) {
      List<String> row = new ArrayList<>();
      row.add(variant.name() + (variant.name().equals(report.chosen()) ? " *" : ""));
      row.add(DataSize.format(variant.fileBytes()));
      row.add(duration(variant.loadTime()));
      for (Latency wanted : shape) {
        Optional<Latency> latency = variant.latency(wanted.batchSize());
        row.add(latency.map(l -> duration(l.p50())).orElse("-"));
        row.add(latency.map(l -> duration(l.p99())).orElse("-"));
      }
      row.add(variant.accuracy().map(a -> number(a.maxAbsoluteError())).orElse("-"));
      row.add(variant.accuracy().map(a -> number(a.meanAbsoluteError())).orElse("-"));
      rows.add(row);
    }
    columns(text, rows);
    text.append("  * the variant written; errors are absolute, against the original, over ")
        .append(
            report.variants().stream()
                .flatMap(v -> v.accuracy().stream())
                .findFirst()
                .map(a -> a.comparedValues() + " output values of " + a.inputSets() + " input sets")
                .orElse("no outputs"))
        .append('\n');
    List<String> p99s = new ArrayList<>();
    for (Latency latency : shape) {
      p99s.add(
          (latency.batchSize() == 0 ? "" : "b" + latency.batchSize() + " ")
              + "p99 "
              + p99Of(latency.runs()));
    }
    text.append("  timed runs per variant: ")
        .append(String.join(", ", p99s))
        .append("; ")
        .append(warmup(warmup))
        .append(" per batch size\n");
    Variant original = report.original();
    for (Variant variant : report.variants().subList(1, report.variants().size())) {
      text.append("  ").append(variant.name()).append(": file ");
      text.append(percent(variant.fileBytes(), original.fileBytes())).append(" of the original");
      for (Latency latency : variant.latencies()) {
        original
            .latency(latency.batchSize())
            .ifPresent(
                before ->
                    text.append(", ")
                        .append(
                            latency.batchSize() == 0 ? "" : "batch " + latency.batchSize() + " ")
                        .append("p50 ")
                        .append(ratio(before.p50(), latency.p50())));
      }
      text.append('\n');
    }
    if (!report.actions().isEmpty()) {
      text.append("\ndone:\n");
      report.actions().forEach(action -> text.append("  - ").append(action).append('\n'));
    }
    if (!report.refusals().isEmpty()) {
      text.append("\nrefused:\n");
      for (Refusal refusal : report.refusals()) {
        text.append("  - ")
            .append(refusal.optimization())
            .append(": ")
            .append(refusal.reason())
            .append('\n');
      }
    }
    text.append('\n');
    line(
        text,
        "written",
        report
            .output()
            .map(Path::toString)
            .orElse(
                report.suggestedParameters().isEmpty()
                    ? "nothing (the original stays as it is)"
                    : "no model file: the chosen settings are in the suggested config.yaml"));
    return text.toString();
  }

  /** The tuning report as a table, one row per setting. */
  static String table(TuningReport report, Runs warmup) {
    StringBuilder text = new StringBuilder("\n");
    line(text, "tuning", report.model() + " on " + report.engine());
    line(text, "p99 target", TuningReport.format(report.p99Target()));
    text.append('\n');
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("threads", "batch", "p50", "p99", "runs", "rows/s", ""));
    for (Trial trial : report.trials()) {
      boolean best = report.best().map(trial::equals).orElse(false);
      rows.add(
          List.of(
              Integer.toString(trial.threads()),
              trial.batchSize() == 0 ? "fixed" : Integer.toString(trial.batchSize()),
              duration(trial.p50()),
              duration(trial.p99()),
              Integer.toString(trial.runs()),
              String.format(Locale.ROOT, "%.0f", trial.rowsPerSecond()),
              trial.meets(report.p99Target()) ? (best ? "best" : "") : "over target"));
    }
    columns(text, rows);
    List<Integer> runs = report.trials().stream().map(Trial::runs).distinct().toList();
    text.append("  p99 ")
        .append(
            runs.size() == 1
                ? p99Of(runs.get(0))
                : "the (runs / 100 + 1)th slowest of each setting's runs (nearest rank)")
        .append("; ")
        .append(warmup(warmup))
        .append(" per setting\n\n");
    line(
        text,
        "chosen",
        report.best().map(trial -> trial.describe() + ": ").orElse("nothing: ") + report.note());
    return text.toString();
  }

  /**
   * What a nearest-rank p99 over {@code runs} runs is, such as {@code the 11th slowest of 1000}.
   */
  static String p99Of(int runs) {
    int fromSlowest = runs - Math.max(1, (int) Math.ceil(0.99 * runs)) + 1;
    return (fromSlowest == 1 ? "the slowest" : "the " + ordinal(fromSlowest) + " slowest")
        + " of "
        + runs;
  }

  private static String warmup(Runs warmup) {
    return "warmup up to "
        + warmup.count()
        + (warmup.count() == 1 ? " run" : " runs")
        + " or "
        + TuningReport.format(warmup.limit());
  }

  private static String ordinal(int number) {
    int lastTwo = number % 100;
    String suffix =
        lastTwo >= 11 && lastTwo <= 13
            ? "th"
            : switch (number % 10) {
              case 1 -> "st";
              case 2 -> "nd";
              case 3 -> "rd";
              default -> "th";
            };
    return number + suffix;
  }

  /** Both reports, the suggested config and where it was written, as one JSON object. */
  static String json(
      Optional<OptimizationReport> report,
      Optional<TuningReport> tuning,
      String config,
      Optional<Path> configFile) {
    ObjectNode root = NODES.objectNode();
    report.ifPresent(r -> root.set("optimization", json(r)));
    tuning.ifPresent(t -> root.set("tuning", json(t)));
    root.put("suggested_config", config);
    root.put("suggested_config_file", configFile.map(Path::toString).orElse(null));
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode json(OptimizationReport report) {
    ObjectNode node = NODES.objectNode();
    node.put("model", report.model());
    node.put("engine", report.engine());
    node.set("options", json(report.options()));
    ArrayNode variants = node.putArray("variants");
    for (Variant variant : report.variants()) {
      ObjectNode v = variants.addObject();
      v.put("name", variant.name());
      v.put("file_bytes", variant.fileBytes());
      v.put("load_ms", millis(variant.loadTime()));
      ArrayNode latencies = v.putArray("latency");
      for (Latency latency : variant.latencies()) {
        ObjectNode l = latencies.addObject();
        l.put("batch_size", latency.batchSize());
        l.put("p50_ms", millis(latency.p50()));
        l.put("p99_ms", millis(latency.p99()));
        l.put("runs", latency.runs());
      }
      if (variant.accuracy().isPresent()) {
        Accuracy accuracy = variant.accuracy().get();
        ObjectNode a = v.putObject("accuracy");
        a.put("max_abs_error", accuracy.maxAbsoluteError());
        a.put("mean_abs_error", accuracy.meanAbsoluteError());
        a.put("max_abs_reference", accuracy.maxAbsoluteReference());
        a.put("compared_values", accuracy.comparedValues());
        a.put("input_sets", accuracy.inputSets());
      }
    }
    node.put("chosen", report.chosen());
    node.put("output", report.output().map(Path::toString).orElse(null));
    ArrayNode actions = node.putArray("actions");
    report.actions().forEach(actions::add);
    ArrayNode refusals = node.putArray("refusals");
    for (Refusal refusal : report.refusals()) {
      refusals
          .addObject()
          .put("optimization", refusal.optimization())
          .put("reason", refusal.reason());
    }
    report.suggestedOptimization().ifPresent(o -> node.set("suggested_optimization", json(o)));
    ObjectNode parameters = node.putObject("suggested_parameters");
    report.suggestedParameters().forEach(parameters::put);
    return node;
  }

  private static ObjectNode json(OptimizationOptions options) {
    ObjectNode node = NODES.objectNode();
    node.put("level", options.level().configName());
    node.put("int8", options.int8());
    node.put("int8_tolerance", options.int8Tolerance());
    node.put("per_channel", options.granularity() == OptimizationOptions.Granularity.PER_CHANNEL);
    return node;
  }

  private static ObjectNode json(TuningReport report) {
    ObjectNode node = NODES.objectNode();
    node.put("model", report.model());
    node.put("engine", report.engine());
    node.put("p99_target_ms", millis(report.p99Target()));
    node.put("p99_target", TuningReport.format(report.p99Target()));
    node.put("target_met", report.best().isPresent());
    ArrayNode trials = node.putArray("trials");
    for (Trial trial : report.trials()) {
      trials.add(trial(trial));
    }
    report.best().ifPresent(best -> node.set("best", trial(best)));
    ObjectNode parameters = node.putObject("suggested_parameters");
    report.suggestedParameters().forEach(parameters::put);
    node.put("suggested_max_batch_size", report.suggestedMaxBatchSize());
    node.put("note", report.note());
    return node;
  }

  private static ObjectNode trial(Trial trial) {
    return NODES
        .objectNode()
        .put("threads", trial.threads())
        .put("batch_size", trial.batchSize())
        .put("p50_ms", millis(trial.p50()))
        .put("p99_ms", millis(trial.p99()))
        .put("rows_per_second", trial.rowsPerSecond())
        .put("runs", trial.runs());
  }

  private static void columns(StringBuilder text, List<List<String>> rows) {
    int[] widths = new int[rows.get(0).size()];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        // names left, figures right
        line.append(i == 0 ? pad(cell, widths[i]) : padLeft(cell, widths[i]));
        line.append("  ");
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
  }

  private static String pad(String text, int width) {
    return text + " ".repeat(width - text.length());
  }

  private static String padLeft(String text, int width) {
    return " ".repeat(width - text.length()) + text;
  }

  private static void line(StringBuilder text, String label, String value) {
    text.append(String.format("%-10s %s%n", label, value));
  }

  /** A latency: microseconds below a millisecond, milliseconds above. */
  static String duration(Duration duration) {
    long nanos = duration.toNanos();
    if (nanos < 1_000_000) {
      return String.format(Locale.ROOT, "%d us", Math.round(nanos / 1e3));
    }
    return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
  }

  private static double millis(Duration duration) {
    return duration.toNanos() / 1e6;
  }

  private static String number(double value) {
    return value == 0 ? "0" : String.format(Locale.ROOT, "%.2g", value);
  }

  private static String percent(long part, long whole) {
    return String.format(Locale.ROOT, "%.1f%%", 100.0 * part / Math.max(1, whole));
  }

  private static String ratio(Duration before, Duration after) {
    double factor = (double) before.toNanos() / Math.max(1, after.toNanos());
    return factor >= 1
        ? String.format(Locale.ROOT, "%.2fx faster", factor)
        : String.format(Locale.ROOT, "%.2fx slower", 1 / factor);
  }
}
