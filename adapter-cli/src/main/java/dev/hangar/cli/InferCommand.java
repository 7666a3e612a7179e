package dev.hangar.cli;

import dev.hangar.cli.remote.V2Client;
import dev.hangar.cli.remote.V2Codec;
import dev.hangar.cli.remote.V2Codec.Protocol;
import dev.hangar.core.inference.InferenceRequest;
import dev.hangar.core.inference.InferenceResponse;
import dev.hangar.core.model.ModelLease;
import dev.hangar.core.model.ModelManager;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        "Run one inference request on a model of the repository, or of a running server (--url),"
            + " and print the outputs as v2 JSON.",
    footer = {
      "",
      "Examples:",
      "  hangar infer quality_predictor --repo models \\",
      "      --input '{\"features\": [[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]]}'",
      "  hangar infer routing_classifier --input @request.json",
      "  hangar infer quality_predictor --url http://127.0.0.1:8000 \\",
      "      --input-npy features=features.npy --protocol binary"
    })
final class InferCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "The model name.")
  String model;

  @Option(
      names = {"-i", "--input"},
      paramLabel = "JSON",
      description =
          "The inputs: {\"<input>\": <nested list>} or a v2 request {\"inputs\": [...]}; @file reads a file.")
  String input;

  @Option(
      names = "--input-npy",
      paramLabel = "INPUT=FILE",
      description =
          "An input from a NumPy .npy file (format 1.0 to 3.0, C order; bool, integer, float and"
              + " byte-string types); repeat for several inputs. Combines with --input.")
  List<String> npyInputs = new ArrayList<>();

  @Option(
      names = "--model-version",
      paramLabel = "N",
      description = "The model version (default: the one served by default).")
  Long version;

  @Option(names = "--output", paramLabel = "NAME", split = ",", description = "Only these outputs.")
  List<String> outputs = List.of();

  @Option(
      names = "--protocol",
      paramLabel = "json|binary",
      completionCandidates = CompletionCandidates.Protocols.class,
      description = "With --url: send tensors as JSON or as binary data (default: json).")
  Protocol protocol;

  @Mixin RemoteOptions remote;

  @Mixin RepositoryOptions repository;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    remote.checkExclusive(spec);
    if (input == null && npyInputs.isEmpty()) {
      throw new UsageException("give the inputs with --input or --input-npy");
    }
    Map<String, Path> npyFiles = npyFiles();
    VersionOption.check(version);
    if (protocol != null && !remote.isRemote()) {
      throw new UsageException("--protocol applies with --url; in process there is no protocol");
    }
    OptionalLong chosen = version == null ? OptionalLong.empty() : OptionalLong.of(version);
    InferenceResponse response;
    if (remote.isRemote()) {
      try (V2Client client = remote.client()) {
        ModelSignature signature = client.model(model, chosen).signature();
        List<Tensor> inputs =
            UsageException.forRefusedInputs(
                () -> RequestInputs.collect(input, npyFiles, signature));
        response =
            UsageException.forRefusedInputs(
                () ->
                    client.infer(
                        model,
                        chosen,
                        V2Codec.encode(
                            inputs, outputs, protocol == null ? Protocol.JSON : protocol)));
      }
    } else {
      try (HangarRuntime hangar =
          HangarRuntime.create(repository.repositorySettings(), repository.plugins)) {
        ModelManager manager = hangar.manager();
        manager.start(false);
        ModelSignature signature;
        try (ModelLease lease = manager.acquire(model, chosen).join()) {
          signature = lease.version().signature();
        }
        List<Tensor> inputs =
            UsageException.forRefusedInputs(
                () -> RequestInputs.collect(input, npyFiles, signature));
        InferenceRequest request = InferenceRequest.of(model, inputs).withOutputs(outputs);
        InferenceRequest versioned = version == null ? request : request.withVersion(version);
        response = UsageException.forRefusedInputs(() -> hangar.inference().infer(versioned));
      }
    }
    spec.commandLine().getOut().println(JsonOutput.response(response));
    return 0;
  }

  /** The files of {@code --input-npy} by input name; an input named twice is a usage error. */
  private Map<String, Path> npyFiles() {
    Map<String, Path> files = new LinkedHashMap<>();
    for (String value : npyInputs) {
      int equals = value.indexOf('=');
      if (equals <= 0 || equals == value.length() - 1) {
        throw new UsageException("--input-npy takes INPUT=FILE, got '" + value + "'");
      }
      String name = value.substring(0, equals);
      if (files.put(name, Path.of(value.substring(equals + 1))) != null) {
        throw new UsageException(
            "--input-npy gives input '" + name + "' twice; give each input once");
      }
    }
    return files;
  }
}
