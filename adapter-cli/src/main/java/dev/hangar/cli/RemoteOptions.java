package dev.hangar.cli;

import dev.hangar.cli.remote.V2Client;
import dev.hangar.core.config.Durations;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options of commands that can talk to a running server instead of the repository. */
final class RemoteOptions {
  private static final List<String> IN_PROCESS_ONLY =
      List.of("--config", "--repo", "--memory", "--cache-dir", "--plugins");

  @Option(
      names = "--url",
      paramLabel = "URL",
      converter = UrlConverter.class,
      description =
          "A running server (such as http://127.0.0.1:8000, started by 'hangar serve') to use over"
              + " HTTP instead of loading the repository in this process.")
  URI url;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = ServeCommand.DurationConverter.class,
      description =
          "How long one request may take; with --url also how long connecting may take (default:"
              + " ${DEFAULT-VALUE}).")
  Duration timeout;

  boolean isRemote() {
    return url != null;
  }

  /** Returns a client of the server; close it when done. */
  V2Client client() {
    return new V2Client(url, timeout);
  }

  /**
   * Refuses repository options next to {@code --url}: the server's own settings apply there.
   *
   * @throws UsageException naming the option
   */
  void checkExclusive(CommandLine.Model.CommandSpec spec) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new UsageException("--timeout must be positive, got " + Durations.format(timeout));
    }
    if (url == null) {
      return;
    }
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    for (String option : IN_PROCESS_ONLY) {
      if (parsed != null && parsed.hasMatchedOption(option)) {
        throw new UsageException(
            option + " applies in process only; with --url the server's own settings apply");
      }
    }
  }

  /** Parses {@code http://host:port}; a bare {@code host:port} gets {@code http://}. */
  static final class UrlConverter implements CommandLine.ITypeConverter<URI> {
    @Override
    public URI convert(String value) {
      String text = value.contains("://") ? value : "http://" + value;
      URI uri;
      try {
        uri = new URI(text);
      } catch (URISyntaxException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a URL such as http://127.0.0.1:8000");
      }
      if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
          || uri.getHost() == null) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not an http:// URL such as http://127.0.0.1:8000");
      }
      return uri;
    }
  }
}
