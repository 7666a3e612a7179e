package dev.hangar.http.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * The load generator's client, in the manner of wrk: one thread drives every keep-alive connection
 * through a selector, each connection with one request in flight (a closed loop). A thread per
 * connection would cost the machine a context switch per request, CPU that a small machine's server
 * then lacks. It sends a request prepared as bytes once and reads what the server under test sends
 * (a status line, headers, a {@code Content-Length} body) and nothing more.
 */
final class EventLoopClient {
  private final InetSocketAddress address;
  private final byte[] request;
  private final int connections;

  /**
   * Prepares a client posting {@code body} to {@code uri}.
   *
   * @param headerLength the {@code Inference-Header-Content-Length} to send, or null for none
   */
  EventLoopClient(URI uri, byte[] body, String contentType, Integer headerLength, int connections) {
    this.address = new InetSocketAddress(uri.getHost(), uri.getPort());
    this.connections = connections;
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
    this.request = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
  }

  /**
   * What one run counted while {@code recording} was set.
   *
   * @param clientCpuNanos the CPU time the client itself used meanwhile, or -1 when not known
   */
  record Counts(long completed, long failed, Histogram latency, long clientCpuNanos) {}

  /**
   * Connects, then exchanges requests until {@code stop} is set, counting those that complete while
   * {@code recording} is set. Any failure other than a non-200 status ends the run.
   *
   * @param started called once every connection is open
   */
  Counts run(AtomicBoolean recording, AtomicBoolean stop, Runnable started) throws IOException {
    Histogram latency = new Histogram(60_000_000_000L, 3);
    long completed = 0;
    long failed = 0;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpuAtStart = -1;
    long cpuUsed = 0;
    List<Connection> open = new ArrayList<>();
    try (Selector selector = Selector.open()) {
      for (int i = 0; i < connections; i++) {
        SocketChannel channel = SocketChannel.open(address);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.configureBlocking(false);
        Connection connection = new Connection(channel);
        open.add(connection);
        channel.register(selector, SelectionKey.OP_WRITE, connection);
      }
      started.run();
      while (!stop.get()) {
        boolean recordingNow = recording.get();
        if (recordingNow && cpuAtStart < 0) {
          cpuAtStart = threads.getCurrentThreadCpuTime();
        } else if (!recordingNow && cpuAtStart >= 0 && cpuUsed == 0) {
          cpuUsed = threads.getCurrentThreadCpuTime() - cpuAtStart;
        }
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          Connection connection = (Connection) key.attachment();
          if (key.isWritable()) {
            if (connection.write()) {
              key.interestOps(SelectionKey.OP_READ);
            }
          } else if (key.isReadable()) {
            int status = connection.read();
            if (status == 0) {
              continue;
            }
            if (recordingNow) {
              if (status == 200) {
                latency.recordValue(System.nanoTime() - connection.sentAt);
                completed++;
              } else {
                failed++;
              }
            }
            connection.reset();
            key.interestOps(connection.write() ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
          }
        }
        selector.selectedKeys().clear();
      }
      if (cpuAtStart >= 0 && cpuUsed == 0) {
        cpuUsed = threads.getCurrentThreadCpuTime() - cpuAtStart; // stopped as recording ended
      }
    } finally {
      for (Connection connection : open) {
        connection.channel.close();
      }
    }
    return new Counts(completed, failed, latency, cpuUsed);
  }

  /** One connection: the request being written, then the answer being read. */
  private final class Connection {
    private final SocketChannel channel;
    private final ByteBuffer out = ByteBuffer.wrap(request);
    private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
    private long sentAt = System.nanoTime();
    private int headEnd = -1;
    private int contentLength = -1;

    Connection(SocketChannel channel) {
      this.channel = channel;
    }

    /** Writes what it can of the request; returns whether all of it is written. */
    boolean write() throws IOException {
      if (out.position() == 0) {
        sentAt = System.nanoTime();
      }
      channel.write(out);
      return !out.hasRemaining();
    }

    /** Reads what has arrived; returns the status once the whole answer is in, else 0. */
    int read() throws IOException {
      if (!in.hasRemaining()) {
        ByteBuffer larger = ByteBuffer.allocate(in.capacity() * 2);
        larger.put(in.flip());
        in = larger;
      }
      if (channel.read(in) < 0) {
        throw new IOException("the server closed a connection");
      }
      byte[] bytes = in.array();
      int filled = in.position();
      if (headEnd < 0) {
        headEnd = indexOfBlankLine(bytes, filled);
        if (headEnd < 0) {
          return 0;
        }
        contentLength = contentLength(bytes, headEnd);
      }
      if (filled < headEnd + contentLength) {
        return 0;
      }
      if (filled > headEnd + contentLength) {
        throw new IOException("the server sent more than one answer");
      }
      if (filled < 12 || bytes[0] != 'H' || bytes[8] != ' ') {
        throw new IOException("not an HTTP/1.1 status line");
      }
      return (bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0');
    }

    void reset() {
      out.clear();
      in.clear();
      headEnd = -1;
      contentLength = -1;
    }
  }

  /** The index just past the head's closing blank line, or -1. */
  private static int indexOfBlankLine(byte[] bytes, int length) {
    for (int i = 3; i < length; i++) {
      if (bytes[i] == '\n' && bytes[i - 1] == '\r' && bytes[i - 2] == '\n') {
        return i + 1;
      }
    }
    return -1;
  }

  private static int contentLength(byte[] bytes, int headEnd) throws IOException {
    String head = new String(bytes, 0, headEnd, StandardCharsets.US_ASCII);
    for (String line : head.split("\r\n")) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        return Integer.parseInt(line.substring(15).trim());
      }
    }
    throw new IOException("an answer without Content-Length: " + head);
  }
}
