package dev.hangar.core.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hangar.core.config.ConfigFiles;
import dev.hangar.core.config.DataSize;
import dev.hangar.core.config.WarmupConfig;
import dev.hangar.core.time.TimeSource;
import dev.hangar.core.v2.V2Json;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Runs a freshly loaded model before it serves, so that the first requests do not pay for lazy
 * initialization, memory arenas growing or a JIT engine profiling: synthetic inputs at batch size 1
 * and the maximum batch size (or the configured sizes), plus any sample request files.
 */
final class Warmup {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The largest sample file read: the HTTP adapter's default request body limit. */
  static final long MAX_SAMPLE_BYTES = 64L << 20;

  private final TimeSource time;

  Warmup(TimeSource time) {
    this.time = time;
  }

  /**
   * Warms the model up and returns the duration of each inference.
   *
   * @param stopped whether shutdown has begun, asked before each inference
   * @throws HangarException when an inference or a sample file fails
   * @throws ModelUnavailableException when shutdown begins before the last inference
   */
  List<Duration> run(
      LoadedModel model,
      ModelSignature signature,
      int maxBatchSize,
      WarmupConfig config,
      Path modelDirectory,
      BooleanSupplier stopped) {
    if (!config.enabled()) {
      return List.of();
    }
    List<Request> requests = new ArrayList<>();
    Random random = new Random(42);
    for (int batchSize : batchSizes(signature, maxBatchSize, config)) {
      List<Tensor> inputs =
          SyntheticInputs.of(signature, batchSize, config.freeDimensionSize(), random);
      requests.add(new Request("synthetic inputs " + shapes(inputs), inputs, batchSize, true));
    }
    for (String sample : config.samples()) {
      requests.add(
          new Request(
              "sample " + sample,
              readSample(modelDirectory, sample, signature, maxBatchSize),
              0,
              false));
    }
    List<Duration> durations = new ArrayList<>();
    int runs = requests.size() * config.iterations();
    for (Request request : requests) {
      for (int i = 0; i < config.iterations(); i++) {
        if (stopped.getAsBoolean()) {
          // a large model's warmup can outlast the drain timeout: shutdown must not wait for it
          throw new ModelUnavailableException(
              "the server is shutting down: warmup stopped after "
                  + durations.size()
                  + " of "
                  + runs
                  + " runs");
        }
        long start = time.nanoTime();
        List<Tensor> outputs;
        try {
          outputs = model.infer(request.inputs());
        } catch (RuntimeException e) {
          throw failed(request, e);
        }
        if (signature.batched() && request.synthetic()) {
          checkRows(request, outputs);
        }
        durations.add(Duration.ofNanos(time.nanoTime() - start));
      }
    }
    return durations;
  }

  /** One warmup request, its rows when synthetic, and what to call it in a failure. */
  private record Request(String what, List<Tensor> inputs, int rows, boolean synthetic) {}

  /**
   * Refuses a batched model whose outputs do not have a row per input row: batches of several
   * requests could not be split back, and would fail under load rather than here.
   */
  private static void checkRows(Request request, List<Tensor> outputs) {
    for (Tensor output : outputs) {
      if (output.rank() == 0 || output.dimension(0) != request.rows()) {
        throw new HangarException(
            ErrorCategory.USER_ERROR,
            "warmup with "
                + request.what()
                + " returned output '"
                + output.name()
                + "' of shape "
                + java.util.Arrays.toString(output.shape())
                + ", not "
                + request.rows()
                + " rows: dimension 0 is not a batch dimension here, so requests cannot be"
                + " batched; set max_batch_size: 0 in config.yaml");
      }
    }
  }

  /**
   * A warmup inference's failure, saying which inputs failed and, for synthetic ones, what to set.
   */
  private static HangarException failed(Request request, RuntimeException e) {
    ErrorCategory category =
        e instanceof HangarException hangar ? hangar.category() : ErrorCategory.BACKEND_FAILURE;
    return new HangarException(
        category,
        "warmup with "
            + request.what()
            + " failed: "
            + (e instanceof HangarException ? e.getMessage() : e.toString())
            + (request.synthetic()
                ? "; should the model need other sizes, set warmup.free_dimension_size or"
                    + " warmup.batch_sizes in config.yaml, or give warmup.samples"
                : ""),
        e);
  }

