package dev.hangar.cli.bench;

import static java.util.Objects.requireNonNull;

import dev.hangar.cli.remote.RemoteException;
import dev.hangar.cli.remote.V2Client;
import dev.hangar.cli.remote.V2Client.BatchCounts;
import dev.hangar.cli.remote.V2Codec;
import dev.hangar.spi.Tensor;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A server over HTTP: each prepared input set is encoded once (JSON, or binary tensors with binary
 * outputs asked for) into a reusable request, sent on the client's keep-alive connections with a
 * blocking exchange on the caller's thread (see {@link V2Client} for why). A response counts as a
 * success when its status is 200; its body is decoded only to check outputs. Errors are counted as
 * {@code http_<status>}, {@code connection_refused}, {@code timeout} or {@code connection_error}.
 */
public final class HttpTarget implements BenchTarget {
  private final V2Client client;
  private final String model;
  private final OptionalLong version;
  private final List<HttpRequest> requests;
  private final OutputCheck check;
  // set once the server turns out to have no statistics endpoint; read by the measuring thread
  private volatile boolean noStatistics;

  /**
   * Creates the target.
   *
   * @param inputs the distinct input sets, sent round-robin
   * @param check compares outputs with expected values; null for no check
   */
  public HttpTarget(
      V2Client client,
      String model,
      OptionalLong version,
      List<List<Tensor>> inputs,
      V2Codec.Protocol protocol,
      OutputCheck check) {
    this.client = requireNonNull(client, "client is null");
    this.model = requireNonNull(model, "model is null");
    this.version = requireNonNull(version, "version is null");
    // every output, in the model's order: what a client that names none gets
    this.requests =
        inputs.stream()
            .map(
                set ->
                    client.inferRequest(model, version, V2Codec.encode(set, List.of(), protocol)))
            .toList();
    this.check = check;
  }

  @Override
  public int requests() {
    return requests.size();
  }

  @Override
  public CompletableFuture<Outcome> send(int index) {
    HttpResponse<byte[]> response;
    try {
      response = client.exchange(requests.get(index));
    } catch (IOException e) {
      return CompletableFuture.completedFuture(outcome(null, e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.completedFuture(outcome(null, e));
    }
    return CompletableFuture.completedFuture(outcome(response, null));
  }

  private Outcome outcome(HttpResponse<byte[]> response, Throwable failure) {
    if (failure != null) {
      Throwable cause = failure;
      while ((cause instanceof CompletionException || cause instanceof ExecutionException)
          && cause.getCause() != null) {
        cause = cause.getCause();
      }
      String detail = client.failure(cause).getMessage();
      for (Throwable link = cause; link != null; link = link.getCause()) {
        if (link instanceof HttpTimeoutException) {
          return Outcome.failed("timeout", detail);
        }
        if (link instanceof ConnectException) {
          return Outcome.failed("connection_refused", detail);
        }
      }
      return Outcome.failed("connection_error", detail);
    }
    if (response.statusCode() != 200) {
      return Outcome.failed(
          "http_" + response.statusCode(),
          V2Client.errorOf(response) + " (HTTP " + response.statusCode() + ")");
    }
    if (check != null) {
      try {
        Optional<String> mismatch = check.mismatch(V2Client.decode(response).outputs());
        if (mismatch.isPresent()) {
          return Outcome.failed("mismatch", mismatch.get());
        }
      } catch (RemoteException | IllegalArgumentException e) {
        return Outcome.failed("bad_response", e.getMessage());
      }
    }
    return Outcome.SUCCESS;
  }

  @Override
  public boolean blocksCaller() {
    return true;
  }

  @Override
  public Optional<BatchCounts> batchCounts() {
    if (noStatistics) {
      return Optional.empty();
    }
    try {
      return Optional.of(client.batchCounts(model, version));
    } catch (RemoteException e) {
      noStatistics = true;
      return Optional.empty();
    }
  }

  @Override
  public void close() {}
}
