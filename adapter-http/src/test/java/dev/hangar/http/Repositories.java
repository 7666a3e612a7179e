package dev.hangar.http;

import dev.hangar.testkit.fake.FakeBackendProvider;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Builds model repositories for the tests (and the load harness). */
public final class Repositories {
  static final long MB = 1L << 20;

  private Repositories() {}

  /** Deletes {@code directory} and everything in it. */
  public static void delete(Path directory) {
    try (Stream<Path> files = Files.walk(directory)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a model directory of the sample repository. */
  public static void copySample(Path repository, String model) {
    Path source = TestServer.MODELS.resolve(model);
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path target = repository.resolve(model).resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code <name>/1/model.fake} with one FP32 input {@code x} [-1, 4] and one output {@code
   * y} (the input doubled). The file is padded (sparsely) to {@code fileBytes}, which the manager's
   * memory estimate follows.
   */
  static void fake(Path repository, String name, long fileBytes, String... extra) {
    fake(repository, name, "x=FP32 -1,4", "y=FP32 -1,4", fileBytes, extra);
  }

  /**
   * Writes the fake model {@code wide}: one FP32 input {@code x} and one output {@code y} of any
   * number of columns (the input doubled).
   */
  static void wide(Path repository) {
    fake(repository, "wide", "x=FP32 -1,-1", "y=FP32 -1,-1", MB);
  }

  /** Like {@link #fake(Path, String, long, String...)}, holding {@code memoryBytes} once loaded. */
  static void fakeHolding(Path repository, String name, long fileBytes, long memoryBytes) {
    try {
      Path file =
          FakeBackendProvider.write(
              repository.resolve(name).resolve("1").resolve("model.fake"),
              "x=FP32 -1,4",
              "y=FP32 -1,4",
              memoryBytes);
      try (RandomAccessFile padded = new RandomAccessFile(file.toFile(), "rw")) {
        padded.setLength(Math.max(padded.length(), fileBytes));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void fake(
      Path repository,
      String name,
      String inputs,
      String outputs,
      long fileBytes,
      String... extra) {
    fake(repository, name, 1, inputs, outputs, fileBytes, extra);
  }

  /**
   * Writes version {@code version} of a fake model as {@link #fake(Path, String, long, String...)}
   * writes version 1.
   */
  static void fakeVersion(Path repository, String name, long version, String... extra) {
    fake(repository, name, version, "x=FP32 -1,4", "y=FP32 -1,4", MB, extra);
  }

  private static void fake(
      Path repository,
      String name,
      long version,
      String inputs,
      String outputs,
      long fileBytes,
      String... extra) {
    try {
      Path file =
          FakeBackendProvider.write(
              repository.resolve(name).resolve(Long.toString(version)).resolve("model.fake"),
              inputs,
              outputs,
              fileBytes,
              extra);
      try (RandomAccessFile padded = new RandomAccessFile(file.toFile(), "rw")) {
        padded.setLength(Math.max(padded.length(), fileBytes));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a model's config.yaml. */
  static void config(Path repository, String name, String yaml) {
    try {
      Files.createDirectories(repository.resolve(name));
      Files.writeString(repository.resolve(name).resolve("config.yaml"), yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
