package dev.hangar.core.testing;

import java.text.MessageFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The lines a class logs while an action runs, as {@code "LEVEL message"} with its arguments. */
public final class LogLines {
  private LogLines() {}

  /** Returns the lines {@code source} logs at INFO or above that {@code keep} accepts. */
  public static List<String> atInfo(Class<?> source, Predicate<String> keep, Runnable action) {
    Logger log = Logger.getLogger(source.getName());
    List<String> logged = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            String line = MessageFormat.format(record.getMessage(), record.getParameters());
            if (record.getLevel().intValue() >= Level.INFO.intValue() && keep.test(line)) {
              logged.add(record.getLevel() + " " + line);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    log.addHandler(handler);
    try {
      action.run();
    } finally {
      log.removeHandler(handler);
    }
    return logged;
  }
}
