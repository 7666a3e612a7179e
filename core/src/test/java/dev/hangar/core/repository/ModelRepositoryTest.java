package dev.hangar.core.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.ConfigurationException;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.HangarException;
import dev.hangar.testkit.fake.FakeBackendProvider;
import dev.hangar.testkit.fake.FakeEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
  @TempDir Path root;
  private BackendRegistry backends;
  private ModelRepository repository;

  @BeforeEach
  void setUp() {
    backends =
        new BackendRegistry(
            List.of(new FakeBackendProvider(new FakeEngine())),
            new BackendContext(root.resolve(".cache")));
    repository = new ModelRepository(root, backends);
  }

  private Path model(String relative) throws IOException {
    return FakeBackendProvider.write(root.resolve(relative), "x=FP32 -1,4", "y=FP32 -1,4", 1);
  }

  private Map<String, RepositoryEntry> scan() {
    return repository.scan().stream()
        .collect(Collectors.toMap(RepositoryEntry::name, Function.identity()));
  }

  @Test
  void findsVersionDirectoriesAndBareFiles() throws IOException {
    model("alpha/1/model.fake");
    model("alpha/3/model.fake");
    model("beta.fake");
    Files.writeString(root.resolve("README.md"), "not a model");
    Files.createDirectories(root.resolve("docs"));
    Files.writeString(root.resolve("docs/notes.txt"), "not a model either");
    model(".hidden/1/model.fake");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries).containsOnlyKeys("alpha", "beta");
    ModelDefinition alpha = entries.get("alpha").definition().orElseThrow();
    assertThat(alpha.format()).isEqualTo("fake");
    assertThat(alpha.versions()).extracting(ModelVersionFile::version).containsExactly(1L, 3L);
    assertThat(alpha.servedVersions()).containsExactly(3L);
    ModelDefinition beta = entries.get("beta").definition().orElseThrow();
    assertThat(beta.isBareFile()).isTrue();
    assertThat(beta.versions()).extracting(ModelVersionFile::version).containsExactly(1L);
    assertThat(beta.directory()).isEqualTo(root);
  }

  @Test
  void aBrokenModelIsReportedAloneAndTheOthersStillServe() throws IOException {
    model("good/1/model.fake");
    model("typo/1/model.fake");
    Files.writeString(root.resolve("typo/config.yaml"), "max_batch: 4\n");
    Files.createDirectories(root.resolve("empty/1"));
    model("twofiles/1/a.fake");
    model("twofiles/1/b.fake");
    // Triton's default file name decides, as when default_model_filename is not set
    model("withdefault/1/model.fake");
    model("withdefault/1/model-old.fake");
    Files.writeString(root.resolve("noversion.yaml"), "");
    Files.createDirectories(root.resolve("noversions"));
    Files.writeString(root.resolve("noversions/config.yaml"), "");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("good").definition()).isPresent();
    assertThat(entries.get("typo").problem().orElseThrow())
        .hasMessageContaining(root.resolve("typo/config.yaml").toString())
        .hasMessageContaining("unknown key 'max_batch'")
        .hasMessageContaining("did you mean 'max_batch_size'");
    assertThat(entries.get("empty").problem().orElseThrow())
        .hasMessageContaining("holds no model file")
        .hasMessageContaining(".fake");
    assertThat(entries.get("withdefault").definition().orElseThrow().versions().get(0).file())
        .isEqualTo(root.resolve("withdefault/1/model.fake"));
    assertThat(entries.get("twofiles").problem().orElseThrow())
        .hasMessageContaining("several model files")
        .hasMessageContaining("default_model_filename");
    assertThat(entries.get("noversions").problem().orElseThrow())
        .hasMessageContaining("has no version directory");
  }

  @Test
  void aVersionThePolicyDoesNotServeCannotBreakTheOthers() throws IOException {
    Files.createDirectories(root.resolve("emptied/1"));
    model("emptied/2/model.fake");
    model("crowded/1/a.fake");
    model("crowded/1/b.fake");
    model("crowded/2/model.fake");
    model("newest/1/model.fake");
    Files.createDirectories(root.resolve("newest/2"));

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("emptied").definition().orElseThrow().servedVersions())
        .containsExactly(2L);
    assertThat(entries.get("crowded").definition().orElseThrow().servedVersions())
        .containsExactly(2L);
    assertThat(entries.get("newest").problem().orElseThrow())
        .as("a version the policy serves must hold its file")
        .hasMessageContaining(root.resolve("newest/2") + " holds no model file");
  }

  @Test
  void versionsASpecificPolicyNamesWithoutADirectoryAreKnown() throws IOException {
    model("pinned/1/model.fake");
    Files.writeString(root.resolve("pinned/config.yaml"), "version_policy: {specific: [1, 7]}\n");
    model("latest/1/model.fake");

    Map<String, RepositoryEntry> entries = scan();

    ModelDefinition pinned = entries.get("pinned").definition().orElseThrow();
    assertThat(pinned.missingSpecificVersions()).containsExactly(7L);
    assertThat(pinned.servedVersions()).containsExactly(1L);
    assertThat(entries.get("latest").definition().orElseThrow().missingSpecificVersions())
        .isEmpty();
  }

  @Test
  void aDirectoryHoldingAModelFileButNotNamedAsAVersionIsReportedWithTheNameToUse()
      throws IOException {
    model("zero/0/model.fake");
    model("padded/01/model.fake");
    model("lettered/v2/model.fake");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries).containsOnlyKeys("zero", "padded", "lettered");
    assertThat(entries.get("zero").problem().orElseThrow())
        .hasMessage(
            "model 'zero' in "
                + root.resolve("zero")
                + " has no version directory; '0' holds a model file but is not a version"
                + " (versions are whole numbers from 1, without leading zeros); rename it to 1");
    assertThat(entries.get("padded").problem().orElseThrow())
        .hasMessageEndingWith(
            "'01' holds a model file but is not a version (versions are whole"
                + " numbers from 1, without leading zeros); rename it to 1");
    assertThat(entries.get("lettered").problem().orElseThrow())
        .hasMessageEndingWith("rename it to 2");
  }

  @Test
  void directoriesNotNamedAsVersionsBesideVersionsAreNamedInTheDefinition() throws IOException {
    model("beside/1/model.fake");
    model("beside/02/model.fake");
    model("beside/0/model.fake");
    Files.createDirectories(root.resolve("beside/notes"));

    ModelDefinition beside = scan().get("beside").definition().orElseThrow();

    assertThat(beside.servedVersions()).containsExactly(1L);
    assertThat(beside.misnamedVersions()).containsExactly("0", "02");
  }

  @Test
  void aModelFileOutsideAVersionDirectoryIsReportedWithWhereItGoes() throws IOException {
    model("stray/model.fake");
    Files.writeString(root.resolve("stray/notes.txt"), "not a model");
    model("configured/model.fake");
    Files.writeString(root.resolve("configured/config.yaml"), "");
    // a directory of other files is still no model, and is ignored
    Files.createDirectories(root.resolve("scripts"));
    Files.writeString(root.resolve("scripts/run.sh"), "echo");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries).containsOnlyKeys("stray", "configured");
    assertThat(entries.get("stray").problem().orElseThrow())
        .hasMessage(
            "model 'stray' in "
                + root.resolve("stray")
                + " has no version directory; move model.fake to "
                + root.resolve("stray/1/model.fake"));
    assertThat(entries.get("configured").problem().orElseThrow())
        .hasMessageEndingWith(
            "has no version directory; move model.fake to "
                + root.resolve("configured/1/model.fake"));
  }

  @Test
  void checksBackendParametersAndFormats() throws IOException {
    model("a/1/model.fake");
    Files.writeString(root.resolve("a/config.yaml"), "parameters: {sped: 3}\n");
    model("b/1/model.fake");
    Files.writeString(root.resolve("b/config.yaml"), "backend: onnx\n");
    model("c/1/model.fake");
    Files.writeString(
        root.resolve("c/config.yaml"), "parameters: {speed: 3}\nversion_policy: {specific: [2]}\n");
    model("d/2/model.fake");
    Files.writeString(root.resolve("d/config.yaml"), "parameters: {speed: 3}\nbackend: fake\n");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("a").problem().orElseThrow())
        .hasMessageContaining("unknown key 'parameters.sped' for the fake backend")
        .hasMessageContaining("did you mean 'speed'");
    assertThat(entries.get("b").problem().orElseThrow())
        .hasMessageContaining("'backend' names 'onnx'")
        .hasMessageContaining("[fake]");
    assertThat(entries.get("c").problem().orElseThrow())
        .hasMessageContaining("serves none of the versions on disk [1]");
    assertThat(entries.get("d").definition().orElseThrow().config().parameters())
        .containsEntry("speed", "3");
  }

  @Test
  void aNameUsedTwiceIsReported() throws IOException {
    model("same/1/model.fake");
    model("same.fake");
    assertThat(scan().get("same").problem().orElseThrow()).hasMessageContaining("used twice");
  }

  @Test
  void namesNeverEscapeTheRepository() {
    assertThat(ModelRepository.isValidName("quality_predictor")).isTrue();
    assertThat(ModelRepository.isValidName("model-2.1")).isTrue();
    assertThat(ModelRepository.isValidName("..")).isFalse();
    assertThat(ModelRepository.isValidName("../etc")).isFalse();
    assertThat(ModelRepository.isValidName("a/b")).isFalse();
    assertThat(ModelRepository.isValidName(".hidden")).isFalse();
    assertThat(ModelRepository.isValidName("a..b")).isFalse();
    assertThat(repository.scan("../etc")).isEmpty();
  }

  @Test
  void aNameIsOneTo128AsciiLettersDigitsUnderscoresDotsAndDashesStartingAlphanumeric() {
    assertThat(ModelRepository.isValidName("a")).isTrue();
    assertThat(ModelRepository.isValidName("7_up.v2-final")).isTrue();
    assertThat(ModelRepository.isValidName("x".repeat(128))).isTrue();
    assertThat(ModelRepository.isValidName("x".repeat(129))).isFalse();
    assertThat(ModelRepository.isValidName("")).isFalse();
    assertThat(ModelRepository.isValidName(null)).isFalse();
    assertThat(ModelRepository.isValidName("_a")).isFalse();
    assertThat(ModelRepository.isValidName("-a")).isFalse();
    assertThat(ModelRepository.isValidName("a.")).isTrue();
    assertThat(ModelRepository.isValidName("a b")).isFalse();
    assertThat(ModelRepository.isValidName("a\\b")).isFalse();
    assertThat(ModelRepository.isValidName("caf\u00e9")).isFalse();
    assertThat(ModelRepository.isValidName("a%2Fb")).isFalse();
  }

  @Test
  void aMissingRootIsAClearError() {
    ModelRepository missing = new ModelRepository(root.resolve("nope"), backends);
    assertThatThrownBy(missing::scan)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("is not a directory");
  }

  @Test
  void twoProvidersOfOneFormatAreRefused() {
    assertThatThrownBy(
            () ->
                new BackendRegistry(
                    List.of(
                        new FakeBackendProvider(new FakeEngine()),
                        new FakeBackendProvider(new FakeEngine())),
                    new BackendContext(root)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("two backends claim format 'fake'");
  }

  @Test
  void problemsAreHangarExceptionsOfTheUserErrorCategory() throws IOException {
    model("typo/1/model.fake");
    Files.writeString(root.resolve("typo/config.yaml"), "pinned: sometimes\n");
    HangarException problem = scan().get("typo").problem().orElseThrow();
    assertThat(problem.category()).isEqualTo(dev.hangar.spi.ErrorCategory.USER_ERROR);
  }

  @Test
  void aConfigLargerThanOneMegabyteIsThatModelsProblemAloneAndIsNotRead() throws IOException {
    model("huge/1/model.fake");
    model("fine/1/model.fake");
    Path config = root.resolve("huge/config.yaml");
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(config.toFile(), "rw")) {
      // sparse: the size is what is refused, before a byte is read
      file.setLength(60_000_000);
    }

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("huge").problem().orElseThrow())
        .isInstanceOf(ConfigurationException.class)
        .hasMessage(
            config
                + ": config.yaml is 57.2MB, more than the 1.0MB a config may be; is it the right"
                + " file?");
    assertThat(entries.get("fine").definition()).isPresent();
  }

  @Test
  void aConfigThatIsNotAFileIsAProblemNotAModelWithDefaults() throws IOException {
    model("directory/1/model.fake");
    Files.createDirectories(root.resolve("directory/config.yaml"));
    model("dangling/1/model.fake");
    Files.createSymbolicLink(root.resolve("dangling/config.yaml"), Path.of("shared/config.yaml"));
    model("linked/1/model.fake");
    Files.writeString(root.resolve("linked/shared.yaml"), "max_batch_size: 4\n");
    Files.createSymbolicLink(root.resolve("linked/config.yaml"), Path.of("shared.yaml"));
    Files.createDirectories(root.resolve("onlyaconfig/config.yaml"));

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("directory").problem().orElseThrow())
        .hasMessage(
            root.resolve("directory/config.yaml")
                + ": config.yaml is a directory, not a file; put the model's settings in a"
                + " config.yaml file");
    assertThat(entries.get("dangling").problem().orElseThrow())
        .hasMessage(
            root.resolve("dangling/config.yaml")
                + ": config.yaml is a broken link to shared/config.yaml; point it at a file or"
                + " delete it");
    assertThat(entries.get("linked").definition().orElseThrow().config().maxBatchSize())
        .as("a link to a file is read")
        .contains(4);
    assertThat(entries.get("onlyaconfig").problem().orElseThrow())
        .hasMessageContaining("config.yaml is a directory");
  }

  @Test
  void aConfigThatIsAPipeIsAProblemAndIsNotOpened() throws Exception {
    model("piped/1/model.fake");
    Path fifo = root.resolve("piped/config.yaml");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo is available");

    // opening a pipe nobody writes to would block the scan forever
    assertThat(scan().get("piped").problem().orElseThrow())
        .hasMessage(
            fifo
                + ": config.yaml is not a regular file (a pipe, socket or device); make it a plain"
                + " file");
  }

  @Test
  void aConfigUnderAnotherNameIsAProblemNamingTheRename() throws IOException {
    model("yml/1/model.fake");
    Files.writeString(root.resolve("yml/config.yml"), "max_batch_size: 4\n");
    model("upper/1/model.fake");
    Files.writeString(root.resolve("upper/config.YAML"), "max_batch_size: 4\n");
    model("both/1/model.fake");
    Files.writeString(root.resolve("both/config.yaml"), "max_batch_size: 4\n");
    Files.writeString(root.resolve("both/config.yml"), "pinned: true\n");
    org.junit.jupiter.api.Assumptions.assumeFalse(
        Files.exists(root.resolve("upper/config.yaml")), "a case-sensitive file system");

    Map<String, RepositoryEntry> entries = scan();

    assertThat(entries.get("yml").problem().orElseThrow())
        .hasMessage(
            root.resolve("yml/config.yml")
                + ": config.yml is not read; rename config.yml to config.yaml");
    assertThat(entries.get("upper").problem().orElseThrow())
        .hasMessageEndingWith("config.YAML is not read; rename config.YAML to config.yaml");
    assertThat(entries.get("both").problem().orElseThrow())
        .hasMessage(
            root.resolve("both/config.yml")
                + ": config.yml is not read beside config.yaml; merge it into config.yaml and"
                + " delete config.yml");
  }
}
