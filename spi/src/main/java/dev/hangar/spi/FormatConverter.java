package dev.hangar.spi;

import java.nio.file.Path;

/**
 * An optional {@link Backend} capability: writes a model of the backend's format as a file of
 * another format, such as a CoreML model compiled to ONNX. Found through {@link
 * Backend#capability(Class)}.
 */
public interface FormatConverter {
  /** Returns the format written, such as {@code onnx}. */
  String targetFormat();

  /** Returns the file extension written, with the dot, such as {@code .onnx}. */
  String targetExtension();

  /**
   * Converts the model and writes the result to {@code target}, replacing it.
   *
   * @throws ModelLoadException when the model cannot be read or converted, naming the reason
   */
  void convert(ModelSource source, Path target);
}
