package dev.hangar.http;

import static dev.hangar.http.Repositories.MB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hangar.spi.BackendException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every endpoint on a real socket: the v2 core API, the extensions, the error statuses, and the
 * responses against the spec's schemas.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class V2EndpointsTest {
  static final String FEATURES = "[0.2, 0.1, 0.5, 0.3, 0.1, 0.6, 0.8, 0.4, 0.5, 0.2]";

  Path repository;
  TestServer server;

  @BeforeAll
  void start(@TempDir Path temporary) {
    repository = temporary;
    Repositories.copySample(repository, "quality_predictor");
    Repositories.fake(repository, "echo", MB);
    Repositories.fake(repository, "idle", MB);
    Repositories.fake(
        repository, "multi", "a=FP32 -1,2;b=INT64 -1,2", "c=FP32 -1,2;d=INT64 -1,2", MB);
    Repositories.fake(repository, "text", "s=BYTES -1,1", "t=BYTES -1,1", MB);
    Repositories.fake(repository, "rows", "v=FP32 -1,-1", "w=FP32 -1,-1", MB);
    Repositories.fake(repository, "grid", "g=FP32 -1,-1,-1", "h=FP32 -1,-1,-1", MB);
    Repositories.fake(repository, "broken", MB, "fail=load");
    Repositories.fake(repository, "faulty", MB);
    Repositories.fake(repository, "failing", MB);
    Repositories.fake(repository, "shaky", MB);
    Repositories.config(
        repository, "shaky", "health: {max_error_rate: 0.2, min_requests: 4, window: 1h}\n");
    // estimated at (at least) its file size: more than the 4GB budget can ever hold
    Repositories.fake(repository, "huge", 5L << 30);
    server = new TestServer(repository, http -> http);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Health and metadata

  @Test
  void liveReadyAndServerMetadata() {
    TestServer.Reply live = server.get("/v2/health/live");
    assertThat(live.status()).isEqualTo(200);
    V2Schemas.assertValid("live_server_response", live.json());
    assertThat(live.json().path("live").asBoolean()).isTrue();

    TestServer.Reply ready = server.get("/v2/health/ready");
    assertThat(ready.status()).as(ready.text()).isEqualTo(200);
    V2Schemas.assertValid("ready_server_response", ready.json());

    for (String path : List.of("/v2", "/v2/")) {
      TestServer.Reply metadata = server.get(path);
      assertThat(metadata.status()).isEqualTo(200);
      assertThat(metadata.header("Content-Type")).startsWith("application/json");
      V2Schemas.assertValid("metadata_server_response", metadata.json());
      assertThat(metadata.json().path("name").asText()).isEqualTo("hangar");
      assertThat(metadata.json().path("version").asText()).isNotBlank();
      assertThat(metadata.json().path("extensions"))
          .extracting(JsonNode::asText)
          .containsExactlyInAnyOrder(
              "binary_tensor_data",
              "model_repository",
              "schedule_policy",
              "statistics",
              "model_configuration");
    }
  }

  @Test
  void modelMetadataWithAndWithoutVersion() {
    for (String path :
        List.of("/v2/models/quality_predictor", "/v2/models/quality_predictor/versions/1")) {
      TestServer.Reply reply = server.get(path);
      assertThat(reply.status()).as(reply.text()).isEqualTo(200);
      V2Schemas.assertValid("metadata_model_response", reply.json());
      assertThat(reply.text())
          .isEqualTo(
              "{\"name\":\"quality_predictor\",\"versions\":[\"1\"],\"platform\":\"onnxruntime_onnx\","
                  + "\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,10]}],"
                  + "\"outputs\":[{\"name\":\"ssim\",\"datatype\":\"FP32\",\"shape\":[-1,1]}]}");
    }
  }

  @Test
  void modelReadinessFollowsTheModelsState() {
    TestServer.Reply ready = server.get("/v2/models/quality_predictor/ready");
    assertThat(ready.status()).isEqualTo(200);
    V2Schemas.assertValid("ready_model_response", ready.json());
    assertThat(ready.json().path("ready").asBoolean()).isTrue();
    assertThat(server.get("/v2/models/quality_predictor/versions/1/ready").status()).isEqualTo(200);

    TestServer.Reply idle = server.get("/v2/models/idle/ready");
    assertThat(idle.status()).isEqualTo(503);
    assertThat(idle.header("Retry-After")).isEqualTo("1");
    V2Schemas.assertValid("ready_model_response", idle.json());
    assertThat(idle.json().path("ready").asBoolean()).isFalse();
    assertThat(idle.json().path("error").asText()).contains("AVAILABLE");
    // a probe by HEAD sees what GET sees, without the body
    TestServer.Reply idleHead = head("/v2/models/idle/ready");
    assertThat(idleHead.status()).isEqualTo(503);
    assertThat(idleHead.header("Retry-After")).isEqualTo("1");
    assertThat(idleHead.header("Content-Type")).isEqualTo(V2Endpoints.JSON_TYPE);
    assertThat(idleHead.header("Content-Length")).isEqualTo(Integer.toString(idle.body().length));
    assertThat(idleHead.body()).isEmpty();
    assertThat(head("/v2/models/nope/ready").status()).isEqualTo(404);
    assertThat(head("/v2/models/quality_predictor/ready").status()).isEqualTo(200);

    assertThat(server.post("/v2/repository/models/idle/load", "").status()).isEqualTo(200);
    assertThat(server.get("/v2/models/idle/ready").status()).isEqualTo(200);
    assertThat(server.get("/v2/models/idle/versions/2/ready").status()).isEqualTo(404);
  }

  @Test
  void aRepositoryLoadReadsTheModelAgain(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    try (TestServer loads = new TestServer(repository)) {
      assertThat(loads.post("/v2/models/m/infer", LimitsAndSecurityTest.ECHO).status())
          .isEqualTo(200);

      Repositories.fakeVersion(repository, "m", 2);
      assertThat(loads.post("/v2/repository/models/m/load", "").status()).isEqualTo(200);
      assertThat(loads.get("/v2/models/m").json().path("versions").toString()).isEqualTo("[\"2\"]");

      Repositories.config(repository, "m", "max_batch_sise: 4\n");
      TestServer.Reply broken = loads.post("/v2/repository/models/m/load", "");
      assertThat(broken.status()).as(broken.text()).isEqualTo(400);
      assertThat(broken.json().path("error").asText())
          .startsWith("model 'm' cannot be read again, and serves what it loaded before")
          .contains("max_batch_sise");
      TestServer.Reply answer = loads.post("/v2/models/m/infer", LimitsAndSecurityTest.ECHO);
      assertThat(answer.json().path("model_version").asText()).isEqualTo("2");

      Repositories.delete(repository.resolve("m"));
      assertThat(loads.post("/v2/repository/models/m/load", "").status()).isEqualTo(404);
      assertThat(loads.post("/v2/models/m/infer", LimitsAndSecurityTest.ECHO).status())
          .isEqualTo(404);
    }
  }

  @Test
  void aModelReloadingWhileItsPreviousInstanceServesIsReady(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    try (TestServer reloads = new TestServer(repository)) {
      assertThat(reloads.post("/v2/repository/models/m/load", "").status()).isEqualTo(200);
      dev.hangar.testkit.fake.Gate loads = reloads.engine.holdLoads("m");
      Repositories.config(repository, "m", "max_batch_size: 4\n");
      java.util.concurrent.CompletableFuture<TestServer.Reply> reload =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> reloads.post("/v2/repository/models/m/load", ""));
      loads.awaitArrivals(1);
      try {
        TestServer.Reply ready = reloads.get("/v2/models/m/ready");
        assertThat(ready.status()).as(ready.text()).isEqualTo(200);
        assertThat(reloads.get("/v2/models/m/versions/1/ready").status()).isEqualTo(200);
        TestServer.Reply index = reloads.post("/v2/repository/index", "{\"ready\": true}");
        assertThat(index.json().findValuesAsText("name")).contains("m");
        assertThat(index.json().get(0).path("state").asText()).isEqualTo("LOADING");
        assertThat(reloads.metric("hangar_model_ready{model=\"m\",version=\"1\"}")).isEqualTo(1.0);
        assertThat(reloads.post("/v2/models/m/infer", LimitsAndSecurityTest.ECHO).status())
            .isEqualTo(200);
      } finally {
        loads.open();
      }
      assertThat(reload.join().status()).isEqualTo(200);
    }
  }

  @Test
  void aModelWhoseConfigCannotBeReadSaysSoForAnyVersion(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    Repositories.config(repository, "m", "max_batch_sise: 4\n");
    try (TestServer unreadable = new TestServer(repository)) {
      for (String path : List.of("/v2/models/m/ready", "/v2/models/m/versions/1/ready")) {
        TestServer.Reply ready = unreadable.get(path);
        assertThat(ready.status()).as(path).isEqualTo(503);
        V2Schemas.assertValid("ready_model_response", ready.json());
        assertThat(ready.json().has("version")).as("no version 0 that does not exist").isFalse();
        assertThat(ready.json().path("error").asText())
            .startsWith("model 'm' is FAILED (")
            .contains("max_batch_sise");
      }
      TestServer.Reply load = unreadable.post("/v2/repository/models/m/load", "");
      assertThat(load.status()).as("what is wrong is in its files: a user error").isEqualTo(400);
      assertThat(load.json().path("error").asText()).contains("max_batch_sise");
      for (String path : List.of("/v2/models/m/infer", "/v2/models/m/versions/1/infer")) {
        TestServer.Reply answer = unreadable.post(path, LimitsAndSecurityTest.ECHO);
        assertThat(answer.status()).as(path).isEqualTo(503);
        assertThat(answer.json().path("error").asText())
            .startsWith("model 'm' cannot be served")
            .contains("max_batch_sise");
      }
    }
  }

  @Test
  void aVersionThatFailedToLoadLeavesThePreviousOneServedAndNamed(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    Repositories.config(repository, "m", "load_at_startup: true\n");
    try (TestServer versions = new TestServer(repository)) {
      Repositories.fakeVersion(repository, "m", 2, "fail=load");
      versions.manager.refresh().join();
      assertThat(versions.get("/v2/models/m/versions/2/ready").status()).isEqualTo(503);

      // version 1 answers requests without a version: named, it answers too, and is listed
      TestServer.Reply answer = versions.post("/v2/models/m/infer", LimitsAndSecurityTest.ECHO);
      assertThat(answer.json().path("model_version").asText()).isEqualTo("1");
      // a raw binary request takes its version's signature, then runs on that version by number
      TestServer.Reply raw =
          versions.post(
              "/v2/models/m/infer",
              new byte[16],
              "Content-Type",
              "application/octet-stream",
              "Inference-Header-Content-Length",
              "0");
      assertThat(raw.status()).as(raw.text()).isEqualTo(200);
      assertThat(raw.header("Inference-Header-Content-Length")).isNotNull();
      TestServer.Reply named =
          versions.post("/v2/models/m/versions/1/infer", LimitsAndSecurityTest.ECHO);
      assertThat(named.status()).as(named.text()).isEqualTo(200);
      assertThat(named.json().path("model_version").asText()).isEqualTo("1");
      for (String path : List.of("/v2/models/m", "/v2/models/m/versions/1")) {
        TestServer.Reply metadata = versions.get(path);
        assertThat(metadata.status()).as(metadata.text()).isEqualTo(200);
        assertThat(metadata.json().path("versions").toString()).isEqualTo("[\"2\",\"1\"]");
      }
      TestServer.Reply config = versions.get("/v2/models/m/versions/1/config");
      assertThat(config.json().path("loaded").asBoolean()).isTrue();
      assertThat(config.json().path("versions").toString()).isEqualTo("[\"2\",\"1\"]");
      assertThat(versions.get("/v2/models/m/versions/1/ready").status()).isEqualTo(200);
      TestServer.Reply other = versions.get("/v2/models/m/versions/3");
      assertThat(other.status()).isEqualTo(404);
      assertThat(other.json().path("error").asText()).contains("served versions: [2, 1]");
    }
  }

  @Test
  void configShowsTheEffectiveConfiguration() {
    TestServer.Reply reply = server.get("/v2/models/quality_predictor/config");
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    JsonNode config = reply.json();
    assertThat(config.path("name").asText()).isEqualTo("quality_predictor");
    assertThat(config.path("backend").asText()).isEqualTo("onnx");
    assertThat(config.path("max_batch_size").asInt()).isEqualTo(64);
    assertThat(config.path("load_at_startup").asBoolean()).isTrue();
    assertThat(config.path("parameters").path("intra_op_threads").asText()).isEqualTo("1");
    assertThat(config.path("inputs").get(0).path("shape").toString()).isEqualTo("[-1,10]");
    assertThat(config.path("dynamic_batching").path("priority_levels").asInt()).isEqualTo(3);
    assertThat(server.get("/v2/models/quality_predictor/versions/1/config").status())
        .isEqualTo(200);

    assertThat(config.path("optimization").isNull()).isTrue();

    TestServer.Reply unloaded = server.get("/v2/models/broken/config");
    assertThat(unloaded.status()).isEqualTo(200);
    assertThat(unloaded.json().path("loaded").asBoolean()).isFalse();
    assertThat(unloaded.json().path("max_batch_size").isNull()).isTrue();
  }

  @Test
  void configShowsTheOptimizationAsConfigYamlWritesIt(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    Repositories.config(
        repository, "m", "optimization: {level: basic, int8: true, per_channel: true}\n");
    try (TestServer optimizing = new TestServer(repository)) {
      JsonNode optimization = optimizing.get("/v2/models/m/config").json().path("optimization");
      assertThat(optimization.toString())
          .isEqualTo(
              "{\"level\":\"basic\",\"int8\":true,\"int8_tolerance\":0.01,\"per_channel\":true}");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Inference

  @Test
  void inferJsonMatchesTheReferenceOutputs() throws Exception {
    List<String> reference =
        Files.readAllLines(TestServer.MODELS.resolve("reference/quality_predictor.txt"));
    String row = reference.get(4).trim().replace(' ', ',');
    float expected = Float.parseFloat(reference.get(13).trim());
    TestServer.Reply reply =
        server.post(
            "/v2/models/quality_predictor/infer",
            "{\"id\": \"req-7\", \"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\","
                + " \"shape\": [1, 10], \"data\": [["
                + row
                + "]]}]}");
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    V2Schemas.assertValid("inference_response", reply.json());
    JsonNode body = reply.json();
    assertThat(body.path("model_name").asText()).isEqualTo("quality_predictor");
    assertThat(body.path("model_version").asText()).isEqualTo("1");
    assertThat(body.path("id").asText()).isEqualTo("req-7");
    JsonNode output = body.path("outputs").get(0);
    assertThat(output.path("name").asText()).isEqualTo("ssim");
    assertThat(output.path("datatype").asText()).isEqualTo("FP32");
    assertThat(output.path("shape").toString()).isEqualTo("[1,1]");
    assertThat((float) output.path("data").get(0).asDouble())
        .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5f));
  }

  @Test
  void nestedAndFlatDataGiveTheSameAnswerAndNoIdMeansNoId() {
    TestServer.Reply flat = inferQuality("[" + FEATURES.substring(1, FEATURES.length() - 1) + "]");
    TestServer.Reply nested = inferQuality("[" + FEATURES + "]");
    assertThat(flat.status()).isEqualTo(200);
    assertThat(nested.text()).isEqualTo(flat.text());
    assertThat(flat.json().has("id")).isFalse();
  }

  @Test
  void binaryInputsAndOutputsCarryTheSameBitsAsJson() {
    ByteBuffer data = featureBytes();
    BinaryBodies.Body body =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
                + " \"parameters\": {\"binary_data_size\": 40}}],"
                + " \"parameters\": {\"binary_data_output\": true}}",
            data.array());
    TestServer.Reply binary =
        server.post("/v2/models/quality_predictor/infer", body.bytes(), body.headers());
    assertThat(binary.status()).as(binary.text()).isEqualTo(200);
    assertThat(binary.header("Content-Type")).isEqualTo("application/octet-stream");
    BinaryBodies.Parts parts = BinaryBodies.split(binary);
    V2Schemas.assertValid("inference_response", json(parts.header()));
    assertThat(
            json(parts.header())
                .path("outputs")
                .get(0)
                .path("parameters")
                .path("binary_data_size")
                .asInt())
        .isEqualTo(4);
    float fromBinary =
        ByteBuffer.wrap(parts.data().get(0)).order(ByteOrder.LITTLE_ENDIAN).getFloat();

    TestServer.Reply json = inferQuality("[" + FEATURES + "]");
    float fromJson = (float) json.json().path("outputs").get(0).path("data").get(0).asDouble();
    assertThat(Float.floatToRawIntBits(fromBinary)).isEqualTo(Float.floatToRawIntBits(fromJson));

    // binary_data on an input without a size: the size follows from the shape
    BinaryBodies.Body implied =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
                + " \"parameters\": {\"binary_data\": true}}]}",
            data.array());
    TestServer.Reply impliedReply =
        server.post("/v2/models/quality_predictor/infer", implied.bytes(), implied.headers());
    assertThat(impliedReply.status()).as(impliedReply.text()).isEqualTo(200);
    assertThat(impliedReply.header("Inference-Header-Content-Length")).isNull();
    assertThat(impliedReply.text()).isEqualTo(json.text());
  }

  @Test
  void answersOf1500BytesOrMoreAreGzippedForClientsThatAcceptIt() throws Exception {
    String values = String.join(", ", java.util.Collections.nCopies(500, "0.125"));
    for (String parameters : List.of("{}", "{\"binary_data_output\": true}")) {
      // the fake "rows" answers as many values as it is given
      String body =
          "{\"parameters\": "
              + parameters
              + ", \"inputs\": [{\"name\": \"v\", \"datatype\": \"FP32\", \"shape\": [1, 500],"
              + " \"data\": ["
              + values
              + "]}]}";
      TestServer.Reply plain = server.post("/v2/models/rows/infer", body);
      TestServer.Reply gzipped = postAcceptingGzip("/v2/models/rows/infer", body);
      assertThat(plain.status()).as(plain.text()).isEqualTo(200);
      assertThat(plain.body().length).isGreaterThanOrEqualTo(1500);
      assertThat(plain.header("Content-Encoding")).isNull();
      assertThat(plain.header("Content-Type")).isIn(V2Endpoints.JSON_TYPE, V2Endpoints.BINARY_TYPE);
      assertThat(gzipped.status()).isEqualTo(200);
      assertThat(gzipped.header("Content-Encoding")).isEqualTo("gzip");
      assertThat(gzipped.header("Content-Type")).isEqualTo(plain.header("Content-Type"));
      assertThat(gzipped.header("Inference-Header-Content-Length"))
          .isEqualTo(plain.header("Inference-Header-Content-Length"));
      try (var unzip =
          new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body()))) {
        assertThat(unzip.readAllBytes()).isEqualTo(plain.body());
      }
      // every answer says its length, compressed or not
      assertThat(plain.header("Content-Length")).isEqualTo(Integer.toString(plain.body().length));
      assertThat(gzipped.header("Content-Length"))
          .isEqualTo(Integer.toString(gzipped.body().length));
      TestServer.Reply refused =
          server.send(
              java.net.http.HttpRequest.newBuilder(server.uri.resolve("/v2/models/rows/infer"))
                  .header("Accept-Encoding", "gzip;q=0, br")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
      assertThat(refused.header("Content-Encoding")).isNull();
      assertThat(refused.body()).isEqualTo(plain.body());
      // the form depends on the request: caches are told so, whichever form went out
      assertThat(List.of(plain, gzipped, refused))
          .allSatisfy(reply -> assertThat(reply.header("Vary")).isEqualTo("Accept-Encoding"));
    }
    // small answers go out as they are
    TestServer.Reply small =
        postAcceptingGzip("/v2/models/quality_predictor/infer", inferBody(FEATURES));
    assertThat(small.status()).isEqualTo(200);
    assertThat(small.header("Content-Encoding")).isNull();
    assertThat(small.header("Vary")).as("never compressed, whatever was asked").isNull();
    assertThat(small.json().path("outputs").get(0).path("data").size()).isEqualTo(1);
  }

  @Test
  void gzipAndDeflateRequestBodiesAreInflated() throws Exception {
    String path = "/v2/models/quality_predictor/infer";
    byte[] json = inferBody(FEATURES).getBytes(StandardCharsets.UTF_8);
    TestServer.Reply plain = inferQuality(FEATURES);
    assertThat(plain.status()).isEqualTo(200);
    for (String encoding : List.of("gzip", "deflate", "GZIP")) {
      TestServer.Reply reply =
          server.post(
              path,
              TestServer.compress(encoding, json),
              "Content-Type",
              "application/json",
              "Content-Encoding",
              encoding);
      assertThat(reply.status()).as(encoding + ": " + reply.text()).isEqualTo(200);
      assertThat(reply.text()).isEqualTo(plain.text());
    }
    // a binary request's Inference-Header-Content-Length counts the inflated JSON
    byte[] header =
        ("{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10],"
                + " \"parameters\": {\"binary_data_size\": 40}}]}")
            .getBytes(StandardCharsets.UTF_8);
    byte[] binary =
        ByteBuffer.allocate(header.length + 40).put(header).put(featureBytes().array()).array();
    TestServer.Reply inflatedBinary =
        server.post(
            path,
            TestServer.compress("gzip", binary),
            "Inference-Header-Content-Length",
            Integer.toString(header.length),
            "Content-Encoding",
            "gzip");
    assertThat(inflatedBinary.status()).as(inflatedBinary.text()).isEqualTo(200);
    assertThat(inflatedBinary.text()).isEqualTo(plain.text());

    TestServer.Reply brotli = server.post(path, json, "Content-Encoding", "br");
    assertThat(brotli.status()).isEqualTo(415);
    V2Schemas.assertValid("error_response", brotli.json());
    assertThat(brotli.json().path("error").asText())
        .isEqualTo(
            "Content-Encoding 'br' is not supported; send the body as it is, or gzip or deflate"
                + " it");
    assertThat(error(server.post(path, json, "Content-Encoding", "gzip")))
        .startsWith("the request body is not valid gzip data: ");
    assertThat(
            error(
                server.post(
                    path, TestServer.compress("gzip", json), "Content-Encoding", "deflate")))
        .startsWith("the request body is not valid deflate data: ");
    assertThat(server.post(path, json, "Content-Encoding", "identity").text())
        .isEqualTo(plain.text());
  }

  private TestServer.Reply head(String path) {
    return server.send(
        java.net.http.HttpRequest.newBuilder(server.uri.resolve(path))
            .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()));
  }

  private TestServer.Reply postAcceptingGzip(String path, String json) {
    return server.send(
        java.net.http.HttpRequest.newBuilder(server.uri.resolve(path))
            .header("Content-Type", "application/json")
            .header("Accept-Encoding", "gzip")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json)));
  }

  @Test
  void rawBinaryRequestsTakeTheOnlyInputsShapeFromTheModel() {
    ByteBuffer data = featureBytes();
    String[] raw = {
      "Content-Type", "application/octet-stream", "Inference-Header-Content-Length", "0"
    };
    // one row of quality_predictor's [-1, 10]; every output comes back binary
    TestServer.Reply reply = server.post("/v2/models/quality_predictor/infer", data.array(), raw);
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    BinaryBodies.Parts parts = BinaryBodies.split(reply);
    V2Schemas.assertValid("inference_response", json(parts.header()));
    assertThat(json(parts.header()).path("outputs").get(0).path("shape").toString())
        .isEqualTo("[1,1]");
    float fromRaw = ByteBuffer.wrap(parts.data().get(0)).order(ByteOrder.LITTLE_ENDIAN).getFloat();
    TestServer.Reply fromJson = inferQuality("[" + FEATURES + "]");
    assertThat(Float.floatToRawIntBits(fromRaw))
        .isEqualTo(
            Float.floatToRawIntBits(
                (float) fromJson.json().path("outputs").get(0).path("data").get(0).asDouble()));

    // the one free dimension after the batch dimension follows from the body's size
    byte[] twelve = new byte[12];
    TestServer.Reply rows = server.post("/v2/models/rows/infer", twelve, raw);
    assertThat(rows.status()).as(rows.text()).isEqualTo(200);
    assertThat(
            json(BinaryBodies.split(rows).header()).path("outputs").get(0).path("shape").toString())
        .isEqualTo("[1,3]");
    // a BYTES input takes the whole body as its one element
    TestServer.Reply text =
        server.post("/v2/models/text/infer", "héllo".getBytes(StandardCharsets.UTF_8), raw);
    assertThat(text.status()).as(text.text()).isEqualTo(200);
    byte[] element = BinaryBodies.split(text).data().get(0);
    assertThat(ByteBuffer.wrap(element).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(6);
    assertThat(new String(element, 4, 6, StandardCharsets.UTF_8)).isEqualTo("héllo");

    assertThat(error(server.post("/v2/models/quality_predictor/infer", new byte[44], raw)))
        .contains("the body has 44 bytes, but input 'features' (FP32, shape [-1, 10]) takes 40");
    assertThat(error(server.post("/v2/models/rows/infer", new byte[6], raw)))
        .contains("takes a positive multiple of 4 bytes");
    assertThat(error(server.post("/v2/models/multi/infer", new byte[8], raw)))
        .contains("needs a model with exactly one input, but 'multi' has [a, b]");
    assertThat(error(server.post("/v2/models/grid/infer", new byte[8], raw)))
        .contains("at most one free dimension");
    assertThat(server.post("/v2/models/nosuch/infer", new byte[8], raw).status()).isEqualTo(404);
  }

  @Test
  void outputsAreChosenOrderedAndEncodedPerOutput() {
    String inputs =
        "\"inputs\": [{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1.5, -2]},"
            + " {\"name\": \"b\", \"datatype\": \"INT64\", \"shape\": [1, 2], \"data\": [7, -9]}]";
    TestServer.Reply reply =
        server.post(
            "/v2/models/multi/infer",
            "{"
                + inputs
                + ", \"parameters\": {\"binary_data_output\": true},"
                + " \"outputs\": [{\"name\": \"d\"}, {\"name\": \"c\", \"parameters\": {\"binary_data\": false}}]}");
    assertThat(reply.status()).as(reply.text()).isEqualTo(200);
    BinaryBodies.Parts parts = BinaryBodies.split(reply);
    JsonNode header = json(parts.header());
    V2Schemas.assertValid("inference_response", header);
    assertThat(header.path("outputs").get(0).path("name").asText()).isEqualTo("d");
    assertThat(header.path("outputs").get(0).has("data")).isFalse();
    assertThat(header.path("outputs").get(1).path("name").asText()).isEqualTo("c");
    assertThat(header.path("outputs").get(1).path("data").toString()).isEqualTo("[3.0,-4.0]");
    ByteBuffer d = ByteBuffer.wrap(parts.data().get(0)).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new long[] {d.getLong(), d.getLong()}).containsExactly(7, -9);

    TestServer.Reply one =
        server.post("/v2/models/multi/infer", "{" + inputs + ", \"outputs\": [{\"name\": \"c\"}]}");
    assertThat(one.json().path("outputs")).hasSize(1);
    TestServer.Reply unknown =
        server.post("/v2/models/multi/infer", "{" + inputs + ", \"outputs\": [{\"name\": \"e\"}]}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.json().path("error").asText()).contains("unknown output 'e'");
  }

  @Test
  void schedulePolicyParametersReachTheRequest() {
    assertThat(inferQualityWith("{\"priority\": 1, \"timeout\": 5000000}").status()).isEqualTo(200);
    assertThat(inferQualityWith("{\"priority\": 0, \"timeout\": 0}").status()).isEqualTo(200);
    TestServer.Reply outOfRange = inferQualityWith("{\"priority\": 9}");
    assertThat(outOfRange.status()).isEqualTo(400);
    assertThat(outOfRange.json().path("error").asText()).contains("priority must be from 1");
    assertThat(inferQualityWith("{\"priority\": \"high\"}").status()).isEqualTo(400);
    assertThat(inferQualityWith("{\"timeout\": -5}").status()).isEqualTo(400);
    assertThat(inferQualityWith("{\"binary_data_output\": \"yes\"}").status()).isEqualTo(400);
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  @Test
  void badRequestsAre400WithOneLineErrors() {
    List<String> bodies =
        List.of(
            "{not json",
            "[1, 2]",
            "{}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"INT64\", \"shape\": [1, 10], \"data\": [1,2,3,4,5,6,7,8,9,10]}]}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 2]}]}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": [1, 2]}]}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FLOAT\", \"shape\": [1, 1], \"data\": [1]}]}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": [\"x\",2,3,4,5,6,7,8,9,10]}]}",
            "{\"id\": 7, \"inputs\": []}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10]}]}",
            "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [9223372036854775807, 10], \"data\": [1]}]}",
            "{\"inputs\": []} trailing");
    for (String body : bodies) {
      TestServer.Reply reply = server.post("/v2/models/quality_predictor/infer", body);
      assertThat(reply.status()).as(body + " -> " + reply.text()).isEqualTo(400);
      V2Schemas.assertValid("error_response", reply.json());
      assertThat(reply.json().path("error").asText())
          .doesNotContain("\n")
          .doesNotContain("at dev.");
    }
    assertThat(error(server.post("/v2/models/quality_predictor/infer", classifying("2"))))
        .startsWith("output 'ssim': parameter \"classification\" is not supported");
    for (String none : List.of("0", "null")) {
      TestServer.Reply reply = server.post("/v2/models/quality_predictor/infer", classifying(none));
      assertThat(reply.status())
          .as("classification " + none + " asks for none, as in Triton")
          .isEqualTo(200);
    }
    // each error names its input or output, its request-level parameters likewise
    String badBinary =
        inferBody("[" + FEATURES + "]")
            .replace(
                "]}]",
                "], \"parameters\": {\"binary_data\": 1}}], \"outputs\": [{\"name\": \"ssim\","
                    + " \"parameters\": {\"binary_data\": \"yes\"}}]");
    assertThat(error(server.post("/v2/models/quality_predictor/infer", badBinary)))
        .isEqualTo("input 'features' parameter \"binary_data\" must be true or false, got 1");
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    badBinary.replace("\"binary_data\": 1", "\"binary_data\": false"))))
        .isEqualTo("output 'ssim' parameter \"binary_data\" must be true or false, got \"yes\"");
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    inferBody("[" + FEATURES + "]").replace("]}]", "]}], \"parameters\": 3"))))
        .isEqualTo("the request's \"parameters\" must be a JSON object");
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    inferBody("[" + FEATURES + "]").replace("]}]", "], \"parameters\": []}]"))))
        .isEqualTo("input 'features' parameters must be a JSON object");
    assertThat(error(server.post("/v2/models/quality_predictor/infer", bodies.get(10))))
        .isEqualTo("tensor 'features' shape [9223372036854775807, 10] has too many elements");
    // two rows of five for a shape [1, 10]: nested unlike the shape, so likely not what was meant
    assertThat(error(inferQuality("[[0.2, 0.1, 0.5, 0.3, 0.1], [0.6, 0.8, 0.4, 0.5, 0.2]]")))
        .isEqualTo(
            "tensor 'features' shape [1, 10]: data[0] has 5 entries where the shape has 10; nest"
                + " the data like the shape or send it flat");
  }

  @Test
  void jsonThatDoesNotParseIsNamedWithWhereItBreaks() {
    String input =
        "{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": "
            + FEATURES
            + "}";
    // the last of two "inputs" used to win silently: here, no inputs at all
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    "{\"inputs\": [" + input + "], \"inputs\": []}")))
        .isEqualTo("the request is not valid JSON: Duplicate field 'inputs' at line 1, column 142");
    // Jackson's own message names its source and settings: "[Source: REDACTED (`StreamRead...`"
    assertThat(error(server.post("/v2/models/quality_predictor/infer", "{\"inputs\": [1, 2")))
        .isEqualTo(
            "the request is not valid JSON: Unexpected end-of-input: expected close marker for"
                + " Array (start marker at line 1, column 12) at line 1, column 17");
  }

  @Test
  void fieldsTheProtocolDoesNotDefineAreRefusedNamingTheField() {
    String row = "\"data\": " + FEATURES;
    String input =
        "{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], " + row + "}";
    // a misspelled "outputs" would otherwise answer with every output
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    "{\"inputs\": [" + input + "], \"ouputs\": [{\"name\": \"ssim\"}]}")))
        .isEqualTo(
            "the request: unknown field \"ouputs\"; known: [id, inputs, outputs, parameters]");
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    "{\"inputs\": [" + input.replace(row, row + ", \"paramters\": {}") + "]}")))
        .isEqualTo(
            "input 'features': unknown field \"paramters\"; known: [data, datatype, name,"
                + " parameters, shape]");
    assertThat(
            error(
                server.post(
                    "/v2/models/quality_predictor/infer",
                    "{\"inputs\": ["
                        + input
                        + "], \"outputs\": [{\"name\": \"ssim\", \"binary_data\": true}]}")))
        .isEqualTo("output 'ssim': unknown field \"binary_data\"; known: [name, parameters]");
    // what parameters carry is free, as the protocol has it
    TestServer.Reply free =
        server.post(
            "/v2/models/quality_predictor/infer",
            "{\"id\": \"7\", \"parameters\": {\"anything\": 1}, \"inputs\": ["
                + input.replace(row, row + ", \"parameters\": {\"mine\": true}")
                + "], \"outputs\": [{\"name\": \"ssim\", \"parameters\": {\"x\": 2}}]}");
    assertThat(free.status()).as(free.text()).isEqualTo(200);
  }

  @Test
  void badBinaryBodiesAre400() {
    byte[] eight = new byte[8];
    String header =
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
            + " \"parameters\": {\"binary_data_size\": SIZE}}]}";
    BinaryBodies.Body shortData = BinaryBodies.of(header.replace("SIZE", "16"), eight);
    assertThat(error(server.post("/v2/models/echo/infer", shortData.bytes(), shortData.headers())))
        .contains("only 8 bytes of binary data remain");
    BinaryBodies.Body wrongSize = BinaryBodies.of(header.replace("SIZE", "8"), eight);
    assertThat(error(server.post("/v2/models/echo/infer", wrongSize.bytes(), wrongSize.headers())))
        .contains("needs 16 bytes");
    BinaryBodies.Body leftover = BinaryBodies.of(header.replace("SIZE", "16"), new byte[20]);
    assertThat(error(server.post("/v2/models/echo/infer", leftover.bytes(), leftover.headers())))
        .contains("4 bytes of binary data follow");
    // binary data, but the input does not say it takes it
    BinaryBodies.Body unclaimed =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4]}]}",
            new byte[16]);
    assertThat(error(server.post("/v2/models/echo/infer", unclaimed.bytes(), unclaimed.headers())))
        .isEqualTo(
            "input 'x' has no \"data\", and binary data follows the JSON header: to take its data"
                + " from there, give it \"parameters\": {\"binary_data_size\": N}, the size of its"
                + " data in bytes");
    assertThat(
            error(
                server.post(
                    "/v2/models/echo/infer",
                    shortData.bytes(),
                    "Inference-Header-Content-Length",
                    "100000")))
        .contains("Inference-Header-Content-Length is 100000");
    assertThat(
            error(
                server.post(
                    "/v2/models/echo/infer",
                    shortData.bytes(),
                    "Inference-Header-Content-Length",
                    "x")))
        .contains("must be a non-negative integer");
    BinaryBodies.Body badBytes =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"shape\": [1],"
                + " \"parameters\": {\"binary_data_size\": 6}}]}",
            new byte[] {9, 0, 0, 0, 'a', 'b'});
    assertThat(error(server.post("/v2/models/echo/infer", badBytes.bytes(), badBytes.headers())))
        .contains("bad length 9");
    BinaryBodies.Body overflowing =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\":"
                + " [9223372036854775807, 4], \"parameters\": {\"binary_data_size\": 8}}]}",
            eight);
    assertThat(
            error(server.post("/v2/models/echo/infer", overflowing.bytes(), overflowing.headers())))
        .isEqualTo("input 'x' shape [9223372036854775807, 4] has too many elements");
    // no binary_data_size: the size follows from the shape, whose count fits a long, its bytes not
    BinaryBodies.Body impliedOverflow =
        BinaryBodies.of(
            "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\":"
                + " [2305843009213693952, 1], \"parameters\": {\"binary_data\": true}}]}",
            eight);
    assertThat(
            error(
                server.post(
                    "/v2/models/echo/infer", impliedOverflow.bytes(), impliedOverflow.headers())))
        .isEqualTo("input 'x' shape [2305843009213693952, 1] has too many elements");
  }

  @Test
  void unknownModelsVersionsAndEndpointsAre404() {
    TestServer.Reply model = server.post("/v2/models/quality_predicter/infer", "{\"inputs\": []}");
    assertThat(model.status()).isEqualTo(404);
    V2Schemas.assertValid("error_response", model.json());
    assertThat(model.json().path("error").asText()).contains("did you mean 'quality_predictor'");
    // the unknown model is named even when the body is wrong as well
    for (String body : List.of("{}", "not json")) {
      TestServer.Reply wrongTwice = server.post("/v2/models/quality_predicter/infer", body);
      assertThat(wrongTwice.status()).isEqualTo(404);
      assertThat(wrongTwice.json().path("error").asText()).contains("did you mean");
    }
    // a timeout too short for anything: still the unknown model, not a deadline of a load that
    // never was (the deadline's timer raced the refusal)
    String timed =
        "{\"parameters\": {\"timeout\": 1}, \"inputs\": [{\"name\": \"x\", \"datatype\":"
            + " \"FP32\", \"shape\": [1, 1], \"data\": [0]}]}";
    for (int i = 0; i < 50; i++) {
      TestServer.Reply timedOut = server.post("/v2/models/quality_predicter/infer", timed);
      assertThat(timedOut.status()).as(timedOut.text()).isEqualTo(404);
    }
    assertThat(server.post("/v2/models/quality_predictor/infer", "{}").status()).isEqualTo(400);
    assertThat(
            server
                .post("/v2/models/quality_predictor/versions/7/infer", "not json")
                .json()
                .path("error")
                .asText())
        .contains("no version 7");
    assertThat(server.get("/v2/models/nope").status()).isEqualTo(404);
    assertThat(server.get("/v2/models/nope/ready").status()).isEqualTo(404);
    assertThat(server.get("/v2/models/nope/stats").status()).isEqualTo(404);
    assertThat(server.get("/v2/models/nope/config").status()).isEqualTo(404);

    TestServer.Reply version =
        server.post(
            "/v2/models/quality_predictor/versions/7/infer", inferBody("[" + FEATURES + "]"));
    assertThat(version.status()).isEqualTo(404);
    assertThat(version.json().path("error").asText()).contains("no version 7");
    assertThat(server.get("/v2/models/quality_predictor/versions/0").status()).isEqualTo(400);

    TestServer.Reply endpoint = server.get("/v3/anything");
    assertThat(endpoint.status()).isEqualTo(404);
    V2Schemas.assertValid("error_response", endpoint.json());
  }

  @Test
  void aPathAskedWithAMethodItDoesNotTakeIs405NamingTheMethodsItTakes() {
    TestServer.Reply getInfer = server.get("/v2/models/quality_predictor/infer");
    assertThat(getInfer.status()).isEqualTo(405);
    assertThat(getInfer.header("Allow")).isEqualTo("POST");
    V2Schemas.assertValid("error_response", getInfer.json());
    assertThat(getInfer.json().path("error").asText())
        .isEqualTo("GET is not allowed on /v2/models/quality_predictor/infer; it takes POST");

    TestServer.Reply deleteLive =
        server.send(
            java.net.http.HttpRequest.newBuilder(server.uri.resolve("/v2/health/live")).DELETE());
    assertThat(deleteLive.status()).isEqualTo(405);
    assertThat(deleteLive.header("Allow")).isEqualTo("GET, HEAD");
    assertThat(deleteLive.json().path("error").asText())
        .isEqualTo("DELETE is not allowed on /v2/health/live; it takes GET, HEAD");
  }

  @Test
  void aModelThatFailsToLoadIs503WithRetryAfter() {
    TestServer.Reply reply = server.post("/v2/models/broken/infer", echoBody());
    assertThat(reply.status()).as(reply.text()).isEqualTo(503);
    assertThat(reply.header("Retry-After")).isEqualTo("1");
    V2Schemas.assertValid("error_response", reply.json());
    assertThat(reply.json().path("error").asText()).contains("failed to load");
  }

  @Test
  void aModelOverTheMemoryBudgetIs507() {
    TestServer.Reply reply = server.post("/v2/models/huge/infer", echoBody());
    assertThat(reply.status()).as(reply.text()).isEqualTo(507);
    V2Schemas.assertValid("error_response", reply.json());
    assertThat(reply.json().path("error").asText()).contains("memory budget");
    assertThat(server.get("/v2/models/huge").status()).isEqualTo(507);
  }

  @Test
  void engineFailuresAre500WithoutStackTraces() {
    assertThat(server.post("/v2/models/faulty/infer", echoBody()).status()).isEqualTo(200);
    assertThat(server.post("/v2/models/failing/infer", echoBody()).status()).isEqualTo(200);
    server.engine.failExecutions("faulty", new IllegalStateException("secret detail"));
    TestServer.Reply bug = server.post("/v2/models/faulty/infer", echoBody());
    assertThat(bug.status()).isEqualTo(500);
    V2Schemas.assertValid("error_response", bug.json());
    assertThat(bug.json().path("error").asText())
        .isEqualTo("internal error: IllegalStateException (logged by the server)");

    server.engine.failExecutions("failing", new BackendException("the engine ran out of arena"));
    TestServer.Reply engine = server.post("/v2/models/failing/infer", echoBody());
    assertThat(engine.status()).isEqualTo(500);
    assertThat(engine.json().path("error").asText()).isEqualTo("the engine ran out of arena");
    assertThat(engine.text()).doesNotContain("at dev.hangar");
  }

  @Test
  void aVersionPastItsHealthThresholdsIsShownDegradedAndStillServes() {
    assertThat(server.post("/v2/models/shaky/infer", echoBody()).status()).isEqualTo(200);
    assertThat(indexEntry("shaky").path("hangar").path("health").asText()).isEqualTo("HEALTHY");
    assertThat(indexEntry("shaky").path("hangar").path("health_reason").isNull()).isTrue();
    String degraded = "hangar_model_degraded{model=\"shaky\",version=\"1\"}";
    assertThat(value(server.get("/metrics").text(), degraded)).isZero();

    server.engine.failExecutions("shaky", new BackendException("the engine ran out of arena"));
    for (int i = 0; i < 3; i++) {
      assertThat(server.post("/v2/models/shaky/infer", echoBody()).status()).isEqualTo(500);
    }

    JsonNode hangar = indexEntry("shaky").path("hangar");
    assertThat(hangar.path("health").asText()).isEqualTo("DEGRADED");
    assertThat(hangar.path("health_reason").asText())
        .isEqualTo("error rate 75.0% over the last 1h passes 20.0%");
    assertThat(hangar.path("state").asText()).isEqualTo("READY");
    assertThat(server.get("/v2/models/shaky/ready").status()).isEqualTo(200);
    assertThat(value(server.get("/metrics").text(), degraded)).isEqualTo(1);
    server.engine.failExecutions("shaky", (RuntimeException) null);
  }

  private JsonNode indexEntry(String model) {
    for (JsonNode entry : server.post("/v2/repository/index", "").json()) {
      if (entry.path("name").asText().equals(model)) {
        return entry;
      }
    }
    throw new AssertionError("no index entry for " + model);
  }

  @Test
  void everyCategoryHasItsStatus() {
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.USER_ERROR)).isEqualTo(400);
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.NOT_FOUND)).isEqualTo(404);
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.UNAVAILABLE)).isEqualTo(503);
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.INSUFFICIENT_RESOURCES))
        .isEqualTo(507);
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.BACKEND_FAILURE)).isEqualTo(500);
    assertThat(ErrorResponses.status(dev.hangar.spi.ErrorCategory.INTERNAL)).isEqualTo(500);
    // queue-full and deadline errors are UNAVAILABLE, so 503 with Retry-After
    assertThat(new dev.hangar.core.inference.QueueFullException("full").category())
        .isEqualTo(dev.hangar.spi.ErrorCategory.UNAVAILABLE);
    assertThat(new dev.hangar.core.inference.DeadlineExceededException("late").category())
        .isEqualTo(dev.hangar.spi.ErrorCategory.UNAVAILABLE);
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics, repository, metrics

  @Test
  void statisticsInTritonsShape() {
    assertThat(inferQuality("[" + FEATURES + "]").status()).isEqualTo(200);
    TestServer.Reply all = server.get("/v2/models/stats");
    assertThat(all.status()).isEqualTo(200);
    V2Schemas.assertValid("model_statistics_response", all.json());
    TestServer.Reply one = server.get("/v2/models/quality_predictor/stats");
    V2Schemas.assertValid("model_statistics_response", one.json());
    JsonNode stats = one.json().path("model_stats").get(0);
    assertThat(stats.path("name").asText()).isEqualTo("quality_predictor");
    assertThat(stats.path("version").asText()).isEqualTo("1");
    assertThat(stats.path("inference_count").asLong()).isPositive();
    assertThat(stats.path("execution_count").asLong()).isPositive();
    assertThat(stats.path("last_inference").asLong()).isPositive();
    assertThat(stats.path("inference_stats").path("success").path("count").asLong()).isPositive();
    assertThat(stats.path("inference_stats").path("success").path("ns").asLong()).isPositive();
    JsonNode inference = stats.path("inference_stats");
    long executed = inference.path("compute_infer").path("count").asLong();
    assertThat(executed).isPositive();
    assertThat(inference.path("compute_infer").path("ns").asLong()).isPositive();
    for (String phase : List.of("compute_input", "compute_output")) {
      assertThat(inference.path(phase).path("count").asLong()).as(phase).isEqualTo(executed);
      assertThat(inference.path(phase).path("ns").asLong()).as(phase).isNotNegative();
    }
    JsonNode batch = stats.path("batch_stats").get(0);
    assertThat(batch.path("batch_size").asInt()).isEqualTo(1);
    assertThat(batch.path("compute_input").path("count").asLong()).isPositive();
    JsonNode memory = stats.path("memory_usage");
    assertThat(memory.size()).as("what the loaded version holds").isEqualTo(1);
    assertThat(memory.get(0).path("type").asText()).isEqualTo("CPU");
    assertThat(memory.get(0).path("byte_size").asLong())
        .isEqualTo(server.manager.status("quality_predictor").get(0).memoryBytes())
        .isPositive();
    TestServer.Reply versioned = server.get("/v2/models/quality_predictor/versions/1/stats");
    assertThat(versioned.status()).isEqualTo(200);
    assertThat(versioned.json()).as("nothing ran in between").isEqualTo(one.json());
    assertThat(server.get("/v2/models/quality_predictor/versions/3/stats").status()).isEqualTo(404);
  }

  @Test
  void repositoryIndexLoadAndUnload() {
    TestServer.Reply index = server.post("/v2/repository/index", "");
    assertThat(index.status()).isEqualTo(200);
    V2Schemas.assertValid("repository_index_response", index.json());
    assertThat(index.json())
        .extracting(node -> node.path("name").asText())
        .contains("quality_predictor", "echo", "huge");

    TestServer.Reply load = server.post("/v2/repository/models/multi/load", "{}");
    assertThat(load.status()).as(load.text()).isEqualTo(200);
    TestServer.Reply ready = server.post("/v2/repository/index", "{\"ready\": true}");
    V2Schemas.assertValid("repository_index_response", ready.json());
    JsonNode loaded =
        java.util.stream.StreamSupport.stream(ready.json().spliterator(), false)
            .filter(node -> node.path("name").asText().equals("multi"))
            .findFirst()
            .orElseThrow()
            .path("hangar");
    assertThat(loaded.path("state").asText()).isEqualTo("READY");
    assertThat(loaded.path("format").asText()).isEqualTo("fake");
    assertThat(loaded.path("memory_bytes").asLong()).isPositive();
    assertThat(loaded.path("pinned").isBoolean()).isTrue();
    assertThat(loaded.has("last_used")).isTrue();
    assertThat(loaded.path("active_requests").asInt()).isZero();
    assertThat(ready.json())
        .extracting(node -> node.path("name").asText())
        .contains("multi")
        .doesNotContain("huge");
    assertThat(ready.json())
        .allSatisfy(node -> assertThat(node.path("state").asText()).isEqualTo("READY"));

    TestServer.Reply unload = server.post("/v2/repository/models/multi/unload", "");
    assertThat(unload.status()).as(unload.text()).isEqualTo(200);
    JsonNode multi =
        java.util.stream.StreamSupport.stream(
                server.post("/v2/repository/index", "").json().spliterator(), false)
            .filter(node -> node.path("name").asText().equals("multi"))
            .findFirst()
            .orElseThrow();
    assertThat(multi.path("state").asText()).isEqualTo("UNAVAILABLE");
    assertThat(multi.path("reason").asText()).startsWith("unloaded");
    assertThat(multi.path("hangar").path("state").asText()).isEqualTo("UNLOADED");
    assertThat(multi.path("hangar").path("memory_bytes").asLong()).isZero();

    assertThat(server.post("/v2/repository/models/nope/load", "").status()).isEqualTo(404);
    assertThat(server.post("/v2/repository/models/nope/unload", "").status()).isEqualTo(404);
    assertThat(
            server
                .post(
                    "/v2/repository/models/multi/load",
                    "{\"parameters\": {\"priority\": \"urgent\"}}")
                .status())
        .isEqualTo(400);
    assertThat(
            server
                .post(
                    "/v2/repository/models/multi/load",
                    "{\"parameters\": {\"priority\": \"high\"}}")
                .status())
        .isEqualTo(200);
    assertThat(server.post("/v2/repository/models/multi/load", "[").status()).isEqualTo(400);
    // one line, not Jackson's location lines
    assertThat(error(server.post("/v2/repository/models/multi/load", "{")))
        .startsWith("the request body is not valid JSON: ")
        .doesNotContain("\n");
    assertThat(
            error(
                server.post(
                    "/v2/repository/models/multi/load",
                    "{\"parameters\": {\"priority\": \"high\", \"priority\": \"normal\"}}")))
        .isEqualTo(
            "the request body is not valid JSON: Duplicate field 'priority' at line 1, column 47");
    assertThat(error(server.post("/v2/repository/models/multi/load", "{} {}")))
        .startsWith("the request body is not valid JSON: Trailing token");
    // misspelled or unsupported fields are refused by name, not ignored
    assertThat(
            error(
                server.post(
                    "/v2/repository/models/multi/load", "{\"parameters\": {\"config\": \"{}\"}}")))
        .isEqualTo("load parameters: unknown field \"config\"; known: [priority]");
    assertThat(error(server.post("/v2/repository/models/multi/load", "{\"priority\": \"high\"}")))
        .isEqualTo("the load request: unknown field \"priority\"; known: [parameters]");
    assertThat(error(server.post("/v2/repository/index", "{\"ready\": \"yes\"}")))
        .isEqualTo("\"ready\" must be true or false, got \"yes\"");
    assertThat(error(server.post("/v2/repository/index", "{\"readyy\": true}")))
        .isEqualTo("the index request: unknown field \"readyy\"; known: [ready]");
    assertThat(
            error(
                server.post(
                    "/v2/repository/models/multi/unload",
                    "{\"parameters\": {\"unload_dependents\": 1}}")))
        .isEqualTo("unload parameter \"unload_dependents\" must be true or false, got 1");
    assertThat(
            server
                .post(
                    "/v2/repository/models/multi/unload",
                    "{\"parameters\": {\"unload_dependents\": true}}")
                .status())
        .isEqualTo(200);
  }

  @Test
  void prometheusMetricsComeFromCoresStatistics() {
    assertThat(inferQuality("[" + FEATURES + "]").status()).isEqualTo(200);
    assertThat(server.post("/v2/models/quality_predictor/infer", "{\"inputs\": []}").status())
        .isEqualTo(400);
    TestServer.Reply metrics = server.get("/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.header("Content-Type")).startsWith("text/plain");
    String text = metrics.text();
    String labels = "{model=\"quality_predictor\",version=\"1\"}";
    assertThat(text)
        .contains("nv_inference_request_success_total" + labels)
        .contains(
            "nv_inference_request_failure_total{model=\"quality_predictor\",reason=\"invalid_input\",version=\"1\"}")
        .contains("nv_inference_count_total" + labels)
        .contains("nv_inference_exec_count_total" + labels)
        .contains("nv_inference_request_duration_us_total" + labels)
        .contains("nv_inference_queue_duration_us_total" + labels)
        .contains("nv_inference_compute_input_duration_us_total" + labels)
        .contains("nv_inference_compute_infer_duration_us_total" + labels)
        .contains("nv_inference_compute_output_duration_us_total" + labels)
        .contains("nv_cache_num_hits_per_model_total" + labels)
        .contains("nv_cache_num_misses_per_model_total" + labels)
        .contains("hangar_model_memory_bytes" + labels)
        .contains("nv_inference_pending_request_count" + labels + " 0.0")
        .contains("hangar_model_load_duration_seconds_count" + labels)
        .contains("# TYPE hangar_inference_request_latency_seconds summary")
        .contains(
            "hangar_inference_request_latency_seconds{model=\"quality_predictor\",version=\"1\",quantile=\"0.99\"}")
        .contains("hangar_inference_request_latency_seconds_count" + labels)
        .contains("hangar_inference_request_latency_seconds_sum" + labels)
        .contains("hangar_memory_budget_bytes 4.294967296E9")
        .contains("hangar_memory_used_bytes ")
        .contains("hangar_process_resident_memory_bytes")
        .contains("hangar_models_loaded")
        // the JVM's own: the budget covers the heap too
        .contains("jvm_memory_used_bytes{area=\"heap\"")
        .contains("jvm_memory_max_bytes{area=\"heap\"")
        .contains("jvm_threads_live_threads")
        .contains("process_cpu_usage")
        .contains("jvm_gc_collections_total{gc=")
        .contains("jvm_gc_collection_seconds_total{gc=")
        .contains("hangar_http_body_bytes ");
    assertThat(value(text, "jvm_threads_live_threads")).isGreaterThan(1);
    assertThat(value(text, "hangar_memory_used_bytes"))
        .as("the larger of resident memory and the accounted total")
        .isGreaterThanOrEqualTo(value(text, "hangar_memory_accounted_bytes"));
    // the latency summary counts the successes, and its quantiles are latencies of them
    assertThat(value(text, "hangar_inference_request_latency_seconds_count" + labels))
        .isEqualTo(value(text, "nv_inference_request_success_total" + labels))
        .isGreaterThanOrEqualTo(1);
    assertThat(value(text, "hangar_inference_request_latency_seconds_sum" + labels))
        .isPositive()
        .isEqualTo(
            value(text, "nv_inference_request_duration_us_total" + labels) / 1e6, within(2e-6));
    // answers by status class, those that never reach a model included
    double clientErrors = value(text, "hangar_http_responses_total{status=\"4xx\"}");
    assertThat(value(text, "hangar_http_responses_total{status=\"2xx\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(clientErrors).isGreaterThanOrEqualTo(1);
    assertThat(server.get("/v2/no/such/path").status()).isEqualTo(404);
    assertThat(server.post("/v2/models/quality_predictor/infer", "{oops").status()).isEqualTo(400);
    // an answer is counted as Jetty completes it, which may come just after the client has it
    double counted = clientErrors;
    for (int poll = 0; poll < 50 && counted < clientErrors + 2; poll++) {
      counted = value(server.get("/metrics").text(), "hangar_http_responses_total{status=\"4xx\"}");
    }
    assertThat(counted).isEqualTo(clientErrors + 2);
    assertThat(value(text, "nv_inference_request_success_total" + labels))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            value(
                text,
                "nv_inference_request_failure_total{model=\"quality_predictor\",reason=\"invalid_input\",version=\"1\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(value(text, "hangar_model_load_duration_seconds_count" + labels)).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void metricsNameUnreadableModelsCountFailedLoadsAndWarmupAndGiveNoQuantileBeforeARequest(
      @TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    Repositories.config(repository, "m", "load_at_startup: true\n");
    Repositories.fake(repository, "broken", MB, "fail=load");
    Repositories.fake(repository, "misspelt", MB);
    Repositories.config(repository, "misspelt", "max_batch_sise: 4\n");
    try (TestServer metered = new TestServer(repository)) {
      assertThat(metered.post("/v2/models/broken/infer", LimitsAndSecurityTest.ECHO).status())
          .isGreaterThanOrEqualTo(500);
      String text = metered.get("/metrics").text();
      String m = "{model=\"m\",version=\"1\"}";

      assertThat(value(text, "hangar_model_unreadable{model=\"misspelt\"}")).isEqualTo(1);
      assertThat(value(text, "hangar_model_load_failures_total{model=\"broken\",version=\"1\"}"))
          .isEqualTo(1);
      assertThat(value(text, "hangar_model_load_failures_total" + m)).isZero();
      assertThat(value(text, "hangar_model_warmup_duration_seconds_count" + m)).isPositive();
      assertThat(value(text, "hangar_model_load_duration_seconds_count" + m)).isEqualTo(1);
      assertThat(
              text.lines()
                  .filter(line -> line.startsWith("hangar_inference_request_latency_seconds{"))
                  .filter(line -> line.contains("model=\"m\""))
                  .toList())
          .as("no request yet: no latency to report")
          .hasSize(3)
          .allMatch(line -> line.endsWith(" NaN"));

      Repositories.config(repository, "misspelt", "max_batch_size: 4\n");
      metered.manager.refresh().join();

      assertThat(metered.get("/metrics").text()).doesNotContain("hangar_model_unreadable{");
    }
  }

  @Test
  void configWritesDurationsInTheUnitsOfTheirKeysWithoutRoundingToZero(@TempDir Path repository) {
    Repositories.fake(repository, "m", MB);
    Repositories.config(
        repository,
        "m",
        "dynamic_batching: {max_queue_delay: 1500ns}\n"
            + "health: {max_p99_latency: 250us, window: 2m}\n");
    try (TestServer configured = new TestServer(repository)) {
      JsonNode config = configured.get("/v2/models/m/config").json();

      assertThat(config.path("dynamic_batching").path("max_queue_delay_us").asDouble())
          .isEqualTo(1.5);
      assertThat(config.path("health").path("max_p99_latency_ms").asDouble()).isEqualTo(0.25);
      assertThat(config.path("health").path("window_ms").isIntegralNumber()).isTrue();
      assertThat(config.path("health").path("window_ms").asLong()).isEqualTo(120_000);
    }
  }

  static double value(String metrics, String series) {
    return metrics
        .lines()
        .filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1).trim()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no series " + series + " in\n" + metrics));
  }

  private TestServer.Reply inferQuality(String data) {
    return server.post("/v2/models/quality_predictor/infer", inferBody(data));
  }

  private TestServer.Reply inferQualityWith(String parameters) {
    return server.post(
        "/v2/models/quality_predictor/infer",
        "{\"parameters\": "
            + parameters
            + ", \"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": "
            + FEATURES
            + "}]}");
  }

  /** A request for ssim with its {@code classification} parameter set to {@code value}. */
  private static String classifying(String value) {
    return inferBody("[" + FEATURES + "]")
        .replace(
            "]}]",
            "]}], \"outputs\": [{\"name\": \"ssim\", \"parameters\": {\"classification\": "
                + value
                + "}}]");
  }

  private static String inferBody(String data) {
    return "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 10], \"data\": "
        + data
        + "}]}";
  }

  private static String echoBody() {
    return "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}";
  }

  /** quality_predictor's FEATURES row as little-endian FP32 bytes. */
  private static ByteBuffer featureBytes() {
    float[] features = {0.2f, 0.1f, 0.5f, 0.3f, 0.1f, 0.6f, 0.8f, 0.4f, 0.5f, 0.2f};
    ByteBuffer data = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : features) {
      data.putFloat(value);
    }
    return data;
  }

  private static String error(TestServer.Reply reply) {
    assertThat(reply.status()).as(reply.text()).isEqualTo(400);
    return reply.json().path("error").asText();
  }

  private static JsonNode json(String text) {
    try {
      return TestServer.JSON.readTree(text);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
