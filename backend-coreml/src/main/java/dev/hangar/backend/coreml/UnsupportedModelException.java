package dev.hangar.backend.coreml;

/**
 * A CoreML construct the compiler cannot translate into ONNX, or a malformed specification. The
 * backend turns it into a {@link dev.hangar.spi.ModelLoadException} of category USER_ERROR that
 * names the file; the message names the layer, model or feature and what is supported instead.
 */
final class UnsupportedModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UnsupportedModelException(String message) {
    super(message);
  }
}
