package dev.hangar.backend.onnx.optimizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the optimizer needs to know about the CPU: whether int8 multiply-adds have VNNI (without it,
 * x86's u8×s8 instructions saturate, so weights are quantized to 7 bits), and a fingerprint of the
 * features that make an {@code all}-level optimized graph specific to this machine.
 *
 * @param architecture the JVM's {@code os.arch}
 * @param model the CPU model name, empty when unknown
 * @param flags the instruction-set flags that matter here, as Linux names them
 */
public record CpuFeatures(String architecture, String model, Set<String> flags) {
  /** The flags that change which kernels ONNX Runtime's MLAS picks. */
  static final List<String> RELEVANT =
      List.of(
          "sse4_1",
          "avx",
          "avx2",
          "fma",
          "f16c",
          "avx512f",
          "avx512bw",
          "avx512vl",
          "avx512_vnni",
          "avx_vnni",
          "avx512_bf16",
          "amx_int8",
          "asimd",
          "asimddp",
          "i8mm");

  /** Copies. */
  public CpuFeatures {
    flags = Set.copyOf(flags);
  }

  /** Reads this machine's features: {@code /proc/cpuinfo} on Linux, nothing elsewhere. */
  public static CpuFeatures detect() {
    String architecture = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return new CpuFeatures(architecture, "", Set.of());
    }
    try {
      return parse(architecture, Files.readAllLines(cpuinfo));
    } catch (IOException | RuntimeException e) {
      return new CpuFeatures(architecture, "", Set.of());
    }
  }

  /** Reads features from the lines of a {@code /proc/cpuinfo}. */
  static CpuFeatures parse(String architecture, List<String> lines) {
    String model = "";
    Set<String> flags = new TreeSet<>();
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (model.isEmpty() && (key.equals("model name") || key.equals("CPU part"))) {
        model = value;
      } else if (flags.isEmpty() && (key.equals("flags") || key.equals("Features"))) {
        for (String flag : value.split("\\s+")) {
          if (RELEVANT.contains(flag)) {
            flags.add(flag);
          }
        }
      }
    }
    return new CpuFeatures(architecture, model, flags);
  }

  /** Returns whether this is an x86-64 CPU. */
  public boolean isX86() {
    return architecture.equals("amd64") || architecture.equals("x86_64");
  }

  /** Returns whether the CPU has VNNI int8 dot-product instructions (AVX512-VNNI or AVX-VNNI). */
  public boolean hasVnni() {
    return flags.contains("avx512_vnni") || flags.contains("avx_vnni");
  }

  /**
   * Returns whether int8 weights should use 7 bits: on x86 without VNNI, the u8×s8 multiply-add
   * (VPMADDUBSW) adds pairs into 16 bits and saturates with full-range weights. ARM's dot products
   * do not saturate.
   */
  public boolean needsReducedRange() {
    return isX86() && !hasVnni();
  }

  /** Returns a stable description for cache keys: architecture, model and relevant flags. */
  public String fingerprint() {
    return architecture + "|" + model + "|" + String.join(",", new TreeSet<>(flags));
  }

  /** Returns a one-line description for reports, such as "x86-64 with AVX2, AVX512-VNNI". */
  public String describe() {
    List<String> shown =
        flags.stream()
            .filter(
                f ->
                    f.equals("avx2")
                        || f.equals("avx512f")
                        || f.contains("vnni")
                        || f.equals("amx_int8"))
            .sorted()
            .map(f -> f.toUpperCase(Locale.ROOT))
            .toList();
    return architecture
        + (model.isEmpty() ? "" : " (" + model + ")")
        + (shown.isEmpty() ? "" : " with " + String.join(", ", shown));
  }
}
