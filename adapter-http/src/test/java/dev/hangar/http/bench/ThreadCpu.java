package dev.hangar.http.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The CPU time of every thread of this process, native ones included, read from Linux's {@code
 * /proc/self/task}: where a run's cores went. ONNX Runtime's pool threads carry the name of the
 * thread that created the session (Hangar's {@code hangar-model-loader}, cut to 15 characters). On
 * a system without {@code /proc} a sample is empty.
 */
final class ThreadCpu {
  // the kernel's USER_HZ, in which /proc reports CPU time: 100 on every mainstream Linux
  private static final double TICKS_PER_SECOND = 100;
  private static final Path TASKS = Path.of("/proc/self/task");

  private final Map<String, Long> ticksByThread;

  private ThreadCpu(Map<String, Long> ticksByThread) {
    this.ticksByThread = ticksByThread;
  }

  /** Reads every thread's CPU time now. */
  static ThreadCpu sample() {
    Map<String, Long> ticks = new HashMap<>();
    if (!Files.isDirectory(TASKS)) {
      return new ThreadCpu(ticks);
    }
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
        } catch (IOException gone) {
          continue; // the thread ended between the listing and the read
        }
        // "tid (name) state ...": the name may hold spaces and parentheses, so cut at the last ')'
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String name = stat.substring(open + 1, close);
        String[] fields = stat.substring(close + 2).split(" ");
        // fields 14 and 15 of stat (user and system time) are the 12th and 13th after the name
        long used = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        ticks.put(task.getFileName() + " " + name, used);
      }
    } catch (IOException e) {
      return new ThreadCpu(Map.of());
    }
    return new ThreadCpu(ticks);
  }

  /**
   * The cores each group of threads used between {@code earlier} and this sample, over {@code
   * seconds}, largest first, groups under 0.02 cores left out: "hangar-worker 0.81,
   * JettyServerThread 0.25". A group is a name without its trailing digits.
   */
  String coresSince(ThreadCpu earlier, double seconds) {
    Map<String, Long> byGroup = new TreeMap<>();
    ticksByThread.forEach(
        (thread, ticks) -> {
          long used = ticks - earlier.ticksByThread.getOrDefault(thread, 0L);
          String name = thread.substring(thread.indexOf(' ') + 1);
          byGroup.merge(name.replaceAll("[-#]?\\d+$", ""), used, Long::sum);
        });
    return byGroup.entrySet().stream()
        .filter(group -> group.getValue() / TICKS_PER_SECOND / seconds >= 0.02)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .map(
            group ->
                String.format(
                    Locale.ROOT,
                    "%s %.2f",
                    group.getKey(),
                    group.getValue() / TICKS_PER_SECOND / seconds))
        .collect(Collectors.joining(", "));
  }
}
