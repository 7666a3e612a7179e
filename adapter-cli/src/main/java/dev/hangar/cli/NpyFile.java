package dev.hangar.cli;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy's {@code .npy} format, versions 1.0, 2.0 and 3.0, into a {@link Tensor}.
 *
 * <p>The file is the magic {@code \x93NUMPY}, a major and minor version byte, the header length (2
 * bytes little-endian in version 1, 4 bytes in 2 and 3), a header that is a Python dict literal
 * ({@code {'descr': '<f4', 'fortran_order': False, 'shape': (1, 10), }}, Latin-1 in versions 1 and
 * 2, UTF-8 in 3), then the data. Accepted element types: {@code b1} (BOOL), {@code i1 i2 i4 i8}
 * (INT8 to INT64), {@code u1 u2 u4 u8} (UINT8 to UINT64), {@code f2 f4 f8} (FP16, FP32, FP64), in
 * either byte order (big-endian data is swapped), and {@code S<n>} byte strings (BYTES, trailing
 * NULs removed as NumPy does). Refused, with the reason: Unicode strings ({@code <U..}), objects,
 * complex numbers, structured types, and Fortran order.
 */
final class NpyFile {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NpyFile() {}

  /**
   * Reads {@code file} as a tensor named {@code name}.
   *
   * @throws UsageException naming the file and what is wrong with it
   */
  static Tensor read(String name, Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UsageException("cannot read " + file + ": " + IoProblems.describe(e));
    }
    try {
      return parse(name, bytes);
    } catch (IllegalArgumentException e) {
      throw new UsageException(file + " is not a .npy file Hangar can read: " + e.getMessage());
    }
  }

  /**
   * Parses the bytes of a {@code .npy} file.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static Tensor parse(String name, byte[] bytes) {
    if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
      throw new IllegalArgumentException("it does not start with NumPy's magic \\x93NUMPY");
    }
    int major = bytes[6] & 0xFF;
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = buffer.getShort(8) & 0xFFFF;
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw new IllegalArgumentException("it ends inside its preamble");
      }
      long length = buffer.getInt(8) & 0xFFFF_FFFFL;
      if (length > bytes.length) {
        throw new IllegalArgumentException("its header length " + length + " exceeds the file");
      }
      headerLength = (int) length;
      headerStart = 12;
    } else {
      throw new IllegalArgumentException(
          "format version " + major + "." + (bytes[7] & 0xFF) + " is unknown (1.0, 2.0, 3.0 are)");
    }
    if (headerStart + headerLength > bytes.length) {
      throw new IllegalArgumentException("it ends inside its header");
    }
    String header =
        new String(
            bytes,
            headerStart,
            headerLength,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher fortran = FORTRAN.matcher(header);
    if (!fortran.find()) {
      throw new IllegalArgumentException("its header has no 'fortran_order': " + header.strip());
    }
    if (fortran.group(1).equals("True")) {
      throw new IllegalArgumentException(
          "it is in Fortran (column-major) order; save it with np.ascontiguousarray(a)");
    }
    Matcher descr = DESCR.matcher(header);
    if (!descr.find()) {
      throw new IllegalArgumentException(
          "its 'descr' is not a simple type (structured arrays are not supported): "
              + header.strip());
    }
    Matcher shapeText = SHAPE.matcher(header);
    if (!shapeText.find()) {
      throw new IllegalArgumentException("its header has no 'shape': " + header.strip());
    }
    long[] shape = shape(shapeText.group(1));
    long count = 1;
    for (long dimension : shape) {
      if (dimension != 0 && count > Integer.MAX_VALUE / dimension) {
        throw new IllegalArgumentException(
            "its shape " + Arrays.toString(shape) + " holds more values than a tensor can");
      }
      count *= dimension;
    }
    ByteBuffer data =
        ByteBuffer.wrap(
                bytes, headerStart + headerLength, bytes.length - headerStart - headerLength)
            .slice();
    return tensor(name, descr.group(1), shape, count, data);
  }

  private static long[] shape(String text) {
    List<Long> dimensions = new ArrayList<>();
    for (String part : text.split(",")) {
      String dimension = part.strip();
      if (dimension.isEmpty()) {
        continue;
      }
      if (dimension.endsWith("L")) {
        dimension = dimension.substring(0, dimension.length() - 1);
      }
      try {
        long value = Long.parseLong(dimension);
        if (value < 0) {
          throw new NumberFormatException();
        }
        dimensions.add(value);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("its shape (" + text + ") is not a tuple of sizes");
      }
    }
    return dimensions.stream().mapToLong(Long::longValue).toArray();
  }

  private static Tensor tensor(
      String name, String descr, long[] shape, long count, ByteBuffer data) {
    if (descr.length() < 2) {
      throw new IllegalArgumentException("dtype '" + descr + "' is not a NumPy type string");
    }
    char order = descr.charAt(0);
    if (order != '<' && order != '>' && order != '|' && order != '=') {
      throw new IllegalArgumentException("dtype '" + descr + "' has no byte order character");
    }
    char kind = descr.charAt(1);
    int size = -1;
    if (descr.length() > 2) {
      try {
        size = Integer.parseInt(descr.substring(2));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("dtype '" + descr + "' is not a NumPy type string");
      }
    }
    if (kind == 'S' && size > 0) {
      return byteStrings(name, descr, shape, count, size, data);
    }
    DataType type =
        switch (kind + Integer.toString(size)) {
          case "b1" -> DataType.BOOL;
          case "i1" -> DataType.INT8;
          case "i2" -> DataType.INT16;
          case "i4" -> DataType.INT32;
          case "i8" -> DataType.INT64;
          case "u1" -> DataType.UINT8;
          case "u2" -> DataType.UINT16;
          case "u4" -> DataType.UINT32;
          case "u8" -> DataType.UINT64;
          case "f2" -> DataType.FP16;
          case "f4" -> DataType.FP32;
          case "f8" -> DataType.FP64;
          default -> throw new IllegalArgumentException(refusal(descr, kind));
        };
    long expected = checkedLength(descr, shape, count, size, data);
    ByteBuffer values = ByteBuffer.allocate((int) expected);
    values.put(data.duplicate()).flip();
    if (order == '>' && size > 1) {
      byte[] array = values.array();
      for (int start = 0; start < array.length; start += size) {
        for (int i = 0; i < size / 2; i++) {
          byte swap = array[start + i];
          array[start + i] = array[start + size - 1 - i];
          array[start + size - 1 - i] = swap;
        }
      }
    }
    if (type == DataType.BOOL) {
      for (int i = 0; i < values.limit(); i++) {
        if (values.get(i) > 1 || values.get(i) < 0) {
          throw new IllegalArgumentException("BOOL element " + i + " is neither 0 nor 1");
        }
      }
    }
    return Tensor.of(name, type, shape, values);
  }

  /** Returns the data's length in bytes, refusing data that does not fill the shape exactly. */
  private static long checkedLength(
      String descr, long[] shape, long count, int size, ByteBuffer data) {
    long expected = Math.multiplyExact(count, size);
    if (data.remaining() != expected) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " of '"
              + descr
              + "' needs "
              + expected
              + " data bytes but the file has "
              + data.remaining());
    }
    return expected;
  }

  private static Tensor byteStrings(
      String name, String descr, long[] shape, long count, int size, ByteBuffer data) {
    long expected = checkedLength(descr, shape, count, size, data);
    List<byte[]> elements = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      byte[] element = new byte[size];
      data.get(element);
      int length = size;
      while (length > 0 && element[length - 1] == 0) {
        length--;
      }
      elements.add(Arrays.copyOf(element, length));
    }
    return Tensor.ofByteElements(name, shape, elements);
  }

  private static String refusal(String descr, char kind) {
    return switch (kind) {
      case 'U' ->
          "dtype '"
              + descr
              + "' (Unicode strings) is not supported; save byte strings with a.astype('S') for"
              + " a BYTES input";
      case 'O' -> "dtype '" + descr + "' (Python objects, pickled) is not supported";
      case 'c' -> "dtype '" + descr + "' (complex numbers) has no v2 datatype";
      case 'M', 'm' -> "dtype '" + descr + "' (dates and times) has no v2 datatype";
      default ->
          "dtype '"
              + descr
              + "' is not supported; the supported ones are b1, i1-i8, u1-u8, f2, f4, f8 and S<n>";
    };
  }
}
