package dev.hangar.cli;

import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hangar infer}: runs one request and prints the outputs. */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description =
        "Run one inference request on a model of the repository and print the outputs as v2 JSON.",
    footer = {
      "",
      "Example:",
      "  hangar infer quality_predictor --repo models --input '{\"features\": [[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]]}'",
      "  hangar infer routing_classifier --input @request.json"
    })
final class InferCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "The model name.")
  String model;

  @Option(
      names = {"-i", "--input"},
      required = true,
      paramLabel = "JSON",
      description =
          "The inputs: {\"<input>\": <nested list>} or a v2 request {\"inputs\": [...]}; @file reads a file.")
  String input;

  @Option(
      names = "--version",
      paramLabel = "N",
      description = "The model version (default: the latest served).")
  Long version;

  @Option(names = "--output", paramLabel = "NAME", split = ",", description = "Only these outputs.")
  List<String> outputs = List.of();

  @Mixin RepositoryOptions repository;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try (HangarRuntime hangar = HangarRuntime.create(repository.settings(), repository.plugins)) {
      ModelManager manager = hangar.manager();
      manager.start(false);
      OptionalLong chosen = version == null ? OptionalLong.empty() : OptionalLong.of(version);
      ModelSignature signature;
      try (ModelLease lease = manager.acquire(model, chosen).join()) {
        signature = lease.version().signature();
      }
      List<Tensor> inputs = RequestInputs.parse(RequestInputs.text(input), signature);
      InferenceRequest request = InferenceRequest.of(model, inputs).withOutputs(outputs);
      if (version != null) {
        request = request.withVersion(version);
      }
      InferenceResponse response = hangar.inference().infer(request);
      spec.commandLine().getOut().println(JsonOutput.response(response));
      return 0;
    }
  }
}
