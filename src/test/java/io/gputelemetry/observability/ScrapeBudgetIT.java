package io.gputelemetry.observability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.JarProcess;
import io.vertx.core.json.JsonArray;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The size of a /metrics scrape of the built jar, against the bounds in docs/metrics.md ("Scrape
 * size"), and its formats: OpenMetrics for Prometheus, the text format otherwise, gzip when asked.
 */
class ScrapeBudgetIT {
  /** Buckets of one histogram series, +Inf included: the latency ladder has 15. */
  static final int MAX_BUCKETS_PER_SERIES = 16;

  /** Samples of a whole scrape of a standalone with its default simulator (8 GPUs). */
  static final int MAX_SAMPLES = 1_000;

  /** What Prometheus 2.x asks for. */
  static final String PROMETHEUS_ACCEPT =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
          + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static JarProcess jar;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    jar = JarProcess.start("--http-port", "0", "--rate", "20");
    await().atMost(Duration.ofSeconds(40)).until(() -> jar.find(HTTP) != null || !jar.alive());
    String port = jar.find(HTTP);
    assertNotNull(port, jar.output());
    base = "http://127.0.0.1:" + port;
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get("/health/ready", null, null).statusCode() == 200);
    // Ingest traffic, so that the HTTP server's histograms have POST series of several statuses.
    for (int i = 0; i < 5; i++) {
      post("/v1/token-usage", new JsonArray().add(Events.token("acme")));
      post("/v1/gpu-metrics", new JsonArray().add(Events.sample("GPU-budget-" + i)));
    }
    post("/v1/token-usage", new JsonArray().add(Events.token("acme").put("input_tokens", "x")));
    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> text(get("/metrics", null, null)).contains("gpu_uuid=\"GPU-budget-4\""));
  }

  @AfterAll
  static void stop() {
    if (jar != null) {
      jar.close();
    }
  }

  @Test
  void everyHistogramSeriesHasAFewBucketsAndTheScrapeStaysUnderItsBound() throws Exception {
    String scrape = text(get("/metrics", null, null));
    Map<String, Integer> buckets = new TreeMap<>();
    int samples = 0;
    for (String line : scrape.split("\n", -1)) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      samples++;
      int brace = line.indexOf('{');
      if (brace > 0 && line.substring(0, brace).endsWith("_bucket")) {
        // One series: the family and its labels but le.
        String series = line.substring(0, line.lastIndexOf(' ')).replaceAll(",?le=\"[^\"]*\"", "");
        buckets.merge(series, 1, Integer::sum);
      }
    }
    assertFalse(buckets.isEmpty(), scrape);
    for (Map.Entry<String, Integer> e : buckets.entrySet()) {
      assertTrue(
          e.getValue() <= MAX_BUCKETS_PER_SERIES,
          e.getKey() + " has " + e.getValue() + " buckets, more than " + MAX_BUCKETS_PER_SERIES);
    }
    assertTrue(samples <= MAX_SAMPLES, samples + " samples, more than " + MAX_SAMPLES);
    // The ladders themselves: sizes in decades, latencies with 30 s exactly (the freshness SLO and
    // the latency rules read that bucket).
    assertEquals(7, buckets.get("vertx_http_server_request_bytes_bucket{method=\"POST\"}"));
    assertEquals(
        15,
        buckets.get(
            "vertx_http_server_response_time_seconds_bucket{code=\"202\",method=\"POST\"}"));
    assertTrue(
        scrape.contains(
            "vertx_http_server_response_time_seconds_bucket{code=\"202\",method=\"POST\",le=\"30.0\"}"),
        scrape);
    assertTrue(
        Pattern.compile(
                "(?m)^telemetry_event_end_to_end_latency_seconds_bucket\\{topic=\"[^\"]+\",le=\"30.0\"\\}")
            .matcher(scrape)
            .find(),
        scrape);
  }

  @Test
  void prometheusGetsOpenMetricsWithTheSameSeries() throws Exception {
    Set<String> before = names(text(get("/metrics", null, null)));
    HttpResponse<byte[]> r = get("/metrics", PROMETHEUS_ACCEPT, null);
    Set<String> after = names(text(get("/metrics", null, null)));
    assertEquals(200, r.statusCode());
    assertEquals(
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        r.headers().firstValue("content-type").orElse(""));
    String body = text(r);
    assertTrue(body.endsWith("# EOF\n"), body.substring(Math.max(0, body.length() - 200)));
    assertTrue(body.contains("# TYPE telemetry_events_stored counter"), body);
    assertBetween(before, names(body), after);
  }

  @Test
  void aScraperAcceptingGzipGetsItGzipped() throws Exception {
    Set<String> before = names(text(get("/metrics", null, null)));
    HttpResponse<byte[]> gz = get("/metrics", null, "gzip");
    HttpResponse<byte[]> plain = get("/metrics", null, null);
    assertEquals(200, gz.statusCode());
    assertEquals("gzip", gz.headers().firstValue("content-encoding").orElse(""));
    assertEquals(
        "text/plain; version=0.0.4; charset=utf-8",
        gz.headers().firstValue("content-type").orElse(""));
    assertFalse(plain.headers().firstValue("content-encoding").isPresent());
    String decoded = gunzip(gz.body());
    assertTrue(decoded.contains("# TYPE telemetry_events_stored_total counter"), decoded);
    assertBetween(before, names(decoded), names(text(plain)));
    assertTrue(
        gz.body().length * 4 < plain.body().length,
        gz.body().length + " bytes gzipped, " + plain.body().length + " plain");
  }

  @Test
  void noGaugeIsRegisteredTwice() throws Exception {
    // Connections and requests of each method: Vert.x's own gauges were registered anew for each.
    for (int i = 0; i < 3; i++) {
      HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(base + "/health/live")).build(),
              HttpResponse.BodyHandlers.discarding());
      post("/v1/token-usage", new JsonArray().add(Events.token("acme")));
    }
    for (String line : jar.lines()) {
      assertFalse(line.contains("already registered"), line);
    }
    // The figures of Vert.x's gauges, from gauges registered once.
    String scrape = text(get("/metrics", null, null));
    assertTrue(scrape.contains("telemetry_http_server_active_connections "), scrape);
    assertTrue(scrape.contains("telemetry_http_server_active_requests{method=\"GET\"} "), scrape);
  }

  /** Families seen in one scrape lie between those of the scrapes before and after it. */
  private static void assertBetween(Set<String> before, Set<String> seen, Set<String> after) {
    Set<String> missing = new TreeSet<>(before);
    missing.removeAll(seen);
    assertEquals(Set.of(), missing, "in the scrape before, not in this one");
    Set<String> extra = new TreeSet<>(seen);
    extra.removeAll(after);
    assertEquals(Set.of(), extra, "in this scrape, not in the one after");
  }

  /** The metric names of an exposition's samples (labels and values dropped). */
  private static Set<String> names(String exposition) {
    Set<String> out = new TreeSet<>();
    for (String line : exposition.split("\n", -1)) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        int end = line.indexOf('{');
        out.add(line.substring(0, end > 0 ? end : line.indexOf(' ')));
      }
    }
    return out;
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  private static String gunzip(byte[] body) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static HttpResponse<byte[]> get(String path, String accept, String encoding)
      throws Exception {
    return send(path, accept, encoding, null);
  }

  private static void post(String path, JsonArray events) throws Exception {
    HttpResponse<byte[]> r = send(path, null, null, events.encode());
    assertTrue(r.statusCode() < 500, text(r));
  }

  /** A GET, or a POST of a JSON body, with the Accept and Accept-Encoding headers given. */
  private static HttpResponse<byte[]> send(String path, String accept, String encoding, String json)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    if (accept != null) {
      b.header("Accept", accept);
    }
    if (encoding != null) {
      b.header("Accept-Encoding", encoding);
    }
    if (json != null) {
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
