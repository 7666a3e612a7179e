package dev.hangar.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Request bodies in the binary tensor data extension's layout, and responses taken apart. */
final class BinaryBodies {
  private BinaryBodies() {}

  /** A JSON header followed by binary parts. */
  record Body(byte[] bytes, int headerLength) {
    String[] headers() {
      return new String[] {
        "Content-Type",
        "application/octet-stream",
        "Inference-Header-Content-Length",
        Integer.toString(headerLength)
      };
    }
  }

  static Body of(String header, byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    out.writeBytes(json);
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return new Body(out.toByteArray(), json.length);
  }

  /** A binary response: its JSON header and the binary data of each binary output, in order. */
  record Parts(String header, List<byte[]> data) {}

  static Parts split(TestServer.Reply reply) {
    String length = reply.header("Inference-Header-Content-Length");
    if (length == null) {
      return new Parts(reply.text(), List.of());
    }
    int headerLength = Integer.parseInt(length);
    String header = new String(reply.body(), 0, headerLength, StandardCharsets.UTF_8);
    List<byte[]> data = new ArrayList<>();
    int offset = headerLength;
    try {
      for (var output : TestServer.JSON.readTree(header).path("outputs")) {
        if (output.path("parameters").has("binary_data_size")) {
          int size = output.path("parameters").path("binary_data_size").asInt();
          data.add(Arrays.copyOfRange(reply.body(), offset, offset + size));
          offset += size;
        }
      }
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    if (offset != reply.body().length) {
      throw new AssertionError(
          "binary response has " + (reply.body().length - offset) + " unclaimed bytes");
    }
    return new Parts(header, data);
  }
}
