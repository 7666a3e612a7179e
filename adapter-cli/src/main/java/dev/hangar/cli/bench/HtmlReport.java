package dev.hangar.cli.bench;

import dev.hangar.cli.bench.LevelResult.Latencies;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The page of {@code --report}: one self-contained HTML file (inline CSS and SVG, no script, no
 * external resource) with a latency-versus-throughput chart (p50 and p99 against throughput, one
 * point per concurrency or rate, labelled with it) and the results table.
 */
public final class HtmlReport {
  private static final int WIDTH = 760;
  private static final int HEIGHT = 420;
  private static final int LEFT = 70;
  private static final int RIGHT = 30;
  private static final int TOP = 30;
  private static final int BOTTOM = 60;
  private static final String P50_COLOR = "#1f77b4";
  private static final String P99_COLOR = "#d62728";

  private HtmlReport() {}

  /** Renders the page. */
  public static String render(BenchReport report) {
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.append("<title>hangar bench: ").append(escape(report.model())).append("</title>\n");
    html.append(
        """
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; max-width: 1000px; }
        h1 { font-size: 1.4em; margin-bottom: 0.2em; }
        p.meta { color: #555; margin: 0.2em 0; }
        table { border-collapse: collapse; margin-top: 1em; font-variant-numeric: tabular-nums; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
        th { background: #f3f3f3; }
        td.text { text-align: left; }
        svg text { font-family: inherit; font-size: 12px; fill: #333; }
        .warning { color: #a40000; }
        </style>
        </head>
        <body>
        """);
    html.append("<h1>hangar bench: ").append(escape(report.model())).append("</h1>\n");
    html.append("<p class=\"meta\">").append(escape(report.title())).append("</p>\n");
    html.append("<p class=\"meta\">").append(escape(report.method())).append("</p>\n");
    html.append("<p class=\"meta\">")
        .append(escape(report.machine()))
        .append("; started ")
        .append(escape(report.started().toString()))
        .append("</p>\n");
    for (String note : report.notes()) {
      html.append("<p class=\"meta\">").append(escape(note)).append("</p>\n");
    }
    html.append(chart(report));
    html.append(table(report));
    for (LevelResult result : report.results()) {
      result
          .lag()
          .filter(lag -> !lag.keptUp())
          .ifPresent(
              lag ->
                  html.append("<p class=\"warning\">")
                      .append(escape(BenchReport.warning(result)))
                      .append("</p>\n"));
    }
    html.append("</body>\n</html>\n");
    return html.toString();
  }

