package dev.hangar.cli;

import dev.hangar.core.ServerSettings;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.Durations;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.core.model.ModelNotFoundException;
import dev.hangar.core.model.ModelStatus;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code hangar inspect}: what a model file or a repository model is, and how it loads. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Load a model file or a repository model and print its format, signature, file size and load time.",
    footer = {
      "",
      "Examples:",
      "  hangar inspect models/quality_predictor/1/model.onnx",
      "  hangar inspect routing_classifier --repo models"
    })
final class InspectCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "FILE|MODEL",
      description = "A model file, or the name of a model in the repository.")
  String target;

  @Mixin RepositoryOptions repository;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Path file = Path.of(target);
    if (!Files.isRegularFile(file) && (target.contains("/") || Files.isDirectory(file))) {
      // a path: a model in the repository is named without one
      throw new UsageException(
          "'"
              + target
              + "' is not a model file: "
              + (Files.isDirectory(file) ? "it is a directory" : "no such file"));
    }
    // a model file needs no repository; a model's name does
    ServerSettings settings =
        Files.isRegularFile(file) ? repository.settings() : repository.repositorySettings();
    try (HangarRuntime hangar = HangarRuntime.create(settings, repository.plugins)) {
      if (Files.isRegularFile(file)) {
        spec.commandLine().getOut().print(inspectFile(hangar, file));
      } else {
        spec.commandLine().getOut().print(inspectModel(hangar.manager(), target));
      }
      return 0;
    }
  }

  private static String inspectFile(HangarRuntime hangar, Path file) {
    BackendProvider provider = hangar.providerFor(file);
    Backend backend = hangar.backends().backend(provider.format());
    String name = file.getFileName().toString();
    long start = System.nanoTime();
    try (LoadedModel model = backend.load(ModelFiles.source(name, file))) {
      Duration loadTime = Duration.ofNanos(System.nanoTime() - start);
      StringBuilder text = new StringBuilder();
      line(text, "file", file.toAbsolutePath().toString());
      line(text, "size", DataSize.format(size(file)));
      line(text, "format", provider.format() + " (" + backend.engineVersion() + ")");
      line(text, "load time", Durations.format(loadTime));
      line(text, "memory estimate", DataSize.format(model.memoryEstimateBytes()));
      signature(text, model.signature());
      return text.toString();
    }
  }

  private static String inspectModel(ModelManager manager, String name) {
    manager.start(false);
    List<ModelStatus> statuses = manager.status(name);
    ModelDefinition definition =
        manager
            .definition(name)
            .orElseThrow(
                () ->
                    new ModelNotFoundException(
                        "model '"
                            + name
                            + "' cannot be served: "
                            + statuses.get(0).reason().orElse("unknown problem")));
    StringBuilder text = new StringBuilder();
    line(text, "model", name);
    line(text, "location", definition.location().toString());
    line(text, "format", definition.format());
    line(
        text,
        "versions",
        definition.versions().stream()
            .map(v -> v.version() + " (" + DataSize.format(v.stamp().size()) + ")")
            .toList()
            .toString());
    line(text, "served", definition.servedVersions().toString());
    line(
        text,
        "config",
        definition.configStamp().size() < 0
            ? "none (defaults)"
            : definition.location().resolve("config.yaml").toString());
    try (ModelLease lease = manager.acquire(name, OptionalLong.empty()).join()) {
      ModelStatus status =
          manager.status(name).stream()
              .filter(s -> s.version() == lease.version().key().version())
              .findFirst()
              .orElseThrow();
      line(text, "loaded version", Long.toString(lease.version().key().version()));
      status.loadTime().ifPresent(t -> line(text, "load time", Durations.format(t)));
      status.warmupTime().ifPresent(t -> line(text, "warmup time", Durations.format(t)));
      line(text, "memory (measured)", DataSize.format(status.memoryBytes()));
      line(
          text,
          "max batch size",
          lease.version().maxBatchSize() == 0
              ? "no batching"
              : Integer.toString(lease.version().maxBatchSize()));
      signature(text, lease.version().signature());
    }
    return text.toString();
  }

  private static void signature(StringBuilder text, ModelSignature signature) {
    line(text, "batched", signature.batched() ? "yes (dimension 0)" : "no");
    for (TensorSpec input : signature.inputs()) {
      line(text, "input", input.name() + "  " + input.dataType() + " " + input.shapeString());
    }
    for (TensorSpec output : signature.outputs()) {
      line(text, "output", output.name() + "  " + output.dataType() + " " + output.shapeString());
    }
  }

  private static void line(StringBuilder text, String label, String value) {
    text.append(String.format("%-18s %s%n", label + ":", value));
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
