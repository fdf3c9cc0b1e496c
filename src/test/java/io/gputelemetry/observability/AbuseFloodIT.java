package io.gputelemetry.observability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.JarProcess;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The attacks that once grew /metrics and the process without limit, replayed against the built jar
 * (default settings, -Xmx512m): 50 requests with invented 1,000-character HTTP methods and one
 * accepted request naming 5,000 distinct models. Afterwards /metrics holds one method label for all
 * of them and at most the model cap of models, stays under {@link #MAX_SCRAPE_BYTES}, the process
 * under {@link #MAX_RSS_BYTES}, /health/live answers quickly during a scrape, and a usage query
 * over every model at 2,000 steps is refused with a 400 naming api.max-cells.
 */
class AbuseFloodIT {
  /** The scrape after both floods (measured: 345 kB, 4,421 lines; docs/security.md, "Limits"). */
  static final int MAX_SCRAPE_BYTES = 600_000;

  /** Resident memory after both floods, heap capped at 512 MB (measured: 559 MB). */
  static final long MAX_RSS_BYTES = 800L * 1024 * 1024;

  static final int MODELS = 5_000;
  static final int DEFAULT_MODEL_CAP = 500;

  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final HttpClient CLIENT = HttpClient.newHttpClient();
  private static JarProcess jar;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    jar = JarProcess.start("--http-port", "0", "--rate", "20");
    await().atMost(Duration.ofSeconds(40)).until(() -> jar.find(HTTP) != null || !jar.alive());
    String p = jar.find(HTTP);
    assertNotNull(p, jar.output());
    port = Integer.parseInt(p);
    await().atMost(Duration.ofSeconds(30)).until(() -> get("/health/ready").statusCode() == 200);
    methodFlood();
    modelFlood();
  }

  @AfterAll
  static void stop() {
    if (jar != null) {
      jar.close();
    }
  }

  private static final String INVENTED = "X".repeat(996);

  /** 50 requests, each with its own invented 1,000-character method. */
  private static void methodFlood() throws IOException {
    for (int i = 0; i < 50; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        String method = INVENTED + String.format("%04d", i);
        out.write(
            (method + " /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        while (in.read() >= 0) {
          // the answer, until the server closes
        }
      }
    }
  }

  /** One accepted request naming 5,000 distinct models; awaits them stored. */
  private static void modelFlood() throws Exception {
    JsonArray events = new JsonArray();
    for (int i = 0; i < MODELS; i++) {
      events.add(Events.token("acme").put("model", String.format("flood-model-%05d", i)));
    }
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create(base() + "/v1/token-usage"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(events.encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              // Overflow is counted wherever a model label is asked for (live gauges too): also
              // await the flood's tokens themselves, counted under a model or under _other.
              String s = scrape();
              return Scrapes.value(s, "telemetry_metrics_label_overflow_total", "label", "model")
                      >= MODELS - DEFAULT_MODEL_CAP
                  && Scrapes.value(
                          s, "telemetry_tokens_total", "tenant", "acme", "direction", "input")
                      >= 100.0 * MODELS;
            });
  }

  private static String base() {
    return "http://127.0.0.1:" + port;
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(base() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String scrape() throws Exception {
    return get("/metrics").body();
  }

  private static Set<String> labelValues(String scrape, String metric, String label) {
    Set<String> out = new TreeSet<>();
    Matcher m =
        Pattern.compile("(?m)^" + metric + "\\{[^}]*" + label + "=\"([^\"]*)\"").matcher(scrape);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @Test
  void metricsHoldOneLabelForInventedMethodsAndAtMostTheModelCap() throws Exception {
    String scrape = scrape();
    int bytes = scrape.getBytes(StandardCharsets.UTF_8).length;
    System.out.printf(
        "AbuseFloodIT: scrape after the floods %d bytes, %d lines%n",
        bytes, scrape.split("\n").length);
    assertFalse(scrape.contains(INVENTED), "an invented method is a label value");
    Set<String> methods = labelValues(scrape, "vertx_http_server_requests_total", "method");
    assertTrue(methods.contains("OTHER"), methods.toString());
    assertTrue(Set.of("GET", "POST", "OTHER").containsAll(methods), methods.toString());
    Set<String> models = labelValues(scrape, "telemetry_tokens_total", "model");
    assertTrue(models.contains("_other"), "the models beyond the cap count under _other");
    assertTrue(
        models.size() <= DEFAULT_MODEL_CAP + 1,
        models.size() + " model label values, more than the cap and _other");
    assertTrue(
        labelValues(scrape, "telemetry_model_tokens_per_second", "model").size()
            <= DEFAULT_MODEL_CAP,
        "live gauges only for admitted models");
    // Every token of the flood is still counted, under a model or under _other.
    assertTrue(
        Scrapes.value(scrape, "telemetry_tokens_total", "tenant", "acme", "direction", "input")
            >= 100.0 * MODELS);
    assertTrue(bytes < MAX_SCRAPE_BYTES, bytes + " bytes, more than " + MAX_SCRAPE_BYTES);
  }

  @Test
  void theProcessStaysUnderItsMemoryBoundAndLivenessAnswersDuringAScrape() throws Exception {
    CompletableFuture<HttpResponse<String>> scraping =
        CLIENT.sendAsync(
            HttpRequest.newBuilder(URI.create(base() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    long t0 = System.nanoTime();
    HttpResponse<String> live = get("/health/live");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, live.statusCode());
    assertTrue(ms < 1_000, "/health/live took " + ms + " ms during a scrape");
    assertEquals(200, scraping.get().statusCode());
    long rss = rssBytes(jar.pid());
    System.out.printf("AbuseFloodIT: RSS after the floods %d MB%n", rss >> 20);
    assertTrue(rss < MAX_RSS_BYTES, (rss >> 20) + " MB resident, more than the bound");
  }

  @Test
  void aUsageQueryOverEveryModelAtTwoThousandStepsIsRefusedNamingTheLimit() throws Exception {
    Instant to = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(60);
    HttpResponse<String> r =
        get(
            "/api/v1/usage?from="
                + to.minusSeconds(2000 * 60)
                + "&to="
                + to
                + "&groupBy=model&step=60s");
    assertEquals(400, r.statusCode(), r.body());
    JsonObject error = new JsonObject(r.body());
    assertEquals("too_many_cells", error.getString("code"));
    assertEquals(20_000, error.getInteger("limit"));
    // 5,000 flood models (and the simulator's), each and the idle line over 2,000 steps.
    assertTrue(error.getLong("cells") >= (MODELS + 1L) * 2000, r.body());
    assertTrue(error.getString("error").contains("api.max-cells"), r.body());
  }

  private static long rssBytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }
}
