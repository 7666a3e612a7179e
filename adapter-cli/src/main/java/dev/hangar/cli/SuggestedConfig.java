package dev.hangar.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.hangar.core.config.ConfigFiles;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.repository.ModelDefinition;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.OptimizationOptions;
import dev.hangar.spi.OptimizationOptions.Granularity;
import dev.hangar.spi.OptimizationReport;
import dev.hangar.spi.TuningReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code config.yaml} {@code hangar optimize} suggests: the model's own config (comments are
 * not kept) with the {@code optimization:} block, parameters and maximum batch size the reports
 * chose. Checked by parsing it back as a model config.
 */
final class SuggestedConfig {
  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .build());

  private SuggestedConfig() {}

  static String yaml(
      Optional<ModelDefinition> definition,
      Optional<OptimizationReport> report,
      Optional<TuningReport> tuning) {
    ObjectNode root = existing(definition);
    String note = "";
    if (report.isPresent()) {
      Optional<OptimizationOptions> kept = report.get().suggestedOptimization();
      if (kept.isPresent()) {
        root.set("optimization", optimization(kept.get()));
      } else if (root.remove("optimization") != null) {
        // the report kept the original: an optimization: block left in would serve what it refused
        note = "# the model's optimization: block is left out: the original was kept\n";
      }
    }
    report.ifPresent(r -> parameters(root, r.suggestedParameters()));
    tuning.ifPresent(
        t -> {
          if (t.suggestedMaxBatchSize() > 0) {
            root.put("max_batch_size", t.suggestedMaxBatchSize());
          }
          parameters(root, t.suggestedParameters());
        });
    String text;
    try {
      text = root.isEmpty() ? "" : YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    String header =
        "# suggested by hangar optimize"
            + definition.map(d -> " for model '" + d.name() + "'").orElse("")
            + "\n"
            + note;
    String suggested = header + text;
    // a suggestion that would not load is a bug here, not the user's problem
    ModelConfig.from(ConfigFiles.parse("suggested config.yaml", suggested));
    return suggested;
  }

  private static ObjectNode existing(Optional<ModelDefinition> definition) {
    if (definition.isEmpty() || definition.get().isBareFile()) {
      return JsonNodeFactory.instance.objectNode();
    }
    Path file = definition.get().location().resolve("config.yaml");
    if (!Files.isRegularFile(file)) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode tree = YAML.readTree(file.toFile());
      return tree instanceof ObjectNode object ? object : JsonNodeFactory.instance.objectNode();
    } catch (IOException e) {
      throw new HangarException(
          ErrorCategory.USER_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static ObjectNode optimization(OptimizationOptions options) {
    ObjectNode block = JsonNodeFactory.instance.objectNode();
    block.put("level", options.level().configName());
    block.put("int8", options.int8());
    if (options.int8()) {
      block.put("int8_tolerance", options.int8Tolerance());
      block.put("per_channel", options.granularity() == Granularity.PER_CHANNEL);
    }
    return block;
  }

  private static void parameters(ObjectNode root, Map<String, String> values) {
    if (values.isEmpty()) {
      return;
    }
    JsonNode current = root.get("parameters");
    ObjectNode parameters =
        current instanceof ObjectNode object ? object : root.putObject("parameters");
    values.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(entry -> parameters.set(entry.getKey(), typed(entry.getValue())));
  }

  /** Writes numbers and booleans as such, so that the YAML reads naturally. */
  private static JsonNode typed(String value) {
    if (value.matches("-?\\d{1,18}")) {
      return JsonNodeFactory.instance.numberNode(Long.parseLong(value));
    }
    if (value.equals("true") || value.equals("false")) {
      return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(value));
    }
    return JsonNodeFactory.instance.textNode(value);
  }
}
