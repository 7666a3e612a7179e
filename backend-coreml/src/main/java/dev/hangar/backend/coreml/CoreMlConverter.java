package dev.hangar.backend.coreml;

import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.FormatConverter;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelSource;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes a CoreML model as the ONNX graph Hangar compiles it into, so that ONNX Runtime (or
 * Hangar's ONNX backend) loads it directly. The file is written next to the target and moved into
 * place, so a reader never sees half a file.
 */
final class CoreMlConverter implements FormatConverter {
  private final CoreMlBackend backend;

  CoreMlConverter(CoreMlBackend backend) {
    this.backend = backend;
  }

  @Override
  public String targetFormat() {
    return "onnx";
  }

  @Override
  public String targetExtension() {
    return ".onnx";
  }

  @Override
  public void convert(ModelSource source, Path target) {
    byte[] graph = backend.compile(source).graph().toByteArray();
    Path absolute = target.toAbsolutePath();
    try {
      Files.createDirectories(absolute.getParent());
      // a temporary file is private (0600); the model it becomes is as readable as any other file
      Path temporary =
          Files.createTempFile(
              absolute.getParent(), ".hangar-convert", ".onnx", readable(absolute));
      try {
        Files.write(temporary, graph);
        try {
          Files.move(
              temporary,
              absolute,
              StandardCopyOption.REPLACE_EXISTING,
              StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          "cannot write "
              + target
              + ": "
              + (e instanceof FileSystemException failure && failure.getReason() != null
                  ? failure.getReason()
                  : e.toString()),
          e);
    }
  }

  /** rw-r--r-- (less what the umask takes) where the file system has POSIX permissions. */
  private static FileAttribute<?>[] readable(Path target) {
    return target.getFileSystem().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--"))
        }
        : new FileAttribute<?>[0];
  }
}
