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
   * The version directory a file lies in, when it is named as a version: models/m/1 for
   * models/m/1/model.onnx.
   */
  private static Optional<Path> versionDirectoryOf(Path file) {
    Path version = file.toAbsolutePath().normalize().getParent();
    if (version == null
        || version.getParent() == null
        || !ModelRepository.isVersionName(version.getFileName().toString())) {
      return Optional.empty();
    }
    return Optional.of(version);
  }

  /** The model directory a file lies in by a version directory: models/m for models/m/1/x.onnx. */
  static Optional<Path> modelDirectoryOf(Path file) {
    return versionDirectoryOf(file).map(Path::getParent);
  }

  /** The repository a model file lies in: models/m/1/model.onnx is in models. */
  static Optional<Path> repositoryOf(Path file) {
    return Files.isRegularFile(file)
        ? modelDirectoryOf(file).map(Path::getParent)
        : Optional.empty();
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

  /**
   * The file as a backend loads it. A file in a version directory of a model directory that has a
   * config.yaml (models/m/1/model.pt) takes that config's declared signature and backend settings,
   * as the server would: a TorchScript file, which declares no signature of its own, needs them.
   */
  static ModelSource source(String name, Path file) {
    Optional<Path> version = versionDirectoryOf(file);
    long number = version.map(v -> Long.parseLong(v.getFileName().toString())).orElse(1L);
    Optional<Path> config =
        version.map(v -> v.getParent().resolve("config.yaml")).filter(Files::isRegularFile);
    if (config.isEmpty()) {
      return ModelSource.of(name, number, file);
    }
    ModelConfig read = ModelConfig.from(ConfigFiles.read(config.get()));
    return new ModelSource(
        name,
        number,
        file,
        read.declaredSignature(),
        new ModelParameters(read.parameters(), config.get().toString()));
  }
}
