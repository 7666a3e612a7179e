package dev.hangar.core.repository;

import static java.util.Objects.requireNonNull;

import dev.hangar.core.config.ConfigFiles;
import dev.hangar.core.config.ConfigurationException;
import dev.hangar.core.config.ModelConfig;
import dev.hangar.core.config.Suggestions;
import dev.hangar.spi.BackendProvider;
import dev.hangar.spi.ErrorCategory;
import dev.hangar.spi.HangarException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The model repository on disk.
 *
 * <pre>
 * models/
 *   quality_predictor/
 *     config.yaml          optional
 *     1/model.onnx         version directories; the policy picks which are served
 *     2/model.onnx
 *   routing_classifier.onnx   a bare file: a one-version model named after its stem
 * </pre>
 *
 * <p>A directory is a model when it has a {@code config.yaml} or a numeric subdirectory; a file is
 * a model when a backend accepts it. A directory holding a file a backend accepts, but neither, is
 * reported as a model without a version directory (the file belongs in {@code 1/}). Anything else
 * (READMEs, scripts, hidden files) is ignored. A problem in one model is reported for that model
 * alone: a config.yaml that is not a file (a directory, a broken link), or a config under another
 * name ({@code config.yml}), is a problem, never "no config".
 */
public final class ModelRepository {
  private static final System.Logger LOG = System.getLogger(ModelRepository.class.getName());
  private static final int MAX_NAME_LENGTH = 128;
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");
  static final String CONFIG_FILE = "config.yaml";
  // the file a version directory holding several model files serves: model.onnx, model.pt, ...
  private static final String DEFAULT_STEM = "model.";

  private final Path root;
  private final BackendRegistry backends;

  /** Creates a repository rooted at {@code root}. */
  public ModelRepository(Path root, BackendRegistry backends) {
    this.root = requireNonNull(root, "root is null").toAbsolutePath().normalize();
    this.backends = requireNonNull(backends, "backends is null");
  }

  /** Returns the repository's root directory. */
  public Path root() {
    return root;
  }

  /**
   * Returns whether {@code name} names a version directory: a whole number from 1, no leading 0.
   */
  public static boolean isVersionName(String name) {
    return VERSION.matcher(name).matches();
  }

