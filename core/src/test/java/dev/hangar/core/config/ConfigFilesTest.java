package dev.hangar.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFilesTest {
  @TempDir Path root;

  @Test
  void aFileOfOneMegabyteIsReadAndALargerOneIsRefusedWithItsSize() throws IOException {
    Path config = root.resolve("config.yaml");
    String key = "backend: onnx\n";
    Files.writeString(config, key + "#".repeat((1 << 20) - key.length()));
    assertThat(ConfigFiles.read(config).string("backend")).contains("onnx");

    Files.writeString(config, "#".repeat(100_000), java.nio.file.StandardOpenOption.APPEND);
    assertThatThrownBy(() -> ConfigFiles.read(config))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage(
            config
                + ": config.yaml is 1.1MB, more than the 1.0MB a config may be; is it the right"
                + " file?");
  }

  @Test
  void aYamlSyntaxErrorIsOneLineWithTheFileLineAndColumn() {
    assertThatThrownBy(
            () ->
                ConfigFiles.parse(
                    "m/config.yaml", "pinned: true\nmax_batch_size: 4\n instances: 2\n"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage("m/config.yaml:3:11: not valid YAML: mapping values are not allowed here");
    assertThatThrownBy(() -> ConfigFiles.parse("m/config.yaml", "inputs: [1, 2\n"))
        .hasMessage(
            "m/config.yaml:2:1: not valid YAML: expected ',' or ']', but got <stream end> (while"
                + " parsing a flow sequence at line 1, column 9)");
    assertThatThrownBy(() -> ConfigFiles.parse("m/config.yaml", "pinned: true\npinned: false\n"))
        .hasMessage("m/config.yaml:2:7: not valid YAML: Duplicate field 'pinned'");
  }

  @Test
  void aFileThatIsNotUtf8NamesTheByteAndItsOffset() throws IOException {
    Path config = root.resolve("config.yaml");
    Files.write(config, new byte[] {'a', ':', ' ', 'c', 'a', (byte) 0xE9, '\n'});

    assertThatThrownBy(() -> ConfigFiles.read(config))
        .isInstanceOf(ConfigurationException.class)
        .hasMessage(config + ": not UTF-8 text (byte 0xE9 at offset 5); save the file as UTF-8");
  }

  @Test
  void aMissingFileIsNamedOnce() {
    Path config = root.resolve("config.yaml");
    assertThatThrownBy(() -> ConfigFiles.read(config))
        .hasMessage(config + ": cannot read config.yaml: no such file");
  }
}
