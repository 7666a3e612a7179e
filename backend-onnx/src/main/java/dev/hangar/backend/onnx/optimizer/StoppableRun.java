package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One optimize or tune run: it stops at its next {@link #check} when its thread is interrupted
 * ({@code hangar optimize} interrupts it on Ctrl-C or SIGTERM), and its temporary files are deleted
 * when it ends. Should the process exit first (a second signal, or no signal handling), a shutdown
 * hook deletes them, where {@code finally} blocks never run.
 */
public final class StoppableRun implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StoppableRun.class.getName());

  /** Writes one file. */
  @FunctionalInterface
  public interface Writer<T> {
    /** Writes the file and returns what the caller needs from it. */
    T write() throws IOException;
  }

  // guards files and exiting, and is held while a file is written, so that the hook never deletes
  // a file that a writer then finishes
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Path> files = new ArrayList<>();
  private boolean exiting;
  private final Thread hook = new Thread(this::exit, "hangar-optimizer-files");

  /** Starts a run and the shutdown hook that deletes its files. */
  public StoppableRun() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Ends the run here when its thread was interrupted (the interrupt is taken) or the process is
   * exiting.
   *
   * @throws ModelLoadException when it was
   */
  public void check() {
    boolean stop;
    lock.lock();
    try {
      stop = exiting;
    } finally {
      lock.unlock();
    }
    if (Thread.interrupted() || stop) {
      throw new ModelLoadException(ErrorCategory.UNAVAILABLE, "stopped before the run finished");
    }
  }

  /**
   * Registers {@code file} as temporary, deleted when the run ends, and runs {@code writer}, which
   * writes it.
   *
   * @throws ModelLoadException when the run was stopped
   */
  public <T> T write(Path file, Writer<T> writer) throws IOException {
    lock.lock();
    try {
      check();
      files.add(file);
      return writer.write();
    } finally {
      lock.unlock();
    }
  }

  /** Ends the run: deletes its files and removes the shutdown hook. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs, and deletes the same files
    }
    deleteFiles();
  }

  private void exit() {
    lock.lock();
    try {
      exiting = true;
    } finally {
      lock.unlock();
    }
    deleteFiles();
  }

  private void deleteFiles() {
    lock.lock();
    try {
      for (Path file : files) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", file, e.getMessage());
        }
      }
      files.clear();
    } finally {
      lock.unlock();
    }
  }
}
