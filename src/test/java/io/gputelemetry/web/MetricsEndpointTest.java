package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MetricsEndpointTest {
  /** What Prometheus 2.x sends. */
  static final String PROMETHEUS_ACCEPT =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
          + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static final Set<String> SCRAPING_THREADS = ConcurrentHashMap.newKeySet();
  private static Vertx vertx;
  private static int port;

  @BeforeAll
  static void serve() throws Exception {
    vertx = Vertx.vertx();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Gauge.builder(
            "probe.threads",
            () -> {
              SCRAPING_THREADS.add(Thread.currentThread().getName());
              return 1;
            })
        .register(registry);
    Router router = Router.router(vertx);
    router
        .get("/metrics")
        .handler(
            new MetricsEndpoint(
                registry, vertx.createSharedWorkerExecutor(HttpServerVerticle.SCRAPE_POOL, 1)));
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    port = server.actualPort();
  }

  @AfterAll
  static void close() throws Exception {
    Future<Void> closed = vertx.close();
    closed.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<byte[]> get(String accept, String encoding) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(10));
    if (accept != null) {
      b.header("Accept", accept);
    }
    if (encoding != null) {
      b.header("Accept-Encoding", encoding);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String gunzip(byte[] body) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void prometheusGetsOpenMetricsGzipped() throws Exception {
    HttpResponse<byte[]> r = get(PROMETHEUS_ACCEPT, "gzip");
    assertEquals(200, r.statusCode());
    assertEquals(MetricsEndpoint.OPENMETRICS, r.headers().firstValue("content-type").orElse(""));
    assertEquals("gzip", r.headers().firstValue("content-encoding").orElse(""));
    String body = gunzip(r.body());
    assertTrue(body.endsWith("# EOF\n"), body);
    assertTrue(body.contains("probe_threads 1"), body);
  }

  @Test
  void aPlainClientGetsTheTextFormatUncompressed() throws Exception {
    HttpResponse<byte[]> r = get(null, null);
    assertEquals(200, r.statusCode());
    assertEquals(MetricsEndpoint.TEXT, r.headers().firstValue("content-type").orElse(""));
    assertFalse(r.headers().firstValue("content-encoding").isPresent());
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertTrue(body.contains("# TYPE probe_threads gauge"), body);
    assertFalse(body.contains("# EOF"), body);
  }

  @Test
  void theScrapeRunsOnTheScrapeWorkerNotAnEventLoop() throws Exception {
    SCRAPING_THREADS.clear();
    get(null, "gzip");
    assertFalse(SCRAPING_THREADS.isEmpty());
    for (String t : SCRAPING_THREADS) {
      assertTrue(t.startsWith(HttpServerVerticle.SCRAPE_POOL), t);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "NULL",
      value = {
        PROMETHEUS_ACCEPT + "| true",
        "application/openmetrics-text; version=0.0.1 | true",
        "text/plain;version=0.0.4;q=1,*/*;q=0.1 | false",
        "text/plain, application/openmetrics-text;q=0.5 | false",
        "application/openmetrics-text;q=0, text/plain;q=0.1 | false",
        "APPLICATION/OPENMETRICS-TEXT | true",
        "*/* | false",
        "'' | false",
        "NULL | false"
      })
  void negotiatesTheFormat(String accept, boolean openMetrics) {
    assertEquals(openMetrics, MetricsEndpoint.prefersOpenMetrics(accept), accept);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "NULL",
      value = {
        "gzip | true",
        "gzip, deflate, br | true",
        "deflate;q=1.0, GZIP;q=0.5 | true",
        "x-gzip | true",
        "gzip;q=0 | false",
        "identity | false",
        "deflate | false",
        "* | true",
        "*;q=0 | false",
        "gzip;q=0, * | false",
        "gzip;q=nonsense | false",
        "'' | false",
        "NULL | false"
      })
  void negotiatesGzip(String acceptEncoding, boolean gzip) {
    assertEquals(gzip, MetricsEndpoint.acceptsGzip(acceptEncoding), acceptEncoding);
  }
}
