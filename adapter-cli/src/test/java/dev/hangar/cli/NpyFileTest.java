package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NumPy's .npy format, written by hand byte by byte, read by {@link NpyFile}. */
class NpyFileTest {
  @TempDir Path temporary;

  /** Writes a .npy file as NumPy does: magic, version, header length, padded header, data. */
  static byte[] npy(int major, String header, byte[] data) {
    int lengthBytes = major == 1 ? 2 : 4;
    int preamble = 6 + 2 + lengthBytes;
    byte[] text =
        header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    int padding = 64 - (preamble + text.length + 1) % 64;
    int headerLength = text.length + padding + 1;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    ByteBuffer length = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
    if (major == 1) {
      length.putShort((short) headerLength);
    } else {
      length.putInt(headerLength);
    }
    out.writeBytes(length.array());
    out.writeBytes(text);
    out.writeBytes(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
    out.write('\n');
    out.writeBytes(data);
    return out.toByteArray();
  }

  static byte[] littleEndianFloats(float... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      buffer.putFloat(value);
    }
    return buffer.array();
  }

  @Test
  void version1FloatMatrix() {
    byte[] file =
        npy(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            littleEndianFloats(1, 2, 3, 4, 5, 6));
    Tensor tensor = NpyFile.parse("x", file);
    assertThat(tensor.dataType()).isEqualTo(DataType.FP32);
    assertThat(tensor.shape()).containsExactly(2, 3);
    assertThat(tensor.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void version2Int64AndVersion3BoolWithUtf8Header() {
    ByteBuffer longs = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    longs.putLong(-1).putLong(7).putLong(Long.MAX_VALUE);
    Tensor int64 =
        NpyFile.parse(
            "ids",
            npy(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", longs.array()));
    assertThat(int64.dataType()).isEqualTo(DataType.INT64);
    assertThat(int64.shape()).containsExactly(3);
    assertThat(int64.toLongArray()).containsExactly(-1, 7, Long.MAX_VALUE);

    Tensor bool =
        NpyFile.parse(
            "mask",
            npy(
                3,
                "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), } # ünïcode",
                new byte[] {1, 0, 0, 1}));
    assertThat(bool.dataType()).isEqualTo(DataType.BOOL);
    assertThat(bool.toBooleanArray()).containsExactly(true, false, false, true);
  }

  @Test
  void bigEndianIsSwappedAndScalarsAndByteStringsRead() {
    ByteBuffer big = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN);
    big.putDouble(1.5).putDouble(-2.25);
    Tensor doubles =
        NpyFile.parse(
            "d", npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", big.array()));
    assertThat(doubles.dataType()).isEqualTo(DataType.FP64);
    assertThat(doubles.toDoubleArray()).containsExactly(1.5, -2.25);

    Tensor scalar =
        NpyFile.parse(
            "s",
            npy(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (), }", new byte[] {1, 1}));
    assertThat(scalar.shape()).isEmpty();
    assertThat(scalar.dataType()).isEqualTo(DataType.UINT16);
    assertThat(scalar.toLongArray()).containsExactly(257);

    Tensor strings =
        NpyFile.parse(
            "t",
            npy(
                1,
                "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }",
                new byte[] {'a', 'b', 'c', 'x', 0, 0}));
    assertThat(strings.dataType()).isEqualTo(DataType.BYTES);
    assertThat(strings.toStringList()).containsExactly("abc", "x");

    Tensor half =
        NpyFile.parse(
            "h",
            npy(
                1,
                "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
                new byte[] {0x00, 0x3C}));
    assertThat(half.dataType()).isEqualTo(DataType.FP16);
    assertThat(half.toFloatArray()).containsExactly(1.0f);
  }

  @Test
  void unsupportedFilesAreRefusedWithTheReason() {
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "u",
                    npy(
                        1,
                        "{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }",
                        new byte[20])))
        .hasMessageContaining("dtype '<U5' (Unicode strings) is not supported")
        .hasMessageContaining("astype('S')");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "f",
                    npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                        littleEndianFloats(1, 2, 3, 4))))
        .hasMessageContaining("Fortran (column-major) order");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "o",
                    npy(
                        1,
                        "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                        new byte[8])))
        .hasMessageContaining("(Python objects, pickled) is not supported");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "c",
                    npy(
                        1,
                        "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                        new byte[8])))
        .hasMessageContaining("complex numbers");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "r",
                    npy(
                        1,
                        "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                        new byte[8])))
        .hasMessageContaining("structured arrays are not supported");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "t",
                    npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                        new byte[8])))
        .hasMessageContaining("needs 24 data bytes but the file has 8");
    assertThatThrownBy(
            () -> NpyFile.parse("m", "not numpy at all".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("magic");
    byte[] future =
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
    future[6] = 4;
    assertThatThrownBy(() -> NpyFile.parse("v", future)).hasMessageContaining("format version 4.0");
    assertThatThrownBy(
            () ->
                NpyFile.parse(
                    "h",
                    npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
                        new byte[8])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "its shape [4611686018427387904, 4] holds more values than a tensor can");
  }

  @Test
  void readingAFileNamesIt() throws IOException {
    Path file = temporary.resolve("bad.npy");
    Files.write(
        file, npy(1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new byte[12]));
    assertThatThrownBy(() -> NpyFile.read("x", file))
        .isInstanceOf(UsageException.class)
        .hasMessageStartingWith(file + " is not a .npy file Hangar can read: dtype '<U3'");
    assertThatThrownBy(() -> NpyFile.read("x", temporary.resolve("missing.npy")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("cannot read");
  }

  @Test
  void inferTakesNpyInputsAndAddsTheBatchDimensionToOneRow() throws IOException {
    float[] row = {0.2f, 0.1f, 0.5f, 0.3f, 0.1f, 0.6f, 0.8f, 0.4f, 0.5f, 0.2f};
    Path file = temporary.resolve("features.npy");
    Files.write(
        file,
        npy(
            1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }",
            littleEndianFloats(row)));
    CliRunner.Result fromNpy =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input-npy",
            "features=" + file,
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(fromNpy.exitCode()).as(fromNpy.err()).isZero();
    CliRunner.Result fromJson =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input",
            "{\"features\": [0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]}",
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(fromNpy.out()).isEqualTo(fromJson.out()).contains("\"shape\":[1,1]");

    CliRunner.Result unknown =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input-npy",
            "pixels=" + file,
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err().strip().lines().toList())
        .isEqualTo(
            List.of("error: --input-npy names input 'pixels'; the model's inputs are [features]"));

    // the same input twice: refused, not the last one taken
    CliRunner.Result twice =
        CliRunner.run(
            "infer",
            "quality_predictor",
            "--input-npy",
            "features=" + file,
            "--input-npy",
            "features=" + file,
            "--repo",
            OneShotCommandsTest.MODELS,
            "--cache-dir",
            OneShotCommandsTest.CACHE);
    assertThat(twice.exitCode()).isEqualTo(2);
    assertThat(twice.err().strip().lines().toList())
        .isEqualTo(
            List.of("error: --input-npy gives input 'features' twice; give each input once"));
    CliRunner.Result noName =
        CliRunner.run(
            "infer", "quality_predictor", "--input-npy", file.toString(), "--repo", "unused");
    assertThat(noName.exitCode()).isEqualTo(2);
    assertThat(noName.err()).contains("--input-npy takes INPUT=FILE, got '" + file + "'");
  }
}
