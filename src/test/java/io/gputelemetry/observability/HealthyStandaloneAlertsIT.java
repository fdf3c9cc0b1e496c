package io.gputelemetry.observability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.gputelemetry.support.JarProcess;
import io.gputelemetry.support.PrometheusServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default standalone, healthy, under a real Prometheus that loads every shipped rule file: no
 * alert becomes even pending while it runs; every dashboard panel has data, except those on
 * Kubernetes' own metrics; and the promtool tests' input series are series the jar really exports.
 *
 * <p>The alerts are watched (polled each second) until every rule has been evaluated on full data
 * for {@value #SETTLE_SECONDS} evaluations: the rules' longest look-back offset (the store SLI
 * compares what was produced 30 s ago with what is handled now) must have passed, which the store
 * SLI's first value shows, and then {@value #SETTLE_SECONDS} s more; about a minute in all. {@code
 * -Dobservability.healthy-minutes=30} watches at least half an hour (a demo). An alert's condition
 * is checked every evaluation (1 s), so a condition that turns true at any moment is seen as
 * pending, whatever the alert's {@code for:}.
 */
class HealthyStandaloneAlertsIT {
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Path FILES = Path.of("charts/gpu-telemetry/files");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  /** Labels Prometheus or the chart's ServiceMonitor add to every series. */
  private static final Set<String> TARGET_LABELS =
      Set.of("namespace", "job", "instance", "pod", "service", "endpoint", "container");

  /**
   * Labels a series may lack: exported empty (which Prometheus reads as absent) when a sample does
   * not carry the field (GpuGaugeLabelsTest).
   */
  private static final Set<String> OPTIONAL = Set.of("gpu_index");

  /** Labels whose values the code fixes (the rest are names of GPUs, models, tenants, ...). */
  private static final Set<String> ENUMERATED =
      Set.of(
          "route", "status", "topic", "reason", "kind", "collection", "direction", "source", "le");

  @TempDir static Path dir;
  private static JarProcess jar;
  private static PrometheusServer prometheus;
  private static String api;
  private static String jarBase;

  /** Each alert seen pending or firing, by name and labels, with its first sighting. */
  private static final Map<String, String> alertsSeen = new TreeMap<>();

  private static int polls;

  /** Evaluations with full data that the watch waits for once the look-back has passed. */
  private static final int SETTLE_SECONDS = 30;

  /** The store SLI: the rule with the longest look-back (produced 30 s ago, handled now). */
  private static final String STORE_SLI = "namespace:telemetry_events_unstored:ratio_rate5m";

  /** When the store SLI first had a value (System.nanoTime), 0 before. */
  private static long storeSliSince;

