package dev.hangar.testkit;

import dev.hangar.spi.DataType;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the reference files of the sample models ({@code models/reference/*.txt}, written by {@code
 * models/generate.py}): FP32 input rows and the outputs PyTorch computed for them.
 *
 * <p>The format is a comment line, then for each tensor a header {@code input|output NAME FP32 ROWS
 * COLUMNS} followed by ROWS lines of COLUMNS numbers.
 */
public final class ReferenceFile {
  private ReferenceFile() {}

  /** Returns one batch-1 case per row of the file. */
  public static List<ReferenceCase> read(Path file) throws IOException {
    List<String> lines =
        Files.readAllLines(file).stream()
            .filter(line -> !line.isBlank() && !line.startsWith("#"))
            .toList();
    List<float[]> inputs = new ArrayList<>();
    List<float[]> outputs = new ArrayList<>();
    String inputName = null;
    String outputName = null;
    int index = 0;
    while (index < lines.size()) {
      String[] header = lines.get(index++).trim().split("\\s+");
      if (header.length != 5 || DataType.fromProtocolName(header[2]) != DataType.FP32) {
        throw new IOException(file + ": bad header '" + String.join(" ", header) + "'");
      }
      int rows = Integer.parseInt(header[3]);
      int columns = Integer.parseInt(header[4]);
      List<float[]> target = header[0].equals("input") ? inputs : outputs;
      if (header[0].equals("input")) {
        inputName = header[1];
      } else {
        outputName = header[1];
      }
      for (int row = 0; row < rows; row++) {
        String[] values = lines.get(index++).trim().split("\\s+");
        if (values.length != columns) {
          throw new IOException(
              file + ": row " + row + " of " + header[1] + " has " + values.length + " values");
        }
        float[] parsed = new float[columns];
        for (int column = 0; column < columns; column++) {
          parsed[column] = Float.parseFloat(values[column]);
        }
        target.add(parsed);
      }
    }
    if (inputName == null || outputName == null || inputs.size() != outputs.size()) {
      throw new IOException(
          file + ": needs one input and one output block of the same number of rows");
    }
    List<ReferenceCase> cases = new ArrayList<>();
    for (int row = 0; row < inputs.size(); row++) {
      float[] in = inputs.get(row);
      float[] out = outputs.get(row);
      cases.add(
          new ReferenceCase(
              List.of(Tensor.ofFloats(inputName, new long[] {1, in.length}, in)),
              List.of(Tensor.ofFloats(outputName, new long[] {1, out.length}, out))));
    }
    return cases;
  }
}
