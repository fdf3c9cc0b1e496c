package io.gputelemetry.web;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

/**
 * GET /metrics: the registry in the Prometheus text format, or in OpenMetrics when the scraper's
 * Accept prefers it (Prometheus asks for OpenMetrics first), gzipped when its Accept-Encoding
 * allows gzip. The scrape and the compression run on a worker thread of their own, one scrape at a
 * time: with thousands of GPUs a scrape takes milliseconds, which the event loop must not spend,
 * and a worker pool busy with Kafka sends must not delay it.
 */
final class MetricsEndpoint implements Handler<RoutingContext> {
  static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final WorkerExecutor worker;

  MetricsEndpoint(PrometheusMeterRegistry registry, WorkerExecutor worker) {
    this.registry = registry;
    this.worker = worker;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String type =
        prefersOpenMetrics(ctx.request().getHeader(HttpHeaders.ACCEPT)) ? OPENMETRICS : TEXT;
    boolean gzip = acceptsGzip(ctx.request().getHeader(HttpHeaders.ACCEPT_ENCODING));
    worker
        .executeBlocking(() -> scrape(type, gzip), false)
        .onSuccess(
            body -> {
              HttpServerResponse resp = ctx.response();
              if (resp.closed()) {
                return;
              }
              resp.putHeader(HttpHeaders.CONTENT_TYPE, type)
                  .putHeader(HttpHeaders.VARY, "Accept, Accept-Encoding");
              if (gzip) {
                resp.putHeader(HttpHeaders.CONTENT_ENCODING, "gzip");
              }
              resp.end(body);
            })
        .onFailure(ctx::fail);
  }

  private Buffer scrape(String type, boolean gzip) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
    try (OutputStream out = gzip ? new GZIPOutputStream(bytes, 8192) : bytes) {
      // Micrometer picks the writer from the content type: OpenMetrics or the text format.
      registry.scrape(out, type);
    }
    return Buffer.buffer(bytes.toByteArray());
  }

  /**
   * Whether an Accept header prefers OpenMetrics to the text format: it names {@code
   * application/openmetrics-text} with a quality above 0 and at least that of {@code text/plain}.
   * Absent, a wildcard alone, or anything else: the text format.
   */
  static boolean prefersOpenMetrics(String accept) {
    double openMetrics = 0;
    double text = 0;
    for (String[] range : ranges(accept)) {
      double q = quality(range);
      switch (range[0]) {
        case "application/openmetrics-text" -> openMetrics = Math.max(openMetrics, q);
        case "text/plain" -> text = Math.max(text, q);
        default -> {}
      }
    }
    return openMetrics > 0 && openMetrics >= text;
  }

  /**
   * Whether an Accept-Encoding header allows gzip: {@code gzip} (or {@code x-gzip}) with a quality
   * above 0, or, when it names neither, {@code *} with a quality above 0.
   */
  static boolean acceptsGzip(String acceptEncoding) {
    double gzip = -1;
    double any = -1;
    for (String[] coding : ranges(acceptEncoding)) {
      double q = quality(coding);
      switch (coding[0]) {
        case "gzip", "x-gzip" -> gzip = Math.max(gzip, q);
        case "*" -> any = Math.max(any, q);
        default -> {}
      }
    }
    return gzip >= 0 ? gzip > 0 : any > 0;
  }

  /** The comma-separated elements of a header, each split at ';', trimmed, in lower case. */
  private static String[][] ranges(String header) {
    if (header == null || header.isBlank()) {
      return new String[0][];
    }
    String[] elements = header.split(",", -1);
    String[][] out = new String[elements.length][];
    for (int i = 0; i < elements.length; i++) {
      String[] parts = elements[i].split(";", -1);
      for (int j = 0; j < parts.length; j++) {
        parts[j] = parts[j].trim().toLowerCase(Locale.ROOT);
      }
      out[i] = parts;
    }
    return out;
  }

  /** The q parameter of a split element, 1 when absent, 0 when unreadable. */
  private static double quality(String[] element) {
    for (int i = 1; i < element.length; i++) {
      String p = element[i];
      if (p.startsWith("q=")) {
        try {
          double q = Double.parseDouble(p.substring(2).trim());
          return q >= 0 && q <= 1 ? q : 0;
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
  }
}
