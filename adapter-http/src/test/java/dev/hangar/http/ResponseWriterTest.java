package dev.hangar.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResponseWriterTest {
  @Test
  void gzipIsUsedOnlyWhenAcceptEncodingOffersItWithAQualityAboveZero() {
    assertThat(ResponseWriter.acceptsGzip("gzip")).isTrue();
    assertThat(ResponseWriter.acceptsGzip("GZIP")).isTrue();
    assertThat(ResponseWriter.acceptsGzip("x-gzip")).isTrue();
    assertThat(ResponseWriter.acceptsGzip("deflate, gzip;q=0.5")).isTrue();
    assertThat(ResponseWriter.acceptsGzip("br ; q=1, gzip ; Q=0.001")).isTrue();

    assertThat(ResponseWriter.acceptsGzip(null)).isFalse();
    assertThat(ResponseWriter.acceptsGzip("")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("identity")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("deflate, br")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("gzip;q=0")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("gzip; q=0.000")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("gzip;q=high")).isFalse();
    assertThat(ResponseWriter.acceptsGzip("gzipped")).isFalse();
    // "*" would allow it, but the client named no coding: answer as is, as Javalin did
    assertThat(ResponseWriter.acceptsGzip("*")).isFalse();
  }
}
