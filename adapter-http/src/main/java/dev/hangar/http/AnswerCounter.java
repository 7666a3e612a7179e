package dev.hangar.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Counts the answers of the requests that reach the server's handlers, by status class, for {@code
 * /metrics}. Core's statistics see only the requests that reach a model, not a body that does not
 * parse, an unknown model, a path that does not exist or an admin request without its token.
 * Requests Jetty refuses before any handler (a malformed request line, headers over its limit) are
 * not counted.
 */
final class AnswerCounter extends Handler.Wrapper {
  // index: the status's hundreds less one (1xx to 5xx)
  private final LongAdder[] byClass = new LongAdder[5];

  AnswerCounter(Handler handler) {
    super(handler);
    for (int i = 0; i < byClass.length; i++) {
      byClass[i] = new LongAdder();
    }
  }

  /** Registers {@code hangar_http_responses_total{status="1xx"..."5xx"}}. */
  void bindTo(MeterRegistry registry) {
    for (int i = 0; i < byClass.length; i++) {
      FunctionCounter.builder("hangar_http_responses", byClass[i], LongAdder::sum)
          .description("Answers by status class, whether or not the client received them")
          .tag("status", (i + 1) + "xx")
          .register(registry);
    }
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    return super.handle(
        request,
        response,
        new Callback.Nested(callback) {
          @Override
          public void succeeded() {
            count(response.getStatus());
            super.succeeded();
          }

          @Override
          public void failed(Throwable failure) {
            count(response.getStatus());
            super.failed(failure);
          }
        });
  }

  private void count(int status) {
    int hundreds = status / 100;
    if (hundreds >= 1 && hundreds <= byClass.length) {
      byClass[hundreds - 1].increment();
    }
  }
}
