package io.gputelemetry.observability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.FixtureExporter;
import io.gputelemetry.support.JarProcess;
import io.gputelemetry.support.PrometheusServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jar's observable surface, checked against what ships: its /metrics against the
 * catalogue in docs/metrics.md (both ways), its JSON logs, and a real Prometheus scraping it and
 * evaluating the chart's recording rules.
 */
class RunningJarObservabilityIT {
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern KAFKA = Pattern.compile("embedded Kafka at (\\S+) ");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static JarProcess jar;
  private static FixtureExporter dcgm;
  private static String base;
  private static String port;

  @BeforeAll
  static void start() throws Exception {
    // A DCGM exporter and a vLLM server as sources besides the simulator, so that the per-target
    // source meters and the models' latency exist: they are exported only for configured targets.
    dcgm = new FixtureExporter(0, 2);
    // A budget, so that the budget gauges (exported for configured tenants only) exist.
    Path budgets = Files.createTempFile("budgets", ".json");
    budgets.toFile().deleteOnExit();
    Files.writeString(budgets, "{\"budgets\": [{\"tenant\": \"acme\", \"monthly_usd\": 100}]}");
    jar =
        JarProcess.start(
            "--set",
            "budgets.file=" + budgets,
            "--source",
            "dcgm=" + dcgm.url(0),
            "--source",
            "vllm=" + dcgm.vllmUrl(0),
            "--simulator",
            "--http-port",
            "0",
            "--rate",
            "50",
            "--log-format",
            "json",
            "--set",
            "simulator.sample-interval=500ms",
            "--set",
            "sources.vllm.interval=2s",
            "--set",
            "sources.vllm.timeout=1s");
    await().atMost(Duration.ofSeconds(40)).until(() -> jar.find(HTTP) != null || !jar.alive());
    port = jar.find(HTTP);
    assertNotNull(port, jar.output());
    base = "http://127.0.0.1:" + port;
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get(base + "/health/ready").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    if (jar != null) {
      jar.close();
    }
    if (dcgm != null) {
      dcgm.close();
    }
  }