  private static String shapes(List<Tensor> inputs) {
    List<String> shapes = new ArrayList<>();
    for (Tensor input : inputs) {
      shapes.add(input.name() + " " + java.util.Arrays.toString(input.shape()));
    }
    return String.join(", ", shapes);
  }

  private static Set<Integer> batchSizes(
      ModelSignature signature, int maxBatchSize, WarmupConfig config) {
    if (!signature.batched()) {
      return Set.of(1);
    }
    if (!config.batchSizes().isEmpty()) {
      Set<Integer> sizes = new LinkedHashSet<>();
      for (int size : config.batchSizes()) {
        sizes.add(Math.min(size, Math.max(1, maxBatchSize)));
      }
      return sizes;
    }
    Set<Integer> sizes = new LinkedHashSet<>();
    sizes.add(1);
    sizes.add(Math.max(1, maxBatchSize));
    return sizes;
  }

  /**
   * Reads a sample request file and checks it as a request to the model would be checked: a sample
   * that requests could not send (an unknown output, more rows than max_batch_size) warms up what
   * will never be served.
   */
  private static List<Tensor> readSample(
      Path modelDirectory, String sample, ModelSignature signature, int maxBatchSize) {
    Path file = modelDirectory.resolve(sample).normalize();
    if (!file.startsWith(modelDirectory)) {
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          "warmup sample " + sample + " lies outside the model directory " + modelDirectory);
    }
    JsonNode root;
    try {
      root = JSON.readTree(readBounded(file));
    } catch (JsonProcessingException e) {
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          "warmup sample " + file + ConfigFiles.parseProblem(e) + "; fix the JSON",
          e);
    } catch (IOException e) {
      throw new HangarException(
          ErrorCategory.USER_ERROR, "cannot read warmup sample " + file + ": " + e.getMessage(), e);
    }
    JsonNode inputs = root == null ? null : root.get("inputs");
    if (inputs == null || !inputs.isArray()) {
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          "warmup sample " + file + " needs an \"inputs\" list, as in a v2 inference request");
    }
    List<Tensor> tensors = new ArrayList<>();
    for (JsonNode input : inputs) {
      tensors.add(V2Json.readTensor(input));
    }
    for (JsonNode output : root.path("outputs")) {
      String name = output.path("name").asText();
      if (signature.output(name).isEmpty()) {
        throw new HangarException(
            ErrorCategory.USER_ERROR,
            "warmup sample "
                + file
                + " asks for output '"
                + name
                + "', which the model does not have; its outputs are "
                + signature.outputs().stream().map(TensorSpec::name).toList());
      }
    }
    long rows =
        signature.batched() && !tensors.isEmpty() && tensors.get(0).rank() > 0
            ? tensors.get(0).dimension(0)
            : 0;
    if (rows > maxBatchSize) {
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          "warmup sample "
              + file
              + " has "
              + rows
              + " rows, more than the model's max_batch_size "
              + maxBatchSize
              + " lets a request send");
    }
    return tensors;
  }

  /**
   * Reads a sample file whole, refusing one larger than {@link #MAX_SAMPLE_BYTES} before reading
   * it: a huge file would end the process with an OutOfMemoryError naming no file.
   */
  private static byte[] readBounded(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new HangarException(
          ErrorCategory.USER_ERROR,
          "warmup sample "
              + file
              + (Files.exists(file)
                  ? " is not a regular file; make it a JSON file"
                  : " does not exist; fix warmup.samples in config.yaml"));
    }
    return ConfigFiles.readAtMost(
        file,
        MAX_SAMPLE_BYTES,
        size ->
            new HangarException(
                ErrorCategory.USER_ERROR,
                "warmup sample "
                    + file
                    + " is "
                    + DataSize.format(size)
                    + ", more than the "
                    + DataSize.format(MAX_SAMPLE_BYTES)
                    + " a sample may be (a request body's default limit); give a smaller"
                    + " request"));
  }
}