  /**
   * Returns whether {@code name} is a valid model name: 1 to 128 ASCII letters, digits, '_', '.'
   * and '-', starting with a letter or digit, without "..". Names never contain path separators.
   */
  public static boolean isValidName(String name) {
    // a loop, not a regular expression: every request's model name is checked
    if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean alphanumeric =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alphanumeric && (i == 0 || (c != '_' && c != '.' && c != '-'))) {
        return false;
      }
      if (c == '.' && name.charAt(i - 1) == '.') {
        return false;
      }
    }
    return true;
  }

  /**
   * Scans the repository.
   *
   * @return one entry per model name, sorted by name
   * @throws ConfigurationException when the root is not a readable directory
   */
  public List<RepositoryEntry> scan() {
    if (!Files.isDirectory(root)) {
      throw new ConfigurationException("model repository " + root + " is not a directory");
    }
    List<Path> children;
    try (Stream<Path> list = Files.list(root)) {
      children = list.sorted().toList();
    } catch (IOException e) {
      throw new ConfigurationException(
          "cannot list model repository " + root + ": " + e.getMessage(), e);
    }
    Map<String, RepositoryEntry> byName = new HashMap<>();
    List<RepositoryEntry> entries = new ArrayList<>();
    for (Path child : children) {
      String fileName = child.getFileName().toString();
      if (fileName.startsWith(".")) {
        continue;
      }
      Optional<RepositoryEntry> entry =
          Files.isDirectory(child) ? scanDirectory(child) : scanBareFile(child);
      if (entry.isEmpty()) {
        continue;
      }
      RepositoryEntry found = entry.get();
      RepositoryEntry clash = byName.putIfAbsent(found.name(), found);
      if (clash != null) {
        RepositoryEntry duplicate =
            RepositoryEntry.broken(
                found.name(),
                found.location(),
                new ConfigurationException(
                    "model name '"
                        + found.name()
                        + "' is used twice: "
                        + clash.location()
                        + " and "
                        + found.location()));
        entries.set(entries.indexOf(clash), duplicate);
        byName.put(found.name(), duplicate);
        continue;
      }
      entries.add(found);
    }
    return List.copyOf(entries);
  }

  /**
   * Scans one model by name, as {@link #scan()} would find it.
   *
   * @return empty when the repository holds no model of that name
   */
  public Optional<RepositoryEntry> scan(String name) {
    if (!isValidName(name)) {
      return Optional.empty();
    }
    return scan().stream().filter(entry -> entry.name().equals(name)).findFirst();
  }

  private Optional<RepositoryEntry> scanBareFile(Path file) {
    Optional<BackendProvider> provider = backends.providerFor(file);
    if (provider.isEmpty()) {
      LOG.log(Level.DEBUG, "ignoring {0}: no backend reads it", file);
      return Optional.empty();
    }
    String fileName = file.getFileName().toString();
    String name = stripExtension(fileName, provider.get());
    if (!isValidName(name)) {
      return Optional.of(RepositoryEntry.broken(name, file, badName(name, file)));
    }
    ModelDefinition definition =
        new ModelDefinition(
            name,
            file,
            provider.get().format(),
            ModelConfig.DEFAULTS,
            FileStamp.MISSING,
            List.of(new ModelVersionFile(1, file, FileStamp.of(file))),
            List.of());
    return Optional.of(RepositoryEntry.of(definition));
  }

  private Optional<RepositoryEntry> scanDirectory(Path directory) {
    String name = directory.getFileName().toString();
    Path configFile = directory.resolve(CONFIG_FILE);
    List<Path> versionDirectories = versionDirectories(directory);
    // whatever stands at config.yaml (a directory, a broken link) makes this a model to report
    boolean hasConfig = Files.exists(configFile, LinkOption.NOFOLLOW_LINKS);
    List<Path> misnamedConfigs = misnamedConfigFiles(directory, configFile);
    // a model file put in the directory itself instead of a version directory is the commonest
    // slip: such a directory goes on as a model, and define() reports where the file belongs
    if (!hasConfig
        && misnamedConfigs.isEmpty()
        && versionDirectories.isEmpty()
        && fileABackendReads(directory).isEmpty()
        && misnamedVersionDirectories(directory).isEmpty()) {
      LOG.log(
          Level.DEBUG,
          "ignoring {0}: no config.yaml, no version directories, no model file",
          directory);
      return Optional.empty();
    }
    if (!isValidName(name)) {
      return Optional.of(RepositoryEntry.broken(name, directory, badName(name, directory)));
    }
    try {
      if (hasConfig) {
        checkIsAFile(configFile);
      }
      if (!misnamedConfigs.isEmpty()) {
        throw misnamedConfig(misnamedConfigs.get(0), hasConfig);
      }
      ModelConfig config =
          hasConfig ? ModelConfig.from(ConfigFiles.read(configFile)) : ModelConfig.DEFAULTS;
      return Optional.of(
          RepositoryEntry.of(
              define(
                  name,
                  directory,
                  config,
                  hasConfig ? FileStamp.of(configFile) : FileStamp.MISSING,
                  versionDirectories)));
    } catch (HangarException e) {
      return Optional.of(RepositoryEntry.broken(name, directory, e));
    }
  }

  private ModelDefinition define(
      String name,
      Path directory,
      ModelConfig config,
      FileStamp configStamp,
      List<Path> versionDirectories) {
    if (versionDirectories.isEmpty()) {
      throw noVersionDirectory(name, directory);
    }
    Optional<BackendProvider> configured =
        config.backend().map(format -> configuredProvider(name, directory, format));
    String format = null;
    List<ModelVersionFile> versions = new ArrayList<>();
    Set<Long> served =
        Set.copyOf(
            config
                .versionPolicy()
                .select(
                    versionDirectories.stream()
                        .map(path -> Long.parseLong(path.getFileName().toString()))
                        .toList()));
    for (Path versionDirectory : versionDirectories) {
      long version = Long.parseLong(versionDirectory.getFileName().toString());
      Path file;
      try {
        file = modelFile(name, versionDirectory, config, configured);
      } catch (ConfigurationException e) {
        if (served.contains(version)) {
          throw e;
        }
        // a version the policy does not serve (an old one emptied, say) costs the others nothing
        LOG.log(Level.DEBUG, "model {0}: ignoring version {1}: {2}", name, version, e.getMessage());
        continue;
      }
      String fileFormat =
          configured
              .or(() -> backends.providerFor(file))
              .map(BackendProvider::format)
              .orElseThrow();
      if (format != null && !format.equals(fileFormat)) {
        throw new ConfigurationException(
            "model '"
                + name
                + "' mixes formats across versions ("
                + format
                + " and "
                + fileFormat
                + " in "
                + file
                + "); one model's versions share one format");
      }
      format = fileFormat;
      versions.add(new ModelVersionFile(version, file, FileStamp.of(file)));
    }
    BackendProvider provider = backends.provider(format).orElseThrow();
    for (String parameter : config.parameters().keySet()) {
      if (!provider.parameterNames().contains(parameter)) {
        throw new ConfigurationException(
            directory.resolve(CONFIG_FILE)
                + ": unknown key 'parameters."
                + parameter
                + "' for the "
                + format
                + " backend"
                + Suggestions.hint(parameter, provider.parameterNames())
                + " (allowed: "
                + String.join(", ", provider.parameterNames().stream().sorted().toList())
                + ")");
      }
    }
    if (config
        .versionPolicy()
        .select(versions.stream().map(ModelVersionFile::version).toList())
        .isEmpty()) {
      throw new ConfigurationException(
          directory.resolve(CONFIG_FILE)
              + ": version_policy "
              + config.versionPolicy()
              + " serves none of the versions on disk "
              + versions.stream().map(ModelVersionFile::version).toList());
    }
    return new ModelDefinition(
        name,
        directory,
        format,
        config,
        configStamp,
        versions,
        misnamedVersionDirectories(directory).stream()
            .map(path -> path.getFileName().toString())
            .toList());
  }

  private BackendProvider configuredProvider(String name, Path directory, String format) {
    return backends
        .provider(format.trim().toLowerCase(Locale.ROOT))
        .orElseThrow(
            () ->
                new ConfigurationException(
                    directory.resolve(CONFIG_FILE)
                        + ": 'backend' names '"
                        + format
                        + "', but the backends installed are "
                        + backends.formats()
                        + Suggestions.hint(format, backends.formats())));
  }

  private Path modelFile(
      String name,
      Path versionDirectory,
      ModelConfig config,
      Optional<BackendProvider> configured) {
    if (config.defaultModelFilename().isPresent()) {
      Path file = versionDirectory.resolve(config.defaultModelFilename().get()).normalize();
      if (!file.startsWith(versionDirectory) || !Files.isRegularFile(file)) {
        throw new ConfigurationException(
            "model '"
                + name
                + "': default_model_filename "
                + config.defaultModelFilename().get()
                + " is not a file in "
                + versionDirectory);
      }
      return file;
    }
    List<Path> candidates;
    try (Stream<Path> list = Files.list(versionDirectory)) {
      candidates =
          list.filter(Files::isRegularFile)
              .filter(file -> !file.getFileName().toString().startsWith("."))
              .filter(
                  file ->
                      configured
                          .map(p -> p.accepts(file))
                          .orElseGet(() -> backends.providerFor(file).isPresent()))
              .sorted()
              .toList();
    } catch (IOException e) {
      throw new ConfigurationException(
          "cannot list " + versionDirectory + ": " + e.getMessage(), e);
    }
    if (candidates.isEmpty()) {
      throw new ConfigurationException(
          "model '"
              + name
              + "': "
              + versionDirectory
              + " holds no model file; the installed backends read "
              + configured
                  .map(BackendProvider::fileExtensions)
                  .orElseGet(backends::fileExtensions));
    }
    List<Path> named =
        candidates.stream()
            .filter(file -> file.getFileName().toString().startsWith(DEFAULT_STEM))
            .toList();
    if (candidates.size() > 1 && named.size() == 1) {
      // as Triton, whose default_model_filename is model.<the backend's extension>
      return named.get(0);
    }
    if (candidates.size() > 1) {
      throw new ConfigurationException(
          "model '"
              + name
              + "': "
              + versionDirectory
              + " holds several model files "
              + candidates.stream().map(p -> p.getFileName().toString()).toList()
              + "; keep one, name the one to serve model.<extension>, or name it with"
              + " default_model_filename in config.yaml");
    }
    return candidates.get(0);
  }

  /**
   * A model directory without a version directory; {@code stray} is a model file found in the
   * directory itself, when there is one.
   */
  private ConfigurationException noVersionDirectory(String name, Path directory) {
    String where = "model '" + name + "' in " + directory + " has no version directory; ";
    Optional<Path> misnamed = misnamedVersionDirectories(directory).stream().findFirst();
    if (misnamed.isPresent()) {
      String given = misnamed.get().getFileName().toString();
      String digits = given.replaceAll("[^0-9]", "");
      String version =
          digits.isEmpty() || digits.length() > 18 || Long.parseLong(digits) == 0
              ? "1"
              : Long.toString(Long.parseLong(digits));
      return new ConfigurationException(
          where
              + "'"
              + given
              + "' holds a model file but is not a version (versions are whole numbers from 1,"
              + " without leading zeros); rename it to "
              + version);
    }
    Path version = directory.resolve("1");
    return new ConfigurationException(
        where
            + fileABackendReads(directory)
                .map(
                    file ->
                        "move " + file.getFileName() + " to " + version.resolve(file.getFileName()))
                .orElse("put the model file in " + version));
  }

  /**
   * Refuses a config.yaml that is not a regular file (a link to one is): read as "no config", the
   * model would be served with defaults, and a served one reloaded with them.
   */
  private static void checkIsAFile(Path configFile) {
    if (Files.isRegularFile(configFile)) {
      return;
    }
    String problem;
    if (Files.isDirectory(configFile)) {
      problem = "is a directory, not a file; put the model's settings in a config.yaml file";
    } else if (Files.isSymbolicLink(configFile)) {
      problem =
          "is a broken link to " + linkTarget(configFile) + "; point it at a file or delete it";
    } else {
      problem = "is not a regular file (a pipe, socket or device); make it a plain file";
    }
    throw new ConfigurationException(configFile + ": " + CONFIG_FILE + " " + problem);
  }

  private static String linkTarget(Path link) {
    try {
      return Files.readSymbolicLink(link).toString();
    } catch (IOException e) {
      return "a file that cannot be read (" + e.getMessage() + ")";
    }
  }

  /** A config file under another name (config.yml, Config.yaml), which nothing reads. */
  private static ConfigurationException misnamedConfig(Path misnamed, boolean hasConfig) {
    String name = misnamed.getFileName().toString();
    return new ConfigurationException(
        misnamed
            + ": "
            + name
            + (hasConfig
                ? " is not read beside "
                    + CONFIG_FILE
                    + "; merge it into "
                    + CONFIG_FILE
                    + " and delete "
                    + name
                : " is not read; rename " + name + " to " + CONFIG_FILE));
  }

  /** The files in {@code directory} named config.yaml or config.yml in another spelling. */
  private static List<Path> misnamedConfigFiles(Path directory, Path configFile) {
    try (Stream<Path> list = Files.list(directory)) {
      return list.filter(
              path -> {
                String name = path.getFileName().toString();
                String lower = name.toLowerCase(Locale.ROOT);
                return !name.equals(CONFIG_FILE)
                    && (lower.equals(CONFIG_FILE) || lower.equals("config.yml"))
                    && !isSameFile(path, configFile);
              })
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of(); // listed a moment ago; the version check reports what is wrong
    }
  }

  /** Whether two names are one file: on a case-insensitive file system Config.yaml is read. */
  private static boolean isSameFile(Path a, Path b) {
    try {
      return Files.exists(b) && Files.isSameFile(a, b);
    } catch (IOException e) {
      return false;
    }
  }

  /** The directories in {@code directory} not named as a version but holding a model file. */
  private List<Path> misnamedVersionDirectories(Path directory) {
    try (Stream<Path> list = Files.list(directory)) {
      return list.filter(Files::isDirectory)
          .filter(path -> !VERSION.matcher(path.getFileName().toString()).matches())
          .filter(path -> !path.getFileName().toString().startsWith("."))
          .filter(path -> fileABackendReads(path).isPresent())
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of(); // listed a moment ago; the version check reports what is wrong
    }
  }

  /** The first file directly in {@code directory} that a backend reads, if any. */
  private Optional<Path> fileABackendReads(Path directory) {
    try (Stream<Path> list = Files.list(directory)) {
      return list.filter(Files::isRegularFile)
          .filter(file -> backends.providerFor(file).isPresent())
          .sorted()
          .findFirst();
    } catch (IOException e) {
      return Optional.empty(); // listed a moment ago; whatever failed, the version check reports
    }
  }

  private static List<Path> versionDirectories(Path directory) {
    try (Stream<Path> list = Files.list(directory)) {
      return list.filter(Files::isDirectory)
          .filter(path -> VERSION.matcher(path.getFileName().toString()).matches())
          .sorted(
              (a, b) ->
                  Long.compare(
                      Long.parseLong(a.getFileName().toString()),
                      Long.parseLong(b.getFileName().toString())))
          .toList();
    } catch (IOException e) {
      throw new ConfigurationException("cannot list " + directory + ": " + e.getMessage(), e);
    }
  }

  private static String stripExtension(String fileName, BackendProvider provider) {
    String lower = fileName.toLowerCase(Locale.ROOT);
    for (String extension : provider.fileExtensions()) {
      if (lower.endsWith(extension)) {
        return fileName.substring(0, fileName.length() - extension.length());
      }
    }
    int dot = fileName.lastIndexOf('.');
    return dot > 0 ? fileName.substring(0, dot) : fileName;
  }

  private static HangarException badName(String name, Path location) {
    return new HangarException(
        ErrorCategory.USER_ERROR,
        "'"
            + name
            + "' at "
            + location
            + " is not a valid model name: use letters, digits, '_', '-' and '.', starting with a letter or digit");
  }
}