  private static String chart(BenchReport report) {
    List<LevelResult> points =
        report.results().stream().filter(result -> !Double.isNaN(result.latency().p99())).toList();
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                + " role=\"img\" aria-label=\"latency against throughput\">%n",
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT));
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    double maxX = niceCeiling(max(points, LevelResult::throughput));
    double maxY = niceCeiling(max(points, result -> result.latency().p99()));
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    for (double tick : ticks(maxX)) {
      double x = LEFT + tick / maxX * plotWidth;
      svg.append(line(x, TOP, x, TOP + plotHeight, "#eee"));
      svg.append(text(x, TOP + plotHeight + 18, "middle", format(tick)));
    }
    for (double tick : ticks(maxY)) {
      double y = TOP + plotHeight - tick / maxY * plotHeight;
      svg.append(line(LEFT, y, LEFT + plotWidth, y, "#eee"));
      svg.append(text(LEFT - 8, y + 4, "end", format(tick)));
    }
    svg.append(line(LEFT, TOP + plotHeight, LEFT + plotWidth, TOP + plotHeight, "#333"));
    svg.append(line(LEFT, TOP, LEFT, TOP + plotHeight, "#333"));
    svg.append(text(LEFT + plotWidth / 2.0, HEIGHT - 15, "middle", "throughput (infer/s)"));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">"
                + "latency (ms)</text>%n",
            TOP + plotHeight / 2.0,
            TOP + plotHeight / 2.0));
    series(svg, points, maxX, maxY, result -> result.latency().p50(), P50_COLOR, false);
    series(svg, points, maxX, maxY, result -> result.latency().p99(), P99_COLOR, true);
    // legend
    svg.append(line(LEFT + 15, TOP + 10, LEFT + 35, TOP + 10, P50_COLOR, 2));
    svg.append(text(LEFT + 40, TOP + 14, "start", "p50"));
    svg.append(line(LEFT + 80, TOP + 10, LEFT + 100, TOP + 10, P99_COLOR, 2));
    svg.append(text(LEFT + 105, TOP + 14, "start", "p99"));
    svg.append(
        text(
            LEFT + 145,
            TOP + 14,
            "start",
            "labels: " + (report.levelHeading().equals("concurrency") ? "concurrency" : "rate/s")));
    if (points.isEmpty()) {
      svg.append(
          text(LEFT + plotWidth / 2.0, TOP + plotHeight / 2.0, "middle", "no successful request"));
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void series(
      StringBuilder svg,
      List<LevelResult> points,
      double maxX,
      double maxY,
      ToDoubleFunction<LevelResult> latency,
      String color,
      boolean labels) {
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    List<String> coordinates = new ArrayList<>();
    for (LevelResult point : points) {
      double x = LEFT + point.throughput() / maxX * plotWidth;
      double y = TOP + plotHeight - latency.applyAsDouble(point) / maxY * plotHeight;
      coordinates.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
    }
    if (coordinates.size() > 1) {
      svg.append("<polyline fill=\"none\" stroke=\"")
          .append(color)
          .append("\" stroke-width=\"2\" points=\"")
          .append(String.join(" ", coordinates))
          .append("\"/>\n");
    }
    for (int i = 0; i < points.size(); i++) {
      LevelResult point = points.get(i);
      String[] xy = coordinates.get(i).split(",");
      svg.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%s\" cy=\"%s\" r=\"4\" fill=\"%s\"><title>%s: %s infer/s, %s ms</title></circle>%n",
              xy[0],
              xy[1],
              color,
              escape(point.level().label()),
              format(point.throughput()),
              format(latency.applyAsDouble(point))));
      if (labels) {
        svg.append(
            text(
                Double.parseDouble(xy[0]) + 6,
                Double.parseDouble(xy[1]) - 6,
                "start",
                point.level().valueText()));
      }
    }
  }

  private static String table(BenchReport report) {
    StringBuilder html = new StringBuilder("<table>\n<tr>");
    List<String> headings =
        new ArrayList<>(
            List.of(
                report.levelHeading(),
                "infer/s",
                "p50 ms",
                "p90 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "avg batch",
                "errors",
                "windows"));
    boolean rate = report.results().stream().anyMatch(result -> result.lag().isPresent());
    if (rate) {
      headings.add("sender");
    }
    for (String heading : headings) {
      html.append("<th>").append(escape(heading)).append("</th>");
    }
    html.append("</tr>\n");
    for (LevelResult result : report.results()) {
      Latencies latency = result.latency();
      html.append("<tr>");
      cell(html, result.level().valueText(), false);
      cell(html, String.format(Locale.ROOT, "%.1f", result.throughput()), false);
      cell(html, BenchReport.millis(latency.p50()), false);
      cell(html, BenchReport.millis(latency.p90()), false);
      cell(html, BenchReport.millis(latency.p95()), false);
      cell(html, BenchReport.millis(latency.p99()), false);
      cell(html, BenchReport.millis(latency.max()), false);
      cell(
          html,
          result.averageBatch().isPresent()
              ? String.format(Locale.ROOT, "%.2f", result.averageBatch().getAsDouble())
              : "-",
          false);
      cell(html, BenchReport.errors(result.errors()), true);
      cell(html, result.windowsRun() + (result.stable() ? ", stable" : ", unstable"), true);
      if (rate) {
        cell(html, result.lag().map(LevelResult.ClientLag::verdict).orElse("-"), true);
      }
      html.append("</tr>\n");
    }
    return html.append("</table>\n").toString();
  }

  private static void cell(StringBuilder html, String value, boolean text) {
    html.append(text ? "<td class=\"text\">" : "<td>").append(escape(value)).append("</td>");
  }

  private static double max(List<LevelResult> points, ToDoubleFunction<LevelResult> value) {
    return points.stream().mapToDouble(value).max().orElse(1);
  }

  /** The smallest 1, 2 or 5 times a power of ten at or above {@code value} (and above 0). */
  static double niceCeiling(double value) {
    if (!(value > 0)) {
      return 1;
    }
    double power = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 2, 5, 10}) {
      if (step * power >= value) {
        return step * power;
      }
    }
    return 10 * power;
  }

  private static List<Double> ticks(double max) {
    List<Double> ticks = new ArrayList<>();
    double step = niceCeiling(max / 5);
    for (double tick = 0; tick <= max * 1.0001; tick += step) {
      ticks.add(tick);
    }
    return ticks;
  }

  private static String line(double x1, double y1, double x2, double y2, String color) {
    return line(x1, y1, x2, y2, color, 1);
  }

  private static String line(
      double x1, double y1, double x2, double y2, String color, int strokeWidth) {
    return String.format(
        Locale.ROOT,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\"/>%n",
        x1,
        y1,
        x2,
        y2,
        color,
        strokeWidth);
  }

  private static String text(double x, double y, String anchor, String value) {
    return String.format(
        Locale.ROOT,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>%n",
        x,
        y,
        anchor,
        escape(value));
  }

  private static String format(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e12) {
      return Long.toString((long) value);
    }
    if (Math.abs(value) >= 10) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    return String.format(Locale.ROOT, "%.3g", value);
  }

  static String escape(String text) {
    StringBuilder escaped = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> escaped.append("&lt;");
        case '>' -> escaped.append("&gt;");
        case '&' -> escaped.append("&amp;");
        case '"' -> escaped.append("&quot;");
        case '\'' -> escaped.append("&#39;");
        default -> escaped.append(c);
      }
    }
    return escaped.toString();
  }
}
