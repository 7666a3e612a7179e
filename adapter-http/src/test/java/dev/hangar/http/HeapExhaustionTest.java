package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hangar.core.config.DataSize;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a server whose heap runs out answers. The server runs in a child JVM with a small heap, so
 * that the test's own heap is never at risk and the heap's size is known.
 */
class HeapExhaustionTest {
  // the child's answers, one a line, apart from whatever else it prints (its logs)
  private static final String ANSWER = "answer: ";
  // a JSON request of ZEROS zeros as FP64, 160MB of tensor: its text up to the first zero
  private static final int ZEROS = 20_000_000;
  private static final String ZEROS_PREFIX =
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", \"shape\": [1, "
          + ZEROS
          + "], \"data\": [0";
  private static final int ZEROS_LENGTH = ZEROS_PREFIX.length() + 2 * (ZEROS - 1) + "]}]}".length();

  @Test
  void requestsTheHeapHasNoRoomForAre507AndTheServerGoesOn() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "-Xmx300m",
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName())
            .redirectErrorStream(true)
            .start();
    List<String> answers = new ArrayList<>();
    List<String> output = new ArrayList<>();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        output.add(line);
        if (line.startsWith(ANSWER)) {
          answers.add(line.substring(ANSWER.length()));
        }
      }
    } finally {
      if (!child.waitFor(120, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
    }
    String printed = String.join("\n", output);
    assertThat(child.exitValue()).as(printed).isZero();
    assertThat(answers).as(printed).hasSize(4);
    // 8M FP32 values asked for in JSON, about 90MB of text, in a 300MB heap that holds the
    // request and the outputs already: twice 507 naming the heap
    for (String refused : answers.subList(0, 2)) {
      assertThat(refused)
          .startsWith(
              "507 {\"error\":\"the server has no room in its heap for an answer of 8000000 output"
                  + " values now (the heap holds at most ")
          .contains("give the server more memory (--memory, or HANGAR_HEAP)");
    }
    // 20M zeros in JSON as FP64, 160MB of tensor, with more memory for bodies than the heap has
    assertThat(answers.get(2))
        .startsWith(
            "507 {\"error\":\"the server has no room in its heap for the tensors of a "
                + ZEROS_LENGTH
                + "-byte request now");
    // and the server goes on
    assertThat(answers.get(3)).startsWith("200 ").contains("\"data\":[2.0,4.0]");
  }

  /** Runs in the child JVM: a server with a fake echo model, asked for a JSON answer too large. */
  public static final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
      Path repository = Files.createTempDirectory("hangar-heap");
      Repositories.wide(repository);
      // more memory for bodies than the heap holds, so that the heap runs out before it does
      try (TestServer server =
          new TestServer(repository, http -> http.withBodyMemory(DataSize.ofMegabytes(1024)))) {
        int count = 8_000_000;
        byte[] header =
            ("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, "
                    + count
                    + "], \"parameters\": {\"binary_data_size\": "
                    + 4 * count
                    + "}}]}")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer body =
            ByteBuffer.allocate(header.length + 4 * count).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header);
        for (int i = 0; i < count; i++) {
          body.putFloat(1.2345678f * i); // values whose JSON text is long
        }
        for (int round = 0; round < 2; round++) {
          TestServer.Reply reply =
              server.post(
                  "/v2/models/wide/infer",
                  body.array(),
                  "Inference-Header-Content-Length",
                  Integer.toString(header.length));
          String text = reply.text();
          System.out.println(
              ANSWER + reply.status() + " " + text.substring(0, Math.min(text.length(), 500)));
        }
        body = null; // garbage: the heap needs the room
        byte[] json = new byte[ZEROS_LENGTH];
        byte[] prefix = ZEROS_PREFIX.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(prefix, 0, json, 0, prefix.length);
        for (int i = prefix.length; i < json.length - 4; i += 2) {
          json[i] = ',';
          json[i + 1] = '0';
        }
        System.arraycopy("]}]}".getBytes(StandardCharsets.UTF_8), 0, json, json.length - 4, 4);
        TestServer.Reply tensors = server.post("/v2/models/wide/infer", json);
        json = null;
        String text = tensors.text();
        System.out.println(
            ANSWER + tensors.status() + " " + text.substring(0, Math.min(text.length(), 500)));
        TestServer.Reply small =
            server.post(
                "/v2/models/wide/infer",
                "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 2],"
                    + " \"data\": [1, 2]}]}");
        System.out.println(ANSWER + small.status() + " " + small.text());
      }
    }
  }
}
