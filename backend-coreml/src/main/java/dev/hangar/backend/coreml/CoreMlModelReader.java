package dev.hangar.backend.coreml;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.hangar.backend.coreml.proto.CoreMlProto.Model;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads {@code .mlmodel} files: a serialized CoreML {@code Model} protobuf. */
final class CoreMlModelReader {
  private CoreMlModelReader() {}

  /**
   * Reads and parses a specification.
   *
   * @throws ModelLoadException (USER_ERROR) naming the file when it is missing, a directory, empty
   *     or not a CoreML protobuf
   */
  static Model read(Path file) {
    if (Files.isDirectory(file)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          file
              + " is a directory (an .mlpackage?); Hangar's CoreML backend reads .mlmodel files,"
              + " and the ML Programs that .mlpackage directories hold are not supported");
    }
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "model file " + file + " does not exist");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
    }
    if (bytes.length == 0) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR, "model file " + file + " is empty (0 bytes)");
    }
    try {
      return Model.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException(
          ErrorCategory.USER_ERROR,
          file
              + " is not a valid CoreML .mlmodel file (truncated or corrupt protobuf): "
              + e.getMessage(),
          e);
    }
  }
}
