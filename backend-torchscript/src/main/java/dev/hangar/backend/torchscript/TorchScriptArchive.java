package dev.hangar.backend.torchscript;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads what a TorchScript file tells without libtorch, for messages only: a {@code .pt} file is a
 * zip archive holding the module's code as Python source ({@code <name>/code/__torch__.py}), from
 * which the names of {@code forward}'s arguments can be read. A file written by {@code torch.save}
 * instead of {@code torch.jit.save} is a zip archive without that code.
 */
final class TorchScriptArchive {
  private static final Pattern FORWARD =
      Pattern.compile("def forward\\(self[^,)]*((?:,[^)]*)?)\\)\\s*->", Pattern.DOTALL);
  private static final Pattern ARGUMENT = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*:");

  private TorchScriptArchive() {}

  /** What the archive holds, as far as these messages care. */
  enum Kind {
    /** A TorchScript archive: it has compiled code. */
    TORCHSCRIPT,
    /** A zip archive without code: most likely written by {@code torch.save}. */
    PICKLE_ARCHIVE,
    /** Not a zip archive at all, or unreadable. */
    OTHER
  }

  /** Returns what the file looks like. */
  static Kind kindOf(Path file) {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      boolean pickle = false;
      while (entries.hasMoreElements()) {
        String name = entries.nextElement().getName();
        if (name.contains("/code/")) {
          return Kind.TORCHSCRIPT;
        }
        pickle |= name.endsWith("data.pkl");
      }
      return pickle ? Kind.PICKLE_ARCHIVE : Kind.OTHER;
    } catch (IOException | RuntimeException e) {
      return Kind.OTHER;
    }
  }

  /**
   * Returns the names of the root module's {@code forward} arguments, after {@code self}, or empty
   * when the file cannot be read that way.
   */
  static Optional<List<String>> forwardArgumentNames(Path file) {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry entry = entries.nextElement();
        if (entry.getName().endsWith("/code/__torch__.py")) {
          String code =
              new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
          return parseForward(code);
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  static Optional<List<String>> parseForward(String code) {
    Matcher forward = FORWARD.matcher(code);
    if (!forward.find()) {
      return Optional.empty();
    }
    List<String> names = new ArrayList<>();
    String arguments = forward.group(1);
    for (String argument : splitTopLevel(arguments)) {
      Matcher name = ARGUMENT.matcher(argument);
      if (name.find()) {
        names.add(name.group(1));
      }
    }
    return Optional.of(names);
  }

  /** Splits {@code ", a: Tensor, b: Tuple[Tensor, Tensor]"} at the commas outside brackets. */
  private static List<String> splitTopLevel(String arguments) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    StringBuilder current = new StringBuilder();
    for (char c : arguments.toCharArray()) {
      if (c == '[' || c == '(') {
        depth++;
      } else if (c == ']' || c == ')') {
        depth--;
      }
      if (c == ',' && depth == 0) {
        if (!current.toString().isBlank()) {
          parts.add(current.toString());
        }
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    if (!current.toString().isBlank()) {
      parts.add(current.toString());
    }
    return parts;
  }
}