  @Test
  void metricsMatchTheCatalogueBothWays() throws Exception {
    // Make the event-driven series appear: a rejected event, a duplicate, a late one, an unpriced
    // GPU and a record for the DLQ.
    JsonObject dup = Events.token("acme");
    post("/v1/token-usage", new JsonArray().add(dup).add(dup.copy().put("input_tokens", "x")));
    post("/v1/token-usage", new JsonArray().add(dup));
    post(
        "/v1/token-usage",
        new JsonArray()
            .add(Events.token("acme").put("ts", Instant.now().minusSeconds(120).toString())));
    post(
        "/v1/gpu-metrics",
        new JsonArray().add(Events.sample("GPU-unpriced").put("gpu_model", "NO-PRICE-GPU")));
    try (KafkaProducer<String, String> kafka =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", jar.find(KAFKA)),
            new StringSerializer(),
            new StringSerializer())) {
      kafka.send(new ProducerRecord<>("token.usage.v1", "k", "not json")).get(10, TimeUnit.SECONDS);
    }
    Set<String> needed =
        Set.of(
            "telemetry_events_dlq_total",
            "telemetry_unpriced_events_total",
            "telemetry_events_rejected_total",
            "telemetry_ingest_requests_total",
            "telemetry_model_latency_seconds",
            "jvm_gc_pause_seconds");
    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> families(get(base + "/metrics").body()).keySet().containsAll(needed));
    assertTrue(value(get(base + "/metrics").body(), "telemetry_events_duplicate_total") >= 1);
    assertTrue(value(get(base + "/metrics").body(), "telemetry_events_late_total") >= 1);

    Map<String, String> exported = families(get(base + "/metrics").body());
    Set<String> catalogued = catalogue();
    Set<String> missingFromCatalogue = new TreeSet<>(exported.keySet());
    missingFromCatalogue.removeAll(catalogued);
    Set<String> missingFromJar = new TreeSet<>(catalogued);
    missingFromJar.removeAll(exported.keySet());
    assertEquals(Set.of(), missingFromCatalogue, "exported but not in docs/metrics.md");
    assertEquals(Set.of(), missingFromJar, "in docs/metrics.md but not exported");
  }

  @Test
  void logsAreOneJsonObjectPerLineWithTheContextFields() {
    assertTrue(jar.lines().size() > 3, jar.output());
    for (String line : jar.lines()) {
      JsonObject o = new JsonObject(line);
      for (String k : new String[] {"timestamp", "level", "logger", "message", "role"}) {
        assertTrue(o.containsKey(k), k + " in " + line);
      }
      assertEquals("standalone", o.getString("role"));
    }
  }

  @Test
  void prometheusScrapesTheJarAndEvaluatesTheRecordingRules(@TempDir Path dir) throws Exception {
    Path rules = Path.of("charts/gpu-telemetry/files/prometheus/gpu-telemetry.rules.yaml");
    try (PrometheusServer prom = PrometheusServer.start(dir, List.of(rules), port)) {
      String api = prom.base() + "/api/v1/query?query=";
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> firstValue(get(api + enc("up{job=\"gpu-telemetry\"}"))) == 1.0);
      // Prometheus asks for OpenMetrics (gzipped): its info family is stored under the name the
      // text format gives it, and the scrape stays within its budget.
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () -> firstValue(get(api + enc("telemetry_build_info{role=\"standalone\"}"))) == 1.0);
      double scraped = firstValue(get(api + enc("scrape_samples_scraped{job=\"gpu-telemetry\"}")));
      assertTrue(
          scraped > 0 && scraped <= ScrapeBudgetIT.MAX_SAMPLES, scraped + " samples scraped");
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> firstValue(get(api + enc("sum(telemetry_events_stored_total)"))) > 0);
      // Recording rules evaluated over the scraped series.
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .until(
              () -> firstValue(get(api + enc("sum(namespace_model:telemetry_tokens:rate5m)"))) > 0);
      await()
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .until(
              () ->
                  !get(api + enc("namespace:telemetry_store_write_errors:ratio_rate5m"))
                      .body()
                      .contains("\"result\":[]"));
      HttpResponse<String> alerts = get(prom.base() + "/api/v1/rules?type=alert");
      assertEquals(200, alerts.statusCode());
      assertTrue(
          alerts.body().contains("\"health\":\"ok\""),
          "alert rules evaluate: " + alerts.body().substring(0, 300));
    }
  }

  private static String enc(String q) {
    return URLEncoder.encode(q, StandardCharsets.UTF_8);
  }

  private static double firstValue(HttpResponse<String> r) {
    JsonArray result = new JsonObject(r.body()).getJsonObject("data").getJsonArray("result");
    return Double.parseDouble(result.getJsonObject(0).getJsonArray("value").getString(1));
  }

  /** Metric families from the exposition's TYPE lines; a histogram's _max gauge belongs to it. */
  static Map<String, String> families(String exposition) {
    Map<String, String> types = new HashMap<>();
    for (String l : exposition.split("\n")) {
      if (l.startsWith("# TYPE ")) {
        String[] p = l.split(" ");
        types.put(p[2], p[3]);
      }
    }
    Map<String, String> out = new HashMap<>(types);
    types.forEach(
        (name, type) -> {
          if (name.endsWith("_max") && type.equals("gauge")) {
            String base = name.substring(0, name.length() - 4);
            if ("histogram".equals(types.get(base)) || "summary".equals(types.get(base))) {
              out.remove(name);
            }
          }
        });
    return out;
  }

  private static double value(String exposition, String name) {
    double sum = 0;
    for (String l : exposition.split("\n")) {
      if (l.startsWith(name + "{") || l.startsWith(name + " ")) {
        sum += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static Set<String> catalogue() throws Exception {
    Set<String> names = new TreeSet<>();
    Matcher m =
        Pattern.compile("(?m)^\\| `([a-z0-9_:]+)` \\|")
            .matcher(Files.readString(Path.of("docs/metrics.md")));
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  private static void post(String path, JsonArray events) throws Exception {
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(events.encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 500, r.body());
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
