package dev.hangar.backend.onnx.optimizer;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A model file's size and digest for the optimizers, an unreadable file refused as the user's. */
public final class ModelFiles {
  private ModelFiles() {}

  /**
   * Returns the file's SHA-256 through {@code digests}.
   *
   * @param what how the error names the file, such as {@code "model file"}
   */
  public static String sha256(FileDigests digests, Path file, String what) {
    try {
      return digests.sha256(file);
    } catch (IOException e) {
      throw unreadable(file, what, e);
    }
  }

  /**
   * Returns the file's size in bytes.
   *
   * @param what how the error names the file, such as {@code "model file"}
   */
  public static long size(Path file, String what) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw unreadable(file, what, e);
    }
  }

  private static ModelLoadException unreadable(Path file, String what, IOException e) {
    return new ModelLoadException(
        ErrorCategory.USER_ERROR, "cannot read " + what + " " + file + ": " + e.getMessage(), e);
  }
}
