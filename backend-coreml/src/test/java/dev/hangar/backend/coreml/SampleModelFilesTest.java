package dev.hangar.backend.coreml;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.backend.coreml.SampleModelWriter.Sample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The committed sample .mlmodel files are exactly what {@link SampleModelWriter} writes from the
 * ONNX weights. Run with {@code -Dhangar.coreml.writeSamples=true} to rewrite them.
 */
class SampleModelFilesTest {
  static final Path MODELS = Path.of(System.getProperty("hangar.models.dir", "../models"));

  @ParameterizedTest
  @EnumSource(Sample.class)
  void committedFileIsWhatTheWriterWrites(Sample sample) throws IOException {
    byte[] expected = sample.build(MODELS).toByteArray();
    Path file = sample.coreMlFile(MODELS);
    if (Boolean.getBoolean("hangar.coreml.writeSamples")) {
      Files.createDirectories(file.getParent());
      Files.write(file, expected);
    }
    assertThat(Files.readAllBytes(file))
        .as(file + " (regenerate with -Dhangar.coreml.writeSamples=true)")
        .isEqualTo(expected);
  }
}
