package dev.hangar.testkit;

import static dev.hangar.testkit.TensorAssertions.assertTensorIdentical;
import static dev.hangar.testkit.TensorAssertions.assertTensorsClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.spi.Backend;
import dev.hangar.spi.BackendContext;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.DataType;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import dev.hangar.spi.InvalidInputException;
import dev.hangar.spi.LoadedModel;
import dev.hangar.spi.ModelClosedException;
import dev.hangar.spi.ModelLoadException;
import dev.hangar.spi.ModelParameters;
import dev.hangar.spi.ModelSignature;
import dev.hangar.spi.ModelSource;
import dev.hangar.spi.Tensor;
import dev.hangar.spi.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every Hangar backend passes. A backend's test suite extends this class, supplies its
 * provider and fixture models, and declares what it supports; for every behaviour it does not
 * support, the contract asserts the exact failure instead.
 *
 * <p>The contract covers: exactly one provider in the backend jar, found through {@link
 * ServiceLoader}; native code left unloaded by constructing the provider and backend; loading and
 * the reported signature; batch-1 and batch-N outputs equal to reference outputs; a bit-exact round
 * trip of every declared datatype; eight threads inferring at once with identical results; {@code
 * close()} and a later {@code infer}; empty, truncated and corrupt files; missing inputs, wrong
 * datatypes and wrong shapes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContract {
  private static final int THREADS = 8;

  @TempDir private Path workDirectory;

  private Backend backend;

  /** Returns the provider under test, constructed the way {@link ServiceLoader} would. */
  protected abstract BackendProvider provider();

  /** Returns the model the contract loads and checks outputs on. */
  protected abstract ReferenceModel referenceModel();

  /**
   * Returns a model with one input {@code input} and one output {@code output} of the given type
   * and shape {@code [-1, 3]}, whose output equals its input. For a type the backend does not
   * support, return the model a user would write for it, whose load must then fail.
   *
   * @param directory a fresh directory the backend author may write the model into
   */
  protected abstract ModelSource echoModel(DataType type, Path directory) throws IOException;

  /** Returns the datatypes the backend serves. The contract expects every other one refused. */
  protected abstract Set<DataType> supportedDataTypes();

  /**
   * Returns whether the reference model is batched (free dimension 0 on every tensor) so that
   * batch-N requests work; when false, the contract expects an unbatched signature.
   */
  protected abstract boolean supportsDynamicBatch();

  /**
   * Returns whether BYTES elements may be any bytes. When false, the backend carries UTF-8 text
   * only, and the contract expects invalid UTF-8 to be refused as an invalid input.
   */
  protected boolean supportsArbitraryBytes() {
    return true;
  }

  /**
   * Returns the file names of the backend's native libraries (such as {@code libonnxruntime.so}),
   * which constructing the provider and creating a backend must not load. Empty for a backend
   * without native code.
   */
  protected abstract List<String> nativeLibraryFileNames();

  /**
   * A parameter of the backend's {@code parameters:} with a value of the wrong form (a level that
   * does not exist, a negative thread count): a load with it must fail as the user's mistake.
   */
  protected abstract Map.Entry<String, String> wrongParameter();

  /** Returns the context backends are created with; the default caches under the build. */
  protected BackendContext backendContext() {
    String configured = System.getProperty("hangar.cache.dir");
    Path cache =
        configured != null
            ? Path.of(configured)
            : Path.of(System.getProperty("java.io.tmpdir"), "hangar-test-cache");
    return new BackendContext(cache);
  }

  /** Returns the backend shared by the contract's tests. */
  protected final Backend backend() {
    return backend;
  }

  @BeforeAll
  final void createBackend() {
    backend = provider().create(backendContext());
  }

  @AfterAll
  final void closeBackend() {
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  public void exactlyOneProviderIsFoundThroughServiceLoader() {
    Class<?> type = provider().getClass();
    var codeSource = type.getProtectionDomain().getCodeSource();
    List<BackendProvider> all = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, type.getClassLoader()).forEach(all::add);
    List<BackendProvider> fromThisJar =
        all.stream()
            .filter(
                p -> sameLocation(p.getClass().getProtectionDomain().getCodeSource(), codeSource))
            .toList();
    assertThat(fromThisJar)
        .as("providers listed in META-INF/services of " + codeSource.getLocation())
        .hasSize(1);
    assertThat(fromThisJar.get(0)).isExactlyInstanceOf(type);
    assertThat(all.stream().filter(p -> p.format().equals(provider().format())))
        .as("providers of format '" + provider().format() + "' on the class path")
        .hasSize(1);
    assertThat(provider().format()).matches("[a-z][a-z0-9_-]*");
    assertThat(provider().fileExtensions()).isNotEmpty().allMatch(e -> e.startsWith("."));
  }

  @Test
  public void constructingTheProviderAndBackendLoadsNoNativeCode() throws Exception {
    List<String> libraries = nativeLibraryFileNames();
    if (libraries.isEmpty()) {
      assertThat(provider().create(backendContext())).isNotNull();
      return;
    }
    // a fresh JVM, since this one may have loaded the libraries already for other tests
    Path report = workDirectory.resolve("native-probe.txt");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp",
            System.getProperty("java.class.path"),
            NativeLoadProbe.class.getName(),
            provider().getClass().getName(),
            backendContext().cacheDirectory().toString(),
            report.toString());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("probe output: " + output).isZero();
    String mapped = Files.readString(report);
    for (String library : libraries) {
      assertThat(mapped).as("memory maps after constructing the provider").doesNotContain(library);
    }
  }

  @Test
  public void loadsAndReportsTheSignature() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      assertThat(model.signature()).isEqualTo(reference.expectedSignature());
      assertThat(model.signature().batched()).isEqualTo(supportsDynamicBatch());
      assertThat(model.memoryEstimateBytes()).isPositive();
    }
  }

  @Test
  public void aParameterOfTheWrongFormFailsTheLoadAsTheUsersMistakeNamingIt() {
    ModelSource source = referenceModel().source();
    Map.Entry<String, String> wrong = wrongParameter();
    ModelSource withWrong =
        new ModelSource(
            source.name(),
            source.version(),
            source.file(),
            source.declaredSignature(),
            new ModelParameters(Map.of(wrong.getKey(), wrong.getValue()), "config.yaml"));

    assertThatThrownBy(() -> backend.load(withWrong).close())
        .isInstanceOfSatisfying(
            HangarException.class,
            failure -> assertThat(failure.category()).isEqualTo(ErrorCategory.USER_ERROR))
        .hasMessageContaining(wrong.getKey());
  }

  @Test
  public void batchOfOneGivesTheReferenceOutputs() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      for (ReferenceCase testCase : reference.cases()) {
        assertTensorsClose(
            model.infer(testCase.inputs()), testCase.expectedOutputs(), reference.tolerance());
      }
    }
  }

  @Test
  public void batchOfManyGivesTheReferenceOutputsStacked() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<Tensor> batchInputs =
          stack(reference.cases().stream().map(ReferenceCase::inputs).toList());
      if (!supportsDynamicBatch()) {
        assertThat(model.signature().batched()).isFalse();
        assertThatThrownBy(() -> model.infer(batchInputs))
            .isInstanceOf(InvalidInputException.class)
            .hasMessageContaining("shape");
        return;
      }
      List<Tensor> expected =
          stack(reference.cases().stream().map(ReferenceCase::expectedOutputs).toList());
      assertTensorsClose(model.infer(batchInputs), expected, reference.tolerance());
    }
  }

  @TestFactory
  public Stream<DynamicTest> everyDeclaredDataTypeRoundTripsBitExactly() {
    return Stream.of(DataType.values())
        .map(
            type ->
                DynamicTest.dynamicTest(
                    type + (supportedDataTypes().contains(type) ? " round-trips" : " is refused"),
                    () -> checkRoundTrip(type)));
  }

  private void checkRoundTrip(DataType type) throws IOException {
    Path directory = Files.createDirectories(workDirectory.resolve("echo-" + type));
    ModelSource source = echoModel(type, directory);
    if (!supportedDataTypes().contains(type)) {
      assertThatThrownBy(() -> backend.load(source).close())
          .as("loading a model with a " + type + " input")
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining(type.name())
          .satisfies(
              e ->
                  assertThat(((HangarException) e).category()).isEqualTo(ErrorCategory.USER_ERROR));
      return;
    }
    try (LoadedModel model = backend.load(source)) {
      assertThat(model.signature().inputs())
          .containsExactly(new TensorSpec("input", type, new long[] {-1, 3}));
      assertThat(model.signature().outputs()).hasSize(1);
      Random random = new Random(type.ordinal());
      for (long rows : new long[] {1, 4, 0}) {
        Tensor input = SampleTensors.random("input", type, new long[] {rows, 3}, random);
        List<Tensor> outputs = model.infer(List.of(input));
        assertThat(outputs).hasSize(1);
        assertTensorIdentical(outputs.get(0), input.withName("output"));
      }
      if (type == DataType.BYTES && !supportsArbitraryBytes()) {
        Tensor invalidUtf8 =
            Tensor.ofByteElements(
                "input",
                new long[] {1, 3},
                List.of(new byte[] {(byte) 0xC3}, new byte[0], new byte[] {'a'}));
        assertThatThrownBy(() -> model.infer(List.of(invalidUtf8)))
            .isInstanceOf(InvalidInputException.class)
            .hasMessageContaining("input")
            .hasMessageContaining("UTF-8");
      }
    }
  }

  @Test
  public void eightThreadsInferringAtOnceGetIdenticalResults() throws Exception {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<List<Tensor>> expected = new ArrayList<>();
      for (ReferenceCase testCase : reference.cases()) {
        expected.add(model.infer(testCase.inputs()));
      }
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int thread = 0; thread < THREADS; thread++) {
          int offset = thread;
          tasks.add(
              () -> {
                for (int round = 0; round < 25; round++) {
                  int index = (offset + round) % reference.cases().size();
                  List<Tensor> actual = model.infer(reference.cases().get(index).inputs());
                  for (int i = 0; i < actual.size(); i++) {
                    assertTensorIdentical(actual.get(i), expected.get(index).get(i));
                  }
                }
                return null;
              });
        }
        for (Future<Void> result : pool.invokeAll(tasks, 5, TimeUnit.MINUTES)) {
          result.get();
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  public void inferAfterCloseFailsClearly() {
    ReferenceModel reference = referenceModel();
    LoadedModel model = backend.load(reference.source());
    model.infer(reference.cases().get(0).inputs());
    model.close();
    assertThatThrownBy(() -> model.infer(reference.cases().get(0).inputs()))
        .isInstanceOf(ModelClosedException.class)
        .hasMessageContaining(reference.source().name())
        .hasMessageContaining("closed");
  }

  @Test
  public void loadingAgainAfterCloseWorks() {
    ReferenceModel reference = referenceModel();
    for (int i = 0; i < 3; i++) {
      try (LoadedModel model = backend.load(reference.source())) {
        assertTensorsClose(
            model.infer(reference.cases().get(0).inputs()),
            reference.cases().get(0).expectedOutputs(),
            reference.tolerance());
      }
    }
  }

  @Test
  public void emptyFileFailsToLoadNamingTheFile() throws IOException {
    Path empty = copyOfReferenceFile("empty", 0);
    assertLoadFailsNaming(empty);
  }

  @Test
  public void truncatedFileFailsToLoadNamingTheFile() throws IOException {
    long size = Files.size(referenceModel().source().file());
    Path truncated = copyOfReferenceFile("truncated", size / 2);
    assertLoadFailsNaming(truncated);
  }

  @Test
  public void corruptFileFailsToLoadNamingTheFile() throws IOException {
    Path corrupt = copyOfReferenceFile("corrupt", 0);
    byte[] garbage = new byte[4096];
    new Random(42).nextBytes(garbage);
    Files.write(corrupt, garbage);
    assertLoadFailsNaming(corrupt);
  }

  @Test
  public void missingFileFailsToLoadNamingTheFile() {
    assertLoadFailsNaming(
        workDirectory
            .resolve("no-such-dir")
            .resolve(referenceModel().source().file().getFileName()));
  }

  @Test
  public void missingInputIsAnInvalidInput() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<Tensor> inputs = reference.cases().get(0).inputs();
      Tensor dropped = inputs.get(0);
      assertThatThrownBy(() -> model.infer(inputs.subList(1, inputs.size())))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining(dropped.name());
    }
  }

  @Test
  public void wrongDataTypeIsAnInvalidInput() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<Tensor> inputs = new ArrayList<>(reference.cases().get(0).inputs());
      Tensor original = inputs.get(0);
      DataType other = original.dataType() == DataType.INT64 ? DataType.FP32 : DataType.INT64;
      inputs.set(0, SampleTensors.random(original.name(), other, original.shape(), new Random(1)));
      assertThatThrownBy(() -> model.infer(inputs))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining(original.name())
          .hasMessageContaining(other.name())
          .hasMessageContaining(original.dataType().name());
    }
  }

  @Test
  public void wrongShapeIsAnInvalidInput() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<Tensor> inputs = new ArrayList<>(reference.cases().get(0).inputs());
      Tensor original = inputs.get(0);
      long[] shape = original.shape();
      long[] wrong = new long[shape.length + 1];
      System.arraycopy(shape, 0, wrong, 0, shape.length);
      wrong[shape.length] = 2;
      inputs.set(
          0, SampleTensors.random(original.name(), original.dataType(), wrong, new Random(2)));
      assertThatThrownBy(() -> model.infer(inputs))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining(original.name())
          .hasMessageContaining("shape");
    }
  }

  @Test
  public void unknownInputIsAnInvalidInput() {
    ReferenceModel reference = referenceModel();
    try (LoadedModel model = backend.load(reference.source())) {
      List<Tensor> inputs = new ArrayList<>(reference.cases().get(0).inputs());
      inputs.add(inputs.get(0).withName("no_such_input"));
      assertThatThrownBy(() -> model.infer(inputs))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("no_such_input");
    }
  }

  private void assertLoadFailsNaming(Path file) {
    ModelSource original = referenceModel().source();
    ModelSource broken =
        new ModelSource(
            original.name(),
            original.version(),
            file,
            original.declaredSignature(),
            original.parameters());
    assertThatThrownBy(() -> backend.load(broken).close())
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(file.getFileName().toString())
        .satisfies(
            e ->
                assertThat(((HangarException) e).category())
                    .isIn(EnumSet.of(ErrorCategory.USER_ERROR)));
  }

  private Path copyOfReferenceFile(String label, long bytes) throws IOException {
    Path source = referenceModel().source().file();
    Path directory = Files.createDirectories(workDirectory.resolve(label));
    Path target = directory.resolve(source.getFileName());
    byte[] content = Files.readAllBytes(source);
    byte[] prefix = new byte[(int) Math.min(bytes, content.length)];
    System.arraycopy(content, 0, prefix, 0, prefix.length);
    Files.write(target, prefix);
    return target;
  }

  private static List<Tensor> stack(List<List<Tensor>> rows) {
    List<Tensor> stacked = new ArrayList<>();
    for (int i = 0; i < rows.get(0).size(); i++) {
      int index = i;
      List<Tensor> parts = rows.stream().map(row -> row.get(index)).toList();
      stacked.add(Tensor.concatenateRows(parts.get(0).name(), parts));
    }
    return stacked;
  }

  private static boolean sameLocation(java.security.CodeSource a, java.security.CodeSource b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.getLocation().equals(b.getLocation());
  }

  /** Returns the signature of a one-input echo model for documentation and fixtures. */
  protected static ModelSignature echoSignature(DataType type) {
    return new ModelSignature(
        List.of(new TensorSpec("input", type, new long[] {-1, 3})),
        List.of(new TensorSpec("output", type, new long[] {-1, 3})),
        true);
  }
}
