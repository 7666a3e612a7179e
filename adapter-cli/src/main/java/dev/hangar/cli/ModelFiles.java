package dev.hangar.cli;

import dev.hangar.core.config.ConfigFiles;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.repository.ModelRepository;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A model file named on the command line ({@code inspect FILE}, {@code optimize FILE}). */
final class ModelFiles {
  private ModelFiles() {}

  /**
   * The file as a backend loads it. A file in a version directory of a model directory that has a
   * config.yaml (models/m/1/model.pt) takes that config's declared signature and backend settings,
   * as the server would: a TorchScript file, which declares no signature of its own, needs them.
   */
  /** The repository a model file lies in: models/m/1/model.onnx is in models. */
  static Optional<Path> repositoryOf(Path file) {
    Path version = file.toAbsolutePath().normalize().getParent();
    if (!Files.isRegularFile(file)
        || version == null
        || version.getParent() == null
        || version.getParent().getParent() == null
        || !ModelRepository.isVersionName(version.getFileName().toString())) {
      return Optional.empty();
    }
    return Optional.of(version.getParent().getParent());
  }

  /**
   * The path with its links resolved as far as it exists, so that a link into a directory compares
   * as the directory.
   */
  static Path realPath(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return absolute;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(absolute));
    } catch (IOException e) {
      return absolute;
    }
  }

  static ModelSource source(String name, Path file) {
    Path version = file.toAbsolutePath().normalize().getParent();
    if (version == null
        || version.getParent() == null
        || !ModelRepository.isVersionName(version.getFileName().toString())) {
      return ModelSource.of(name, 1, file);
    }
    Path config = version.getParent().resolve("config.yaml");
    if (!Files.isRegularFile(config)) {
      return ModelSource.of(name, Long.parseLong(version.getFileName().toString()), file);
    }
    ModelConfig read = ModelConfig.from(ConfigFiles.read(config));
    return new ModelSource(
        name,
        Long.parseLong(version.getFileName().toString()),
        file,
        read.declaredSignature(),
        new ModelParameters(read.parameters(), config.toString()));
  }
}
