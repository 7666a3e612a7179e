package dev.hangar.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a {@code hangar serve} child's output, keeping its lines and noticing when it is ready. */
final class ServeOutput {
  // ready, or serving with start-up models that failed to load
  private static final Pattern READY =
      Pattern.compile("Hangar is (?:ready|serving) at (http://\\S+)");

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final CompletableFuture<String> url = new CompletableFuture<>();
  private final Thread reader;

  private ServeOutput(Process process) {
    reader = new Thread(() -> read(process), "serve-output");
    reader.start();
  }

  /** Starts reading {@code process}'s output (stderr redirected into it). */
  static ServeOutput of(Process process) {
    return new ServeOutput(process);
  }

  /**
   * Waits until the server says it is ready, or serving but not ready; returns its URL without a
   * trailing slash.
   */
  String awaitUrl() throws Exception {
    return url.get(90, TimeUnit.SECONDS);
  }

  /** Waits until the output ends; returns every line it had. */
  List<String> awaitEnd() throws InterruptedException {
    reader.join(10_000);
    return lines;
  }

  List<String> lines() {
    return lines;
  }

  /**
   * Waits until a line containing {@code fragment} has come (a bounded wait: a test fails instead
   * of hanging).
   */
  void awaitLine(String fragment) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (lines.stream().noneMatch(line -> line.contains(fragment))) {
      if (System.nanoTime() > deadline || !reader.isAlive()) {
        throw new AssertionError("no line with '" + fragment + "' in: " + lines);
      }
      Thread.sleep(50);
    }
  }

  private void read(Process process) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
        Matcher matcher = READY.matcher(line);
        if (matcher.find()) {
          url.complete(matcher.group(1).replaceAll("/$", ""));
        }
      }
      url.completeExceptionally(new AssertionError("exited before ready: " + lines));
    } catch (IOException e) {
      url.completeExceptionally(e);
    }
  }
}
