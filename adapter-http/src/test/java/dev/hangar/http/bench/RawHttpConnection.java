package dev.hangar.http.bench;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection that sends a request prepared as bytes once and reads the
 * status and body of each answer: the load generator's client, in the manner of wrk, so that the
 * client takes as little as possible of the CPU it shares with the server. It handles what the
 * server under test sends (a status line, headers, a {@code Content-Length} body) and nothing more.
 */
final class RawHttpConnection implements Closeable {
  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;
  private final byte[] request;
  private byte[] body = new byte[4096];

  private RawHttpConnection(Socket socket, byte[] request) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    this.request = request;
  }

  /** Connects to {@code uri}'s host and port; each {@link #exchange} posts {@code body} there. */
  static RawHttpConnection open(URI uri, byte[] body, String contentType, Integer headerLength)
      throws IOException {
    StringBuilder head =
        new StringBuilder()
            .append("POST ")
            .append(uri.getRawPath())
            .append(" HTTP/1.1\r\nHost: ")
            .append(uri.getHost())
            .append(':')
            .append(uri.getPort())
            .append("\r\nContent-Type: ")
            .append(contentType)
            .append("\r\nContent-Length: ")
            .append(body.length)
            .append("\r\n");
    if (headerLength != null) {
      head.append("Inference-Header-Content-Length: ").append(headerLength).append("\r\n");
    }
    byte[] headBytes = head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
    socket.setSoTimeout(60_000);
    return new RawHttpConnection(socket, request);
  }

  /** Sends the request and reads the whole answer; returns its status code. */
  int exchange() throws IOException {
    out.write(request);
    out.flush();
    String statusLine = line();
    if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
      throw new IOException("not an HTTP/1.1 status line: " + statusLine);
    }
    int status = Integer.parseInt(statusLine.substring(9, 12));
    int length = -1;
    for (String header = line(); !header.isEmpty(); header = line()) {
      if (header.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(header.substring(15).trim());
      }
    }
    if (length < 0) {
      throw new IOException("an answer without Content-Length (status " + status + ")");
    }
    if (body.length < length) {
      body = new byte[length];
    }
    if (in.readNBytes(body, 0, length) != length) {
      throw new IOException("the connection closed inside an answer");
    }
    return status;
  }

  private String line() throws IOException {
    StringBuilder line = new StringBuilder(64);
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("the connection closed");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
