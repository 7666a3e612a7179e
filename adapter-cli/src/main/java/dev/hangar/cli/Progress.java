package dev.hangar.cli;

import java.io.Console;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long operation on stderr: on a terminal, one line redrawn in place with a bar;
 * otherwise (a pipe, a file, a CI log) plain lines, at most one a second plus milestones, with no
 * control characters at all.
 */
final class Progress {
  /** How progress is shown; {@link #AUTO} picks {@link #BAR} on a terminal, else {@link #PLAIN}. */
  enum Style {
    AUTO,
    BAR,
    PLAIN,
    NONE
  }

  private static final long PLAIN_INTERVAL_NANOS = 1_000_000_000L;
  private static final int BAR_WIDTH = 24;

  private final Style style;
  private final PrintWriter out;
  private final LongSupplier clock;
  private final int columns;
  private String task = "";
  private long total;
  private long lastPlain = Long.MIN_VALUE;
  private int drawn;

  Progress(Style style, PrintWriter out, LongSupplier clock) {
    this.style = style == Style.AUTO ? (isTerminal() ? Style.BAR : Style.PLAIN) : style;
    this.out = out;
    this.clock = clock;
    this.columns = columns();
  }

  /** Progress in the given style on {@code out}, timed by {@link System#nanoTime()}. */
  static Progress on(Style style, PrintWriter out) {
    return new Progress(style, out, System::nanoTime);
  }

  /** Returns the style in effect ({@link Style#AUTO} resolved). */
  Style style() {
    return style;
  }

  /** Starts a task of {@code total} steps (0 when unknown). */
  void start(String name, long steps) {
    task = name;
    total = steps;
    lastPlain = Long.MIN_VALUE;
  }

  /**
   * Reports {@code done} steps and what is happening; plain lines are throttled to one a second.
   */
  void update(long done, String detail) {
    switch (style) {
      case BAR -> draw(done, detail);
      case PLAIN -> {
        long now = clock.getAsLong();
        if (lastPlain == Long.MIN_VALUE || now - lastPlain >= PLAIN_INTERVAL_NANOS) {
          lastPlain = now;
          plain(done, detail);
        }
      }
      default -> {}
    }
  }

  /** Prints a line that stays (a milestone): above the bar on a terminal, always when plain. */
  void milestone(String line) {
    switch (style) {
      case BAR -> {
        clear();
        out.println(clean(line));
        out.flush();
      }
      case PLAIN -> {
        out.println(clean(line));
        out.flush();
      }
      default -> {}
    }
  }

  /** Ends the task: the bar is erased. */
  void finish() {
    if (style == Style.BAR) {
      clear();
    }
    out.flush();
  }

  private void plain(long done, String detail) {
    StringBuilder line = new StringBuilder(task);
    if (total > 0) {
      line.append(String.format(Locale.ROOT, " %d/%d", done, total));
    }
    if (!detail.isEmpty()) {
      line.append(": ").append(detail);
    }
    out.println(clean(line.toString()));
    out.flush();
  }

  private void draw(long done, String detail) {
    StringBuilder line = new StringBuilder(task).append(' ');
    if (total > 0) {
      int filled = (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
      line.append('[')
          .append("#".repeat(filled))
          .append(".".repeat(BAR_WIDTH - filled))
          .append("] ")
          .append(done)
          .append('/')
          .append(total);
    }
    if (!detail.isEmpty()) {
      line.append("  ").append(detail);
    }
    String text = clean(line.toString());
    if (text.length() > columns - 1) {
      text = text.substring(0, columns - 1);
    }
    int padding = Math.max(0, drawn - text.length());
    out.print("\r" + text + " ".repeat(padding));
    out.flush();
    drawn = text.length();
  }

  private void clear() {
    if (drawn > 0) {
      out.print("\r" + " ".repeat(drawn) + "\r");
      drawn = 0;
    }
  }

  /** Drops control characters from text that comes from elsewhere (model names, messages). */
  private static String clean(String text) {
    return text.replaceAll("\\p{Cntrl}", " ");
  }

  private static int columns() {
    try {
      int value = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80").trim());
      return value >= 20 ? value : 80;
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  /**
   * Whether this process talks to a terminal: a console exists (on JDK 22 and newer, where a
   * console exists even when redirected, also {@code Console.isTerminal()}), and TERM is not {@code
   * dumb}.
   */
  static boolean isTerminal() {
    Console console = System.console();
    if (console == null || "dumb".equals(System.getenv("TERM"))) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }
}
