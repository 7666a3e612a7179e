package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hangar.core.config.DataSize;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Body limits, names that try to leave the repository, and the admin token. */
class LimitsAndSecurityTest {
  static final String ECHO =
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}";

  @TempDir Path temporary;

  @Test
  void bodiesOverTheLimitAre413WithAJsonError() {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server =
        new TestServer(repository, http -> http.withMaxBody(new DataSize(1024)))) {
      assertThat(server.post("/v2/models/echo/infer", ECHO).status()).isEqualTo(200);
      byte[] big = new byte[4096];
      java.util.Arrays.fill(big, (byte) ' ');
      System.arraycopy(ECHO.getBytes(StandardCharsets.UTF_8), 0, big, 0, ECHO.length());

      TestServer.Reply declared =
          server.post("/v2/models/echo/infer", big, "Content-Type", "application/json");
      assertThat(declared.status()).isEqualTo(413);
      V2Schemas.assertValid("error_response", declared.json());
      assertThat(declared.json().path("error").asText())
          .contains("4096 bytes")
          .contains("--max-body");

      // chunked: no Content-Length, the limit applies while reading
      TestServer.Reply chunked =
          server.send(
              HttpRequest.newBuilder(server.uri.resolve("/v2/models/echo/infer"))
                  .POST(
                      HttpRequest.BodyPublishers.ofInputStream(
                          () -> new ByteArrayInputStream(big))));
      assertThat(chunked.status()).isEqualTo(413);
      assertThat(chunked.json().path("error").asText()).contains("more than 1024 bytes");

      // a compressed body small enough to send is held to the limit once inflated too
      byte[] zipped = TestServer.compress("gzip", big);
      assertThat(zipped.length).isLessThan(1024);
      TestServer.Reply inflated =
          server.post(
              "/v2/models/echo/infer",
              zipped,
              "Content-Type",
              "application/json",
              "Content-Encoding",
              "gzip");
      assertThat(inflated.status()).isEqualTo(413);
      assertThat(inflated.json().path("error").asText())
          .contains("more than 1024 bytes once inflated (gzip)");

      // the repository endpoints have the same limit
      assertThat(server.post("/v2/repository/index", big).status()).isEqualTo(413);
      assertThat(server.post("/v2/models/echo/infer", ECHO).status()).isEqualTo(200);
    }
    assertThat(HttpSettings.defaults().maxBody()).isEqualTo(DataSize.ofMegabytes(64));
  }

  @Test
  void namesThatLeaveTheRepositoryAreRefusedAndNothingOutsideIsRead() throws IOException {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    // a model next to the repository, which no request may reach
    Repositories.fake(temporary, "secret", Repositories.MB);
    Repositories.fake(temporary.resolve("outside"), "secret", Repositories.MB);
    try (TestServer server = new TestServer(repository)) {
      List<String> attacks =
          List.of(
              "/v2/models/..%2Fsecret/infer",
              "/v2/models/..%2F..%2Fetc/infer",
              "/v2/models/..%2Foutside%2Fsecret/infer",
              "/v2/models/%2e%2e%2fsecret/infer",
              "/v2/models/%2E%2E/infer",
              "/v2/models/..%5Csecret/infer",
              "/v2/models/%252e%252e%252fsecret/infer",
              "/v2/models/a%2Fb/infer",
              "/v2/models/.../infer",
              "/v2/models/..%00/infer",
              "/v2/models/../secret/infer",
              "/v2/models/../../secret/infer",
              "/v2/models/echo/../../secret/infer",
              "/v2/repository/models/..%2Fsecret/load",
              "/v2/repository/models/..%2Foutside%2Fsecret/load",
              "/v2/models/..%2Fsecret",
              "/v2/models/..%2Fsecret/config",
              "/v2/models/..%2Fsecret/ready",
              "/v2/models/..%2Fsecret/stats",
              "/v2/models/%2Fetc%2Fpasswd/config");
      for (String path : attacks) {
        String method = path.endsWith("/infer") || path.endsWith("/load") ? "POST" : "GET";
        RawReply reply = raw(server, method, path, method.equals("POST") ? ECHO : "");
        assertThat(reply.status()).as(method + " " + path + " -> " + reply.body()).isIn(400, 404);
        assertThat(reply.body()).as(path).startsWith("{\"error\":");
      }
      assertThat(server.engine.loads("secret")).isZero();
      assertThat(server.manager.list()).extracting(status -> status.name()).containsExactly("echo");
      assertThat(raw(server, "POST", "/v2/models/echo/infer", ECHO).status()).isEqualTo(200);
    }
  }

  @Test
  void anAddressTheServerCannotListenOnIsRefusedNamingWhy() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> startOn(repository, "127.0.0.1", port))
          .isInstanceOf(dev.hangar.core.config.ConfigurationException.class)
          .hasMessage(
              "cannot listen on 127.0.0.1:"
                  + port
                  + ": another process is listening on port "
                  + port
                  + " there; stop it, or choose another port (--port)");
    }
    // TEST-NET-1 (RFC 5737): never an address of this machine
    assertThatThrownBy(() -> startOn(repository, "192.0.2.1", 0))
        .hasMessageStartingWith(
            "cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine; --host"
                + " takes one of its addresses, 127.0.0.1 (the default)");
    assertThatThrownBy(() -> startOn(repository, "no-such-host.invalid", 0))
        .hasMessage(
            "cannot listen on no-such-host.invalid:0: 'no-such-host.invalid' is neither an"
                + " address nor a host name this machine can resolve");
    // nothing of the servers that could not start is left running
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (httpThreads() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(httpThreads()).isZero();
  }

  private static void startOn(Path repository, String host, int port) {
    new TestServer(repository, http -> http.withAddress(host, port)).close();
  }

  private static long httpThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("hangar-http"))
        .count();
  }

  @Test
  void onANonLoopbackAddressLoadAndUnloadNeedTheAdminToken() {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer open = new TestServer(repository, http -> http.withAddress("0.0.0.0", 0))) {
      TestServer.Reply disabled = open.post("/v2/repository/models/echo/load", "");
      assertThat(disabled.status()).isEqualTo(403);
      assertThat(disabled.json().path("error").asText())
          .contains("disabled")
          .contains("--admin-token");
      assertThat(open.post("/v2/repository/models/echo/unload", "").status()).isEqualTo(403);
      // everything else stays open
      assertThat(open.post("/v2/models/echo/infer", ECHO).status()).isEqualTo(200);
      assertThat(open.post("/v2/repository/index", "").status()).isEqualTo(200);
    }
    try (TestServer guarded =
        new TestServer(
            repository,
            http -> http.withAddress("0.0.0.0", 0).withAdminToken(Optional.of("s3cret-token")))) {
      TestServer.Reply missing = guarded.post("/v2/repository/models/echo/load", "");
      assertThat(missing.status()).isEqualTo(401);
      assertThat(missing.header("WWW-Authenticate")).isEqualTo("Bearer");
      assertThat(load(guarded, "Bearer wrong").status()).isEqualTo(401);
      assertThat(load(guarded, "Bearer s3cret-toke").status()).isEqualTo(401);
      assertThat(load(guarded, "Basic s3cret-token").status()).isEqualTo(401);
      assertThat(load(guarded, "Bearer s3cret-token").status()).isEqualTo(200);
      assertThat(
              guarded
                  .send(
                      HttpRequest.newBuilder(
                              guarded.uri.resolve("/v2/repository/models/echo/unload"))
                          .header("Authorization", "bearer s3cret-token")
                          .POST(HttpRequest.BodyPublishers.noBody()))
                  .status())
          .isEqualTo(200);
    }
    try (TestServer local =
        new TestServer(repository, http -> http.withAdminToken(Optional.of("t")))) {
      // a token, once set, is required on loopback too
      assertThat(local.post("/v2/repository/models/echo/load", "").status()).isEqualTo(401);
      assertThat(load(local, "Bearer t").status()).isEqualTo(200);
    }
  }

  private static TestServer.Reply load(TestServer server, String authorization) {
    return server.send(
        HttpRequest.newBuilder(server.uri.resolve("/v2/repository/models/echo/load"))
            .header("Authorization", authorization)
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  @Test
  void connectionsThatSendNothingForTheIdleTimeoutAreClosed() throws IOException {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server =
        new TestServer(repository, http -> http.withIdleTimeout(Duration.ofMillis(300)))) {
      // a client that stops inside the headers, and one that stops inside the body
      String head = "POST /v2/models/echo/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le";
      String body =
          "POST /v2/models/echo/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type:"
              + " application/json\r\nContent-Length: 100\r\n\r\n{\"inputs\": [";
      for (String partial : List.of(head, body)) {
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
          socket.setSoTimeout(20_000);
          long start = System.nanoTime();
          socket.getOutputStream().write(partial.getBytes(StandardCharsets.ISO_8859_1));
          String answer =
              new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertThat(Duration.ofNanos(System.nanoTime() - start))
              .isGreaterThan(Duration.ofMillis(250));
          // closed, after at most an error answer; never an inference
          assertThat(answer).doesNotContain("\"outputs\"");
          if (!answer.isEmpty()) {
            assertThat(answer).startsWith("HTTP/1.1 408").contains("{\"error\":");
          }
        }
      }
      // a keep-alive connection closes once idle, after answering its request
      try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
        socket.setSoTimeout(20_000);
        byte[] content = ECHO.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(echoHead(content.length));
        out.write(content);
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(answer).startsWith("HTTP/1.1 200").contains("\"outputs\"");
      }
    }
  }

  @Test
  void aClientThatWaitsFor100ContinueIsRefusedFirstWhenTheBodyCannotHelp() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server =
        new TestServer(repository, http -> http.withMaxBody(new DataSize(1024)))) {
      String tooLarge = expectingContinue("/v2/models/echo/infer", 100_000_000, server);
      assertThat(tooLarge).startsWith("HTTP/1.1 413").contains("--max-body");
      String unknown = expectingContinue("/v2/models/nothing/infer", 100, server);
      assertThat(unknown).startsWith("HTTP/1.1 404").contains("nothing");
      String noVersion = expectingContinue("/v2/models/echo/versions/9/infer", 100, server);
      assertThat(noVersion).startsWith("HTTP/1.1 404").contains("has no version 9");

      // a body that can help is asked for, then answered
      try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
        socket.setSoTimeout(20_000);
        byte[] content = ECHO.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(continueHead("/v2/models/echo/infer", content.length));
        out.flush();
        byte[] first = new byte[25];
        int read = socket.getInputStream().readNBytes(first, 0, first.length);
        assertThat(new String(first, 0, read, StandardCharsets.ISO_8859_1))
            .startsWith("HTTP/1.1 100 Continue");
        out.write(content);
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(answer).contains("HTTP/1.1 200").contains("\"outputs\"");
      }
    }
  }

  /** Sends the head of a request that waits for 100 Continue, and returns all that comes back. */
  private static String expectingContinue(String path, long length, TestServer server)
      throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(continueHead(path, length));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The head of a JSON request that waits for 100 Continue before it sends its body. */
  private static byte[] continueHead(String path, long length) {
    return ("POST "
            + path
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Type:"
            + " application/json\r\nConnection: close\r\nContent-Length: "
            + length
            + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void aClientThatTricklesItsHeadersIsClosedAtTheHeaderTimeoutWhateverTheIdleTimeout()
      throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server =
        new TestServer(repository, http -> http.withHeaderTimeout(Duration.ofSeconds(1)))) {
      // a header line every 100ms, far inside the idle timeout (30s): only the header timeout
      // can close this connection
      try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
        socket.setSoTimeout(100);
        OutputStream out = socket.getOutputStream();
        out.write(
            "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        long start = System.nanoTime();
        boolean closed = false;
        while (!closed && System.nanoTime() - start < Duration.ofSeconds(20).toNanos()) {
          try {
            out.write("X-Slow: 1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            closed = socket.getInputStream().read() == -1;
          } catch (java.net.SocketTimeoutException stillOpen) {
            // nothing to read yet: the connection is open
          } catch (IOException reset) {
            closed = true;
          }
        }
        assertThat(closed).as("closed within 20s").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
            .isGreaterThan(Duration.ofMillis(900));
      }
      // a keep-alive connection that waits longer than the header timeout between requests
      // stays open (the idle timeout governs it), and a body that trickles in after complete
      // headers is not cut either
      try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
        socket.setSoTimeout(20_000);
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        out.write(
            "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(readResponse(in)).startsWith("HTTP/1.1 200");
        Thread.sleep(2_000);
        byte[] content = ECHO.getBytes(StandardCharsets.UTF_8);
        out.write(echoHead(content.length));
        for (int i = 0; i < content.length; i += 10) {
          out.write(content, i, Math.min(10, content.length - i));
          out.flush();
          Thread.sleep(200);
        }
        assertThat(readResponse(in)).startsWith("HTTP/1.1 200").contains("\"outputs\"");
      }
    }
  }

  @Test
  void aDeclaredBodyLengthCostsNoMemoryBeforeTheBytesArrive() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    long declared = 400L << 20;
    try (TestServer server =
        new TestServer(repository, http -> http.withMaxBody(new DataSize(512L << 20)))) {
      java.lang.management.MemoryMXBean memory =
          java.lang.management.ManagementFactory.getMemoryMXBean();
      System.gc();
      long before = memory.getHeapMemoryUsage().getUsed();
      List<Socket> clients = new java.util.ArrayList<>();
      try {
        // three clients declare 400MB each and send 10 bytes: 1.2GB if buffers followed the
        // declared lengths (the test JVM has 2GB)
        for (int i = 0; i < 3; i++) {
          Socket socket = new Socket("127.0.0.1", server.server.port());
          clients.add(socket);
          socket.getOutputStream().write(echoHead(declared));
          socket.getOutputStream().write("{\"inputs\":".getBytes(StandardCharsets.UTF_8));
        }
        long most = 0;
        for (int poll = 0; poll < 30; poll++) {
          Thread.sleep(100);
          most = Math.max(most, memory.getHeapMemoryUsage().getUsed() - before);
        }
        assertThat(server.get("/v2/health/ready").status()).isEqualTo(200);
        assertThat(most).as("heap growth while the bodies wait").isLessThan(256L << 20);
      } finally {
        for (Socket client : clients) {
          client.close();
        }
      }
    }
  }

  @Test
  void pastTheConnectionLimitTheServerAcceptsNoMoreUntilOneCloses() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server = new TestServer(repository, http -> http.withMaxConnections(2));
        Socket first = new Socket("127.0.0.1", server.server.port());
        Socket second = new Socket("127.0.0.1", server.server.port());
        Socket third = new Socket("127.0.0.1", server.server.port())) {
      // the kernel completes the third connection, but the server does not take it
      third.setSoTimeout(1_000);
      third
          .getOutputStream()
          .write(
              "GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      assertThatThrownBy(() -> third.getInputStream().read())
          .isInstanceOf(java.net.SocketTimeoutException.class);
      first.close();
      third.setSoTimeout(20_000);
      assertThat(readResponse(third.getInputStream())).startsWith("HTTP/1.1 200");
      assertThat(second.isClosed()).isFalse();
    }
  }

  @Test
  void bodiesPastTheMemoryKeptForThemWaitOrAreRefused() throws Exception {
    try (TestServer server = echoKeepingForBodies(100_000)) {
      // more than all of it: 507, whatever else is in flight
      TestServer.Reply alone = server.post("/v2/models/echo/infer", padded(ECHO, 200_000));
      assertThat(alone.status()).as(alone.text()).isEqualTo(507);
      assertThat(alone.json().path("error").asText())
          .startsWith("a body of 200000 bytes is more than the ")
          .contains("--body-memory");
      byte[] first = padded(ECHO, 60_000).getBytes(StandardCharsets.UTF_8);
      // the slow body holds 60000 of the 100000 bytes once its request is being read
      try (Socket slow = slowBody(server, first)) {
        // so a 50000-byte body must wait
        String second = padded(ECHO, 50_000);
        TestServer.Reply waiting = server.post("/v2/models/echo/infer", second);
        assertThat(waiting.status()).as(waiting.text()).isEqualTo(503);
        assertThat(waiting.header("Retry-After")).isEqualTo("1");
        assertThat(waiting.json().path("error").asText()).contains("retry shortly");
        // the slow body arrives and is answered; its bytes go back as its request ends
        assertThat(finishSlowBody(slow, first)).startsWith("HTTP/1.1 200");
        TestServer.Reply retried = server.post("/v2/models/echo/infer", second);
        for (int poll = 0; poll < 100 && retried.status() != 200; poll++) {
          Thread.sleep(100);
          retried = server.post("/v2/models/echo/infer", second);
        }
        assertThat(retried.status()).as(retried.text()).isEqualTo(200);
      }
      // a body that does not parse, and a client that hangs up halfway through its body
      assertThat(server.post("/v2/models/echo/infer", padded("{oops", 20_000)).status())
          .isEqualTo(400);
      try (Socket gone = new Socket("127.0.0.1", server.server.port())) {
        gone.getOutputStream().write(echoHead(50_000));
        gone.getOutputStream().write("{\"inputs\"".getBytes(StandardCharsets.UTF_8));
        gone.getOutputStream().flush();
        Thread.sleep(200);
      }
      // every request has ended: nothing is held, whichever way each ended
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
    }
  }

  @Test
  void aCompressedBodyCountsAgainstTheMemoryForBodiesAsItInflates() throws Exception {
    try (TestServer server = echoKeepingForBodies(100_000)) {
      // a compressed body that fits is answered (and the server and client are warm)
      byte[] fits = gzippedPadded(ECHO, 50_000);
      TestServer.Reply answered = server.post("/v2/models/echo/infer", fits, gzipped());
      assertThat(answered.status()).as(answered.text()).isEqualTo(200);
      // 48MB of JSON in about 50KB of gzip, under --max-body (64MB)
      byte[] bomb = gzippedPadded(ECHO, 48L << 20);
      assertThat(bomb.length).isLessThan(100_000);
      long before = allocatedByAllThreads();
      TestServer.Reply refused = server.post("/v2/models/echo/infer", bomb, gzipped());
      long allocated = allocatedByAllThreads() - before;
      assertThat(refused.status()).as(refused.text()).isEqualTo(507);
      assertThat(refused.json().path("error").asText())
          .startsWith("a body and its inflated bytes, of at least ")
          .contains("bytes is more than the ")
          .contains("--body-memory");
      // refused once it passed the 100000 bytes: the heap never held the 48MB it inflates to
      // (inflated whole first, the JVM allocated 110MB; now about 1MB, whatever other threads do)
      assertThat(allocated).isLessThan(32L << 20);
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();

      byte[] slowBody = padded(ECHO, 60_000).getBytes(StandardCharsets.UTF_8);
      try (Socket slow = slowBody(server, slowBody)) {
        // 50000 inflated bytes fit the memory, but not beside the 60000 the slow body holds
        TestServer.Reply waiting = server.post("/v2/models/echo/infer", fits, gzipped());
        assertThat(waiting.status()).as(waiting.text()).isEqualTo(503);
        assertThat(waiting.header("Retry-After")).isEqualTo("1");
        assertThat(finishSlowBody(slow, slowBody)).startsWith("HTTP/1.1 200");
      }
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
    }
  }

  @Test
  void aTransferCodingOtherThanChunkedIs501() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server = new TestServer(repository)) {
      byte[] zipped = TestServer.compress("gzip", ECHO.getBytes(StandardCharsets.UTF_8));
      // Jetty undoes chunked and passed the gzip bytes on: 400 "Illegal character" before
      // a coding on a header line of its own as well
      for (String codings : List.of("gzip, chunked", "x-custom\r\nTransfer-Encoding: chunked")) {
        String answer = sendChunked(server, "/v2/models/echo/infer", codings, zipped);
        String coding = codings.startsWith("gzip") ? "gzip" : "x-custom";
        assertThat(answer)
            .startsWith("HTTP/1.1 501")
            .contains(
                "{\"error\":\"the transfer coding '"
                    + coding
                    + "' (Transfer-Encoding: "
                    + coding
                    + (coding.equals("gzip") ? ", chunked" : "")
                    + ") is not supported; this server takes only chunked. To compress a request"
                    + " body, send it with Content-Encoding: gzip or deflate\"}");
      }
      assertThat(sendChunked(server, "/v2/repository/index", "deflate, chunked", new byte[2]))
          .startsWith("HTTP/1.1 501");
      byte[] plain = ECHO.getBytes(StandardCharsets.UTF_8);
      assertThat(sendChunked(server, "/v2/models/echo/infer", "chunked", plain))
          .startsWith("HTTP/1.1 200");
      // a last coding other than chunked leaves the body's end unknown: Jetty answers 400 itself
      assertThat(sendChunked(server, "/v2/models/echo/infer", "gzip", zipped))
          .startsWith("HTTP/1.1 400");
    }
  }

  /**
   * Sends {@code body} as one chunk with {@code Transfer-Encoding: codings}, on a connection that
   * closes after it; returns the whole answer.
   */
  private static String sendChunked(TestServer server, String path, String codings, byte[] body)
      throws IOException {
    java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
    request.writeBytes(
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: "
                + codings
                + "\r\n\r\n"
                + Integer.toHexString(body.length)
                + "\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    request.writeBytes(body);
    request.writeBytes("\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
      socket.setSoTimeout(20_000);
      // in one write: the server may answer and close before reading the body, and a second write
      // after its close would fail with a broken pipe
      socket.getOutputStream().write(request.toByteArray());
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Opens a connection that sends the head of an echo request with {@code body} and the body's
   * first 10 bytes; returns it once the request holds the body's length of the memory for bodies.
   */
  private static Socket slowBody(TestServer server, byte[] body)
      throws IOException, InterruptedException {
    Socket slow = new Socket("127.0.0.1", server.server.port());
    try {
      slow.setSoTimeout(20_000);
      OutputStream out = slow.getOutputStream();
      out.write(echoHead(body.length));
      out.write(body, 0, 10);
      out.flush();
      assertThat(heldBodyBytes(server, held -> held == body.length)).isEqualTo(body.length);
      return slow;
    } catch (Throwable e) { // rethrown as it is, once the connection is closed
      slow.close();
      throw e;
    }
  }

  /** Sends the rest of a {@link #slowBody} and returns its answer. */
  private static String finishSlowBody(Socket slow, byte[] body) throws IOException {
    slow.getOutputStream().write(body, 10, body.length - 10);
    slow.getOutputStream().flush();
    return readResponse(slow.getInputStream());
  }

  /** The headers of a gzipped JSON body. */
  private static String[] gzipped() {
    return new String[] {"Content-Type", "application/json", "Content-Encoding", "gzip"};
  }

  /** The JSON padded with spaces to {@code length} bytes and gzipped, never held uncompressed. */
  private static byte[] gzippedPadded(String json, long length) throws IOException {
    java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
    try (OutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
      gzip.write(json.getBytes(StandardCharsets.UTF_8));
      byte[] spaces = new byte[1 << 20];
      java.util.Arrays.fill(spaces, (byte) ' ');
      for (long left = length - json.length(); left > 0; left -= spaces.length) {
        gzip.write(spaces, 0, (int) Math.min(left, spaces.length));
      }
    }
    return zipped.toByteArray();
  }

  /** The bytes every live thread of this JVM, the server's included, has allocated so far. */
  private static long allocatedByAllThreads() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long total = 0;
    for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      total += Math.max(0, bytes);
    }
    return total;
  }

  @Test
  void aBodyRefusedBeforeItArrivesIsReadAndDroppedSoThatItsClientGetsTheAnswer() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server =
        new TestServer(
            repository,
            http ->
                http.withBodyMemory(new DataSize(100_000)).withMaxBody(new DataSize(150_000)))) {
      // refused on its headers: more than all the memory for bodies (507), more than the body
      // limit (413); the client, still sending, must get the answer, not a reset connection
      for (int length : new int[] {120_000, 200_000}) {
        byte[] body = padded(ECHO, length).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
          socket.setSoTimeout(20_000);
          OutputStream out = socket.getOutputStream();
          out.write(echoHead(body.length));
          out.flush();
          Thread.sleep(300); // the server has refused the body by now
          for (int sent = 0; sent < body.length; sent += 10_000) {
            out.write(body, sent, Math.min(10_000, body.length - sent));
            out.flush();
            Thread.sleep(5);
          }
          String answer = readResponse(socket.getInputStream());
          assertThat(answer)
              .startsWith(length == 120_000 ? "HTTP/1.1 507" : "HTTP/1.1 413")
              .contains(length == 120_000 ? "--body-memory" : "--max-body");
        }
      }
      assertThat(server.post("/v2/models/echo/infer", ECHO).status()).isEqualTo(200);
    }
  }

  @Test
  void theTensorsDecodedFromJsonDataCountAgainstTheMemoryForBodies() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.wide(repository);
    try (TestServer server =
        new TestServer(repository, http -> http.withBodyMemory(new DataSize(100_000)))) {
      // 20000 zeros: a body of about 40000 bytes, and 80000 bytes of FP32 values
      String large = zeros(20_000);
      assertThat(large.length()).isBetween(40_000, 41_000);
      TestServer.Reply refused = server.post("/v2/models/wide/infer", large);
      assertThat(refused.status()).as("%.300s", refused.text()).isEqualTo(507);
      assertThat(refused.json().path("error").asText())
          .startsWith("a body and its decoded tensors of ")
          .contains("bytes is more than the ")
          .contains("--body-memory");
      // 12000 zeros: about 24000 bytes of body and 48000 of values fit
      TestServer.Reply answered = server.post("/v2/models/wide/infer", zeros(12_000));
      assertThat(answered.status()).as("%.300s", answered.text()).isEqualTo(200);
      assertThat(answered.json().path("outputs").path(0).path("data").size()).isEqualTo(12_000);
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
    }
  }

  @Test
  void answersWaitingForAClientSlowToReadCountAgainstTheMemoryForBodies() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.wide(repository);
    long limit = 20L << 20;
    // 4M whole numbers under 1000 in binary: a 16MB body, whose tensor is the body's own bytes;
    // the answer is about 26MB of JSON, or 8MB gzipped, far more than the sockets' buffers take
    BinaryBodies.Body request = wideRowInBinary(4_000_000);
    try (TestServer server =
        new TestServer(
            repository, // no minimum rate, which would cut the answers off once their grace is over
            http -> http.withBodyMemory(new DataSize(limit)).withMinBodyRate(new DataSize(0)))) {
      try (Socket plain = slowReader(server, 4096)) {
        long answer = contentLength(waitForAnswer(plain, request, false));
        // the answer alone, as sent: with it built, the body is let go of
        assertThat(heldBodyBytes(server, held -> held == answer)).isEqualTo(answer);
        // past the limit, which an answer may pass: a small body waits while it does
        assertThat(answer).isGreaterThan(limit);
        TestServer.Reply waiting = server.post("/v2/models/wide/infer", zeros(10));
        assertThat(waiting.status()).as(waiting.text()).isEqualTo(503);
        assertThat(waiting.json().path("error").asText()).contains("--body-memory");
      }
      // the client hangs up: its request ends, and with it what the answer held
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
      try (Socket gzipped = slowReader(server, 4096)) {
        String head = waitForAnswer(gzipped, request, true);
        assertThat(head).containsIgnoringCase("Content-Encoding: gzip");
        long answer = contentLength(head);
        // what waits on the client is the compressed answer, which leaves room for a small body
        assertThat(heldBodyBytes(server, held -> held == answer)).isEqualTo(answer);
        assertThat(answer).isLessThan(limit / 2);
        TestServer.Reply small = server.post("/v2/models/wide/infer", zeros(10));
        assertThat(small.status()).as(small.text()).isEqualTo(200);
      }
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
      assertThat(server.post("/v2/models/wide/infer", zeros(10)).status()).isEqualTo(200);
    }
  }

  @Test
  void aBodyIsLetGoOfOnceItsAnswerIsBuilt() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.wide(repository);
    // a 16MB body, arriving over more than one read, and an answer of about 26MB of JSON
    BinaryBodies.Body request = wideRowInBinary(4_000_000);
    try (TestServer server =
        new TestServer(repository, http -> http.withMinBodyRate(new DataSize(0)))) {
      assertThat(server.post("/v2/models/wide/infer", zeros(10)).status()).isEqualTo(200);
      long idle = liveHeapBytes();
      try (Socket slow = slowReader(server, 4096)) {
        long answer = contentLength(waitForAnswer(slow, request, false));
        // what the waiting request keeps reachable: its answer; Jetty holds the reader of its
        // body until it ends, which kept the body too
        long waiting = liveHeapBytes() - idle;
        assertThat(waiting).isLessThan(answer + request.bytes().length / 2);
      }
    }
  }

  /** The heap that reachable objects take, measured after full collections. */
  private static long liveHeapBytes() throws InterruptedException {
    java.lang.management.MemoryMXBean memory =
        java.lang.management.ManagementFactory.getMemoryMXBean();
    for (int collection = 0; collection < 3; collection++) {
      System.gc();
      Thread.sleep(100);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** A binary inference request to wide of one row of {@code count} whole numbers under 1000. */
  private static BinaryBodies.Body wideRowInBinary(int count) {
    java.nio.ByteBuffer data =
        java.nio.ByteBuffer.allocate(count * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < count; i++) {
      data.putFloat(random.nextInt(1000));
    }
    return BinaryBodies.of(
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, "
            + count
            + "], \"parameters\": {\"binary_data_size\": "
            + count * 4
            + "}}]}",
        data.array());
  }

  /**
   * Sends {@code request} to wide from a client that then reads only the head of its answer,
   * offering gzip or not; returns the head.
   */
  private static String waitForAnswer(Socket client, BinaryBodies.Body request, boolean gzip)
      throws IOException {
    OutputStream out = client.getOutputStream();
    out.write(
        inferHead(
            "wide",
            request.bytes().length,
            "Inference-Header-Content-Length: " + request.headerLength(),
            gzip ? "Accept-Encoding: gzip" : "Accept-Encoding: identity"));
    out.write(request.bytes());
    out.flush();
    return readHead(client.getInputStream());
  }

  /** A JSON inference request to wide of one row of {@code count} zeros. */
  private static String zeros(int count) {
    return "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, "
        + count
        + "], \"data\": ["
        + String.join(",", java.util.Collections.nCopies(count, "0"))
        + "]}]}";
  }

  @Test
  void aBodyArrivingSlowerThanTheMinimumRateAfterItsGraceIs408() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    try (TestServer server = wantingRate(repository, 1000);
        TestServer unlimited = wantingRate(repository, 0)) {
      byte[] body = padded(ECHO, 20_000).getBytes(StandardCharsets.UTF_8);
      // the three clients send at once, so that the test waits out the grace (5s) once
      // 20 bytes in 6s, to a server that wants 1000 bytes a second: cut at the next bytes
      CompletableFuture<String> trickled =
          exchange(
              server,
              body.length,
              out -> {
                write(out, body, 0, 10, 6_000);
                write(out, body, 10, 10, 0);
              });
      // the same to a server that wants no rate, then the rest at once: answered
      CompletableFuture<String> unheld =
          exchange(
              unlimited,
              body.length,
              out -> {
                write(out, body, 0, 10, 6_000);
                write(out, body, 10, body.length - 10, 0);
              });
      // 2000 bytes every 700ms, about 2900 bytes a second: answered
      CompletableFuture<String> steady =
          exchange(
              server,
              body.length,
              out -> {
                for (int sent = 0; sent < body.length; sent += 2_000) {
                  write(out, body, sent, 2_000, sent + 2_000 < body.length ? 700 : 0);
                }
              });

      String cut = trickled.get();
      assertThat(cut).startsWith("HTTP/1.1 408").doesNotContain("\"outputs\"");
      // about 6s: later on a busy machine, never before the grace
      assertThat(cut)
          .containsPattern(
              "\\{\"error\":\"the request body is arriving too slowly: 20 bytes in"
                  + " ([5-9]|[1-9][0-9])\\.[0-9] s, under the minimum of 1000 bytes a second"
                  + " \\(--min-body-rate\\)\"}");
      assertThat(steady.get()).startsWith("HTTP/1.1 200").contains("\"outputs\"");
      assertThat(unheld.get()).startsWith("HTTP/1.1 200").contains("\"outputs\"");
      assertThat(HttpSettings.defaults().minBodyRate()).isEqualTo(new DataSize(1024));
    }
  }

  @Test
  void anAnswerTakenSlowerThanTheMinimumRateAfterItsGraceIsCutOff() throws Exception {
    Path repository = temporary.resolve("repository");
    Repositories.wide(repository);
    // 3M zeros: an answer of about 12MB of JSON, more than the sockets' buffers hold
    byte[] body = zeros(3_000_000).getBytes(StandardCharsets.UTF_8);
    byte[] head = inferHead("wide", body.length);
    // a minimum far above the default, past what the buffers hold on loopback (megabytes): a
    // client is cut off only when even the bytes sent, buffered ones included, fall below it
    try (TestServer server = wantingRate(repository, 1_000_000);
        TestServer unlimited = wantingRate(repository, 0);
        Socket stalled = slowReader(server, 4096);
        Socket slow = slowReader(server, 4096);
        // a larger buffer, which lets its reads keep up
        Socket steady = slowReader(server, 65536);
        Socket late = slowReader(server, 4096);
        Socket unheld = slowReader(unlimited, 4096)) {
      long sent = System.nanoTime();
      for (Socket client : List.of(stalled, slow, steady, late, unheld)) {
        client.getOutputStream().write(head);
        client.getOutputStream().write(body);
        client.getOutputStream().flush();
      }
      // each reads on a thread of its own: 300KB a second, under the minimum, until cut off
      java.util.concurrent.atomic.AtomicBoolean cutOff =
          new java.util.concurrent.atomic.AtomicBoolean();
      CompletableFuture<Answer> slowAnswer = reading(slow, 0, 300_000, cutOff::get);
      // 2MB a second, over it
      CompletableFuture<Answer> steadyAnswer = reading(steady, 0, 2_000_000, () -> false);
      // nothing for 2s, inside the grace (5s), then all of it at once
      CompletableFuture<Answer> lateAnswer = reading(late, 2_000, 0, () -> false);
      // from a server that wants no rate: nothing for 7s, then all of it
      CompletableFuture<Answer> unheldAnswer = reading(unheld, 7_000, 0, () -> false);

      // the client that reads nothing and the slow one are cut off, not before the grace is over
      double undelivered = ConcurrencyAndShutdownTest.undelivered(server);
      while (undelivered < 2 && System.nanoTime() - sent < 30_000_000_000L) {
        Thread.sleep(20);
        undelivered = ConcurrencyAndShutdownTest.undelivered(server);
      }
      assertThat(undelivered).isEqualTo(2.0);
      assertThat((System.nanoTime() - sent) / 1e9).isGreaterThan(5.0);
      cutOff.set(true); // what is left in the buffers is read at once
      for (Answer cut : List.of(read(stalled, 0, 0, () -> false), slowAnswer.get())) {
        assertThat(cut.head()).startsWith("HTTP/1.1 200");
        assertThat(cut.received()).isLessThan(cut.declared());
      }
      // the others take theirs whole
      for (Answer whole : List.of(steadyAnswer.get(), lateAnswer.get(), unheldAnswer.get())) {
        assertThat(whole.head()).startsWith("HTTP/1.1 200");
        assertThat(whole.received()).isEqualTo(whole.declared()).isGreaterThan(10_000_000);
      }
      assertThat(ConcurrencyAndShutdownTest.undelivered(server)).isEqualTo(2.0);
      assertThat(heldBodyBytes(server, held -> held == 0)).isZero();
      assertThat(heldBodyBytes(unlimited, held -> held == 0)).isZero();
      assertThat(HttpSettings.defaults().minBodyRate()).isEqualTo(new DataSize(1024));
    }
  }

  /** A client whose small receive buffer makes a large answer wait in the server's. */
  private static Socket slowReader(TestServer server, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(receiveBuffer);
    socket.setSoTimeout(30_000);
    socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.server.port()));
    return socket;
  }

  /** An answer as a client read it: its head, its declared length, and the bytes that came. */
  private record Answer(String head, long declared, long received) {}

  /** {@link #read} on a thread of its own. */
  private static CompletableFuture<Answer> reading(
      Socket socket, long waitMillis, long bytesPerSecond, BooleanSupplier hurry) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return read(socket, waitMillis, bytesPerSecond, hurry);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        },
        task -> new Thread(task, "slow reader").start());
  }

  /**
   * Waits {@code waitMillis}, then reads an answer at {@code bytesPerSecond} (0, or once {@code
   * hurry} says so: as fast as it comes), until its declared length or until the server closes the
   * connection.
   */
  private static Answer read(
      Socket socket, long waitMillis, long bytesPerSecond, BooleanSupplier hurry)
      throws IOException, InterruptedException {
    Thread.sleep(waitMillis);
    long start = System.nanoTime();
    InputStream in = socket.getInputStream();
    String head = readHead(in);
    long declared = contentLength(head);
    long received = 0;
    byte[] buffer = new byte[16384];
    try {
      while (received < declared) {
        int read = in.read(buffer, 0, (int) Math.min(buffer.length, declared - received));
        if (read < 0) {
          break;
        }
        received += read;
        if (bytesPerSecond > 0 && !hurry.getAsBoolean()) {
          long due = start + received * 1_000_000_000L / bytesPerSecond;
          Thread.sleep(Math.max(0, (due - System.nanoTime()) / 1_000_000));
        }
      }
    } catch (java.net.SocketException e) {
      // reset: the server closed the connection on bytes it had not sent
    }
    return new Answer(head, declared, received);
  }

  /** Writes a body the way a test client does; may pause. */
  private interface BodyWriting {
    void write(OutputStream out) throws IOException, InterruptedException;
  }

  /**
   * Sends, on a thread of its own, a JSON inference request to echo whose body {@code writing}
   * writes, and completes with the answer.
   */
  private static CompletableFuture<String> exchange(
      TestServer server, int contentLength, BodyWriting writing) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(echoHead(contentLength));
            writing.write(out);
            return readResponse(socket.getInputStream());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        },
        // a thread each: the clients pause, and must pause together
        task -> new Thread(task, "slow client").start());
  }

  /**
   * Writes {@code length} bytes of {@code body} from {@code from}, then waits {@code pauseMillis}.
   */
  private static void write(OutputStream out, byte[] body, int from, int length, long pauseMillis)
      throws IOException, InterruptedException {
    out.write(body, from, Math.min(length, body.length - from));
    out.flush();
    Thread.sleep(pauseMillis);
  }

  /**
   * The heap requests in flight hold ({@code hangar_http_body_bytes}), read until {@code settled}
   * accepts it or 20s have passed: requests give their bytes back as they end, a moment after their
   * answers.
   */
  private static double heldBodyBytes(TestServer server, java.util.function.DoublePredicate settled)
      throws InterruptedException {
    double held = server.metric("hangar_http_body_bytes");
    for (int poll = 0; poll < 400 && !settled.test(held); poll++) {
      Thread.sleep(50);
      held = server.metric("hangar_http_body_bytes");
    }
    return held;
  }

  /** The request line and headers of a JSON inference request to echo, its body to follow. */
  private static byte[] echoHead(long contentLength) {
    return inferHead("echo", contentLength);
  }

  /**
   * The request line and headers of an inference request to {@code model}, with {@code headers}
   * besides, its body to follow.
   */
  private static byte[] inferHead(String model, long contentLength, String... headers) {
    StringBuilder head =
        new StringBuilder("POST /v2/models/")
            .append(model)
            .append("/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n");
    for (String header : headers) {
      head.append(header).append("\r\n");
    }
    head.append("Content-Length: ").append(contentLength).append("\r\n\r\n");
    return head.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A server with the model echo that keeps {@code bytes} for request bodies (--body-memory). */
  private TestServer echoKeepingForBodies(long bytes) {
    Path repository = temporary.resolve("repository");
    Repositories.fake(repository, "echo", Repositories.MB);
    return new TestServer(repository, http -> http.withBodyMemory(new DataSize(bytes)));
  }

  /** A server whose --min-body-rate is {@code bytesPerSecond} (0: none). */
  private static TestServer wantingRate(Path repository, long bytesPerSecond) {
    return new TestServer(repository, http -> http.withMinBodyRate(new DataSize(bytesPerSecond)));
  }

  /** The JSON padded with spaces to {@code length} bytes (still the same JSON). */
  private static String padded(String json, int length) {
    return json + " ".repeat(length - json.length());
  }

  /** Reads one HTTP/1.1 response with a Content-Length from a keep-alive connection. */
  private static String readResponse(InputStream in) throws IOException {
    String head = readHead(in);
    int length = (int) Math.max(0, contentLength(head));
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** Reads a response's status line and headers, up to and with the blank line after them. */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int next = in.read();
      if (next < 0) {
        throw new IOException("closed after " + head);
      }
      head.append((char) next);
    }
    return head.toString();
  }

  /** The Content-Length a response's head declares; -1 when it declares none. */
  private static long contentLength(String head) {
    long length = -1;
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Long.parseLong(line.substring(15).trim());
      }
    }
    return length;
  }

  record RawReply(int status, String body) {}

  /** Sends a request exactly as written, without a client normalizing its path. */
  static RawReply raw(TestServer server, String method, String path, String body)
      throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.server.port())) {
      socket.setSoTimeout(30_000);
      byte[] content = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(
          (method
                  + " "
                  + path
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                  + content.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(content);
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(response.substring(9, 12));
      int start = response.indexOf("\r\n\r\n");
      return new RawReply(status, start < 0 ? "" : response.substring(start + 4).trim());
    }
  }
}
