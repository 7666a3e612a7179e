package dev.hangar.cli;

import dev.hangar.core.config.DataSize;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.FormatConverter;
import dev.hangar.spi.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code hangar convert}: writes a model as a file of another format, such as CoreML as ONNX. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description =
        "Convert a model file to another format through its backend's converter; the target"
            + " format follows from the target file's extension. CoreML (.mlmodel) converts to ONNX.",
    footer = {
      "",
      "Example:",
      "  hangar convert models/quality_predictor_coreml/1/model.mlmodel /tmp/quality_predictor.onnx"
    })
final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SOURCE", description = "The model file to convert.")
  Path source;

  @Parameters(
      index = "1",
      paramLabel = "TARGET",
      description = "The file to write, such as model.onnx.")
  Path target;

  @Mixin RepositoryOptions repository;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (!Files.isRegularFile(source)) {
      throw new UsageException("no model file " + source);
    }
    try (HangarRuntime hangar = HangarRuntime.create(repository.settings(), repository.plugins)) {
      BackendProvider provider = hangar.providerFor(source);
      Backend backend = hangar.backends().backend(provider.format());
      FormatConverter converter =
          backend
              .capability(FormatConverter.class)
              .orElseThrow(
                  () ->
                      new UsageException(
                          "the " + provider.format() + " backend converts to no other format"));
      String extension = target.getFileName().toString().toLowerCase(Locale.ROOT);
      if (!extension.endsWith(converter.targetExtension())) {
        throw new UsageException(
            "the "
                + provider.format()
                + " backend writes "
                + converter.targetFormat()
                + " files ("
                + converter.targetExtension()
                + "); name the target accordingly");
      }
      String name = source.getFileName().toString().replaceFirst("\\.[^.]*$", "");
      long start = System.nanoTime();
      converter.convert(ModelSource.of(name, 1, source), target);
      spec.commandLine()
          .getOut()
          .printf(
              Locale.ROOT,
              "wrote %s (%s, %s) from %s (%s) in %.0f ms%n",
              target,
              converter.targetFormat(),
              DataSize.format(size(target)),
              source,
              provider.format(),
              (System.nanoTime() - start) / 1e6);
      return 0;
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