  @BeforeAll
  static void runTheDefaultStandaloneUnderPrometheus() throws Exception {
    // A budget far above what the run spends, so that the budget gauges (exported for configured
    // tenants only) exist for the promtool inputs' check, and no budget alert may fire.
    java.nio.file.Path budgets = java.nio.file.Files.createTempFile("budgets", ".json");
    budgets.toFile().deleteOnExit();
    java.nio.file.Files.writeString(
        budgets,
        "{\"budgets\": [{\"tenant\": \"acme\", \"monthly_usd\": 1e9, \"monthly_kwh\": 1e9}]}");
    jar = JarProcess.start("--http-port", "0", "--set", "budgets.file=" + budgets);
    await().atMost(Duration.ofSeconds(60)).until(() -> jar.find(HTTP) != null || !jar.alive());
    String port = jar.find(HTTP);
    assertNotNull(port, jar.output());
    jarBase = "http://127.0.0.1:" + port;
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(jarBase + "/health/ready").statusCode() == 200);
    prometheus = startPrometheus(port);
    api = prometheus.base();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> query("up{job=\"gpu-telemetry\"}").size() == 1);
    long minutes = Long.getLong("observability.healthy-minutes", 0);
    long lookBack = longestOffsetSeconds();
    // Not before every rule's look-back has passed (whichever rule has it) and settled, either.
    long atLeast =
        System.nanoTime()
            + Math.max(
                TimeUnit.MINUTES.toNanos(minutes),
                TimeUnit.SECONDS.toNanos(lookBack + SETTLE_SECONDS));
    // Polls the alerts until every rule has had full data for SETTLE_SECONDS evaluations; any
    // pending or firing alert is recorded.
    await()
        .atMost(Duration.ofSeconds(lookBack + SETTLE_SECONDS + 90).plusMinutes(minutes))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              JsonArray alerts =
                  new JsonObject(get(api + "/api/v1/alerts").body())
                      .getJsonObject("data")
                      .getJsonArray("alerts");
              polls++;
              for (int i = 0; i < alerts.size(); i++) {
                JsonObject a = alerts.getJsonObject(i);
                alertsSeen.putIfAbsent(
                    a.getJsonObject("labels").encode(),
                    a.getString("state") + " at " + a.getString("activeAt") + ": " + a.encode());
              }
              long now = System.nanoTime();
              if (storeSliSince == 0 && !query(STORE_SLI).isEmpty()) {
                storeSliSince = now;
              }
              return storeSliSince != 0
                  && now - storeSliSince >= TimeUnit.SECONDS.toNanos(SETTLE_SECONDS)
                  && now - atLeast >= 0;
            });
  }

  /**
   * The rules' longest {@code offset}, in seconds: before it has passed, those rules have no data.
   */
  private static long longestOffsetSeconds() throws IOException {
    Pattern offset = Pattern.compile("offset (\\d+)([smh])");
    long longest = 0;
    try (Stream<Path> rules = Files.list(FILES.resolve("prometheus"))) {
      for (Path f : rules.filter(p -> p.toString().endsWith(".rules.yaml")).toList()) {
        Matcher m = offset.matcher(Files.readString(f));
        while (m.find()) {
          long n = Long.parseLong(m.group(1));
          longest =
              Math.max(
                  longest,
                  switch (m.group(2)) {
                    case "h" -> n * 3600;
                    case "m" -> n * 60;
                    default -> n;
                  });
        }
      }
    }
    assertTrue(longest > 0, "the store SLI's look-back offset is found in the rules");
    return longest;
  }

  @AfterAll
  static void stop() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
    if (jar != null) {
      jar.close();
    }
  }

  @Test
  void noAlertIsEvenPendingWhileTheDefaultStandaloneRuns() throws Exception {
    assertTrue(polls > 10, "alerts were polled through the run: " + polls);
    assertTrue(storeSliSince != 0, "the store SLI, the rule that looks back furthest, had data");
    JsonArray groups =
        new JsonObject(get(api + "/api/v1/rules").body())
            .getJsonObject("data")
            .getJsonArray("groups");
    int rules = 0;
    for (int g = 0; g < groups.size(); g++) {
      JsonArray r = groups.getJsonObject(g).getJsonArray("rules");
      for (int i = 0; i < r.size(); i++) {
        JsonObject rule = r.getJsonObject(i);
        assertEquals("ok", rule.getString("health"), "rule evaluates: " + rule.encode());
        rules++;
      }
    }
    assertTrue(rules > 50, "the shipped rules are loaded: " + rules);
    assertEquals(
        Map.of(),
        alertsSeen,
        () ->
            "alerts pending or firing in a healthy run; the jar's warnings and errors:\n"
                + String.join(
                    "\n",
                    jar.lines().stream()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR"))
                        .toList()));
  }

  @Test
  void everyDashboardPanelHasDataExceptKubernetesOnes() throws Exception {
    Set<String> kubernetesOnly = kubernetesMetrics();
    Map<String, String> empty = new TreeMap<>();
    int checked = 0;
    try (Stream<Path> files = Files.list(FILES.resolve("dashboards"))) {
      for (Path f : files.sorted().toList()) {
        JsonObject d = new JsonObject(Files.readString(f));
        for (JsonObject panel : panels(d)) {
          for (Object t : panel.getJsonArray("targets", new JsonArray())) {
            String expr = ((JsonObject) t).getString("expr");
            if (kubernetesOnly.stream().anyMatch(expr::contains)) {
              continue;
            }
            checked++;
            if (query(grafanaAll(expr)).isEmpty()) {
              empty.put(f.getFileName() + ": " + panel.getString("title"), expr);
            }
          }
        }
      }
    }
    assertTrue(checked > 40, "panel queries checked: " + checked);
    assertEquals(Map.of(), empty, "panels with no data on a healthy standalone");
  }

  @Test
  void thePromtoolTestsFeedOnlySeriesTheJarReallyExports() throws Exception {
    Map<String, Set<Map<String, String>>> scraped = series(get(jarBase + "/metrics").body());
    List<String> problems = new ArrayList<>();
    int checked = 0;
    try (Stream<Path> tests = Files.list(FILES.resolve("prometheus/tests"))) {
      for (Path test : tests.sorted().toList()) {
        JsonNode root = new YAMLMapper().readTree(test.toFile());
        for (JsonNode t : root.get("tests")) {
          for (JsonNode in : t.path("input_series")) {
            String s = in.get("series").asText();
            if (!s.startsWith("telemetry_") || s.startsWith("telemetry_source_")) {
              // Source meters exist only for configured targets and the default standalone has
              // none; RunningJarObservabilityIT runs a jar scraping a DCGM fixture and checks them.
              continue;
            }
            checked++;
            String problem = mismatch(s, scraped);
            if (problem != null) {
              problems.add(test.getFileName() + ": " + problem);
            }
          }
        }
      }
    }
    assertTrue(checked > 50, "input series checked: " + checked);
    assertEquals(List.of(), problems, "promtool inputs the jar does not export");
  }

  /** Why a test's input series is not one the jar exports, or null if it is. */
  private static String mismatch(String series, Map<String, Set<Map<String, String>>> scraped) {
    Map<String, Set<Map<String, String>>> one = series(series + " 0");
    String name = one.keySet().iterator().next();
    Map<String, String> labels = new HashMap<>(one.get(name).iterator().next());
    labels.keySet().removeAll(TARGET_LABELS);
    Set<Map<String, String>> real = scraped.get(name);
    if (real == null) {
      return series + ": no such metric";
    }
    for (Map<String, String> r : real) {
      Set<String> keys = new HashSet<>(r.keySet());
      if (!labels.keySet().containsAll(keys)) {
        keys.removeAll(OPTIONAL);
      }
      if (!keys.equals(labels.keySet())) {
        continue;
      }
      boolean same = true;
      for (String k : labels.keySet()) {
        same &= !ENUMERATED.contains(k) || sameValue(k, labels.get(k), r.get(k));
      }
      if (same) {
        return null;
      }
    }
    return series + ": labels or values differ from every exported " + name + ", e.g. " + real;
  }

  /** Bucket bounds compare as numbers: Prometheus 3 stores Micrometer's le="30.0" as "30". */
  private static boolean sameValue(String label, String a, String b) {
    if (label.equals("le")) {
      return Double.parseDouble(a.replace("+Inf", "Infinity"))
          == Double.parseDouble(b.replace("+Inf", "Infinity"));
    }
    return a.equals(b);
  }

  /** Series of an exposition: name to label sets. */
  private static Map<String, Set<Map<String, String>>> series(String exposition) {
    Map<String, Set<Map<String, String>>> out = new HashMap<>();
    Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+\\S+.*$");
    Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    for (String l : exposition.split("\n")) {
      Matcher m = line.matcher(l.strip());
      if (l.startsWith("#") || !m.matches()) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      if (m.group(2) != null) {
        Matcher lm = label.matcher(m.group(2));
        while (lm.find()) {
          if (!lm.group(2).isEmpty()) { // Prometheus reads an empty label as an absent one
            labels.put(lm.group(1), lm.group(2));
          }
        }
      }
      out.computeIfAbsent(m.group(1), k -> new HashSet<>()).add(labels);
    }
    return out;
  }

  /** A panel's query as Grafana sends it with every variable at "All". */
  private static String grafanaAll(String expr) {
    return expr.replace("$__rate_interval", "1m")
        .replace("$__range", "5m")
        .replace("$__interval", "15s")
        .replaceAll("\\$\\{?\\w+}?", ".*");
  }

  private static List<JsonObject> panels(JsonObject dashboard) {
    List<JsonObject> out = new ArrayList<>();
    for (Object p : dashboard.getJsonArray("panels", new JsonArray())) {
      JsonObject panel = (JsonObject) p;
      out.add(panel);
      for (Object inner : panel.getJsonArray("panels", new JsonArray())) {
        out.add((JsonObject) inner);
      }
    }
    return out;
  }

  /** Kubernetes' own metrics (kube-state-metrics, cAdvisor), which a standalone cannot have. */
  private static Set<String> kubernetesMetrics() throws IOException {
    Set<String> out = new TreeSet<>();
    for (String l : Files.readAllLines(FILES.resolve("external-metrics.txt"))) {
      String m = l.strip();
      if (m.startsWith("kube_") || m.startsWith("container_")) {
        out.add(m);
      }
    }
    assertTrue(out.size() > 3, "external-metrics.txt lists Kubernetes' metrics: " + out);
    return out;
  }

  private static PrometheusServer startPrometheus(String jarPort) throws Exception {
    try (Stream<Path> rules = Files.list(FILES.resolve("prometheus"))) {
      return PrometheusServer.start(
          dir, rules.filter(p -> p.toString().endsWith(".rules.yaml")).sorted().toList(), jarPort);
    }
  }

  private static JsonArray query(String promql) throws Exception {
    HttpResponse<String> r =
        get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertEquals(200, r.statusCode(), promql + " -> " + r.body());
    return new JsonObject(r.body()).getJsonObject("data").getJsonArray("result");
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
