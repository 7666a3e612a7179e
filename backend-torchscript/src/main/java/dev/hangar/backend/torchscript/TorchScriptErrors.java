package dev.hangar.backend.torchscript;

import java.util.regex.Pattern;

/**
 * Reads libtorch's error messages, which arrive through DJL as the text of an {@code
 * EngineException}: TorchScript's interpreter puts a traceback first and the error itself (such as
 * {@code builtins.ValueError: ...}) on the last line. libtorch's error types do not cross DJL's JNI
 * layer, so the last line is the only place they can be read from.
 */
final class TorchScriptErrors {
  /** Error types that mean the values of the inputs were at fault, not the model or the engine. */
  private static final Pattern INPUT_FAULT =
      Pattern.compile("^(builtins\\.)?(IndexError|ValueError|AssertionError|TypeError)\\b.*");

  private TorchScriptErrors() {}

  /** Returns the last non-blank line of the error's message: the error itself. */
  static String summary(Throwable error) {
    String message = error.getMessage();
    if (message == null || message.isBlank()) {
      return error.getClass().getSimpleName();
    }
    String[] lines = message.strip().split("\\R");
    for (int i = lines.length - 1; i >= 0; i--) {
      if (!lines[i].isBlank()) {
        return lines[i].strip();
      }
    }
    return message.strip();
  }

  /** Returns whether the error summary names an error caused by input values. */
  static boolean isInputFault(String summary) {
    return INPUT_FAULT.matcher(summary).matches();
  }
}
