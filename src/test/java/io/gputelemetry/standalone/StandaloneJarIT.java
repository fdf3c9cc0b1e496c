package io.gputelemetry.standalone;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.JarProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The built jar, run the way the README runs it. */
class StandaloneJarIT {
  private static final Pattern HTTP = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
  private static final Pattern KAFKA = Pattern.compile("embedded Kafka at (\\S+) ");
  private static final Pattern MONGO = Pattern.compile("store at (mongodb://\\S+) ");
  private static final Pattern COMPLETE =
      Pattern.compile("run complete: (\\d+ events acknowledged by Kafka, \\d+ stored)");
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void standaloneStoresEventsServesMetricsAndHealthAndPassesVerify() throws Exception {
    // Kept serving after its bounded run, so that verify (a JVM of its own, slow to start on a busy
    // machine) never finds it gone; that a bounded run exits 0 is the next test's.
    try (JarProcess jar =
        JarProcess.start(
            "--duration", "20s", "--http-port", "0", "--rate", "100", "--keep-serving")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> jar.find(HTTP) != null || !jar.alive());
      String port = jar.find(HTTP);
      assertNotNull(port, "printed its HTTP port:\n" + jar.output());
      String base = "http://127.0.0.1:" + port;
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get(base + "/health/ready").statusCode() == 200);
      assertEquals(200, get(base + "/health/live").statusCode());
      assertEquals(
          1,
          jar.lines().stream()
              .filter(l -> l.contains("WARN") && l.contains("no API keys configured"))
              .count(),
          "without keys the start-up log says, in one WARN line, that every route is open:\n"
              + jar.output());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> storedCount(get(base + "/metrics").body()) > 0);
      // The per-GPU gauges follow the first stored samples (the live snapshot runs every few s).
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get(base + "/metrics").body().contains("telemetry_gpu_power_watts{"));
      String metrics = get(base + "/metrics").body();
      assertTrue(metrics.contains("telemetry_gpu_power_watts{"), "per-GPU gauges exported");
      assertTrue(metrics.contains("jvm_memory_used_bytes"), "JVM metrics exported");

      try (JarProcess verify =
          JarProcess.start("verify", "--kafka", jar.find(KAFKA), "--mongo", jar.find(MONGO))) {
        int rc = verify.waitFor(60);
        assertEquals(0, rc, "verify passes against the running standalone:\n" + verify.output());
        assertFalse(verify.output().contains("FAIL"), verify.output());
        assertTrue(verify.output().contains("PASS  completeness"), verify.output());
      }

      await().atMost(Duration.ofSeconds(90)).until(() -> jar.find(COMPLETE) != null);
      assertTrue(jar.alive(), "--keep-serving: still serving\n" + jar.output());
      jar.terminate();
      assertTrue(java.util.Set.of(0, 143).contains(jar.waitFor(60)), jar.output());
      String summary = jar.find(COMPLETE);
      assertNotNull(summary, jar.output());
      String[] parts = summary.split(" ");
      assertEquals(parts[0], parts[5], "every acknowledged event stored: " + summary);
    }
  }

  @Test
  void aRestartWithTheSameDataDirKeepsTheDataAndNeverReusesAnId(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    long requests = 0;
    for (int run = 0; run < 2; run++) {
      try (JarProcess jar =
          JarProcess.start(
              "--data-dir",
              dir.toString(),
              "--count",
              "150",
              "--rate",
              "300",
              "--http-port",
              "0",
              "--seed",
              "7")) {
        assertEquals(0, jar.waitFor(120), jar.output());
        assertTrue(
            jar.output().contains(", 0 duplicates"),
            "same seed, new ids: " + jar.find(COMPLETE) + "\n" + jar.output());
        String[] parts = jar.find(COMPLETE).split(" ");
        assertEquals(parts[0], parts[5], jar.output());
        requests += 150;
      }
    }
    // A third start serves what both runs stored, from the broker log and the file-backed store.
    try (JarProcess jar =
        JarProcess.start("--data-dir", dir.toString(), "--no-simulator", "--http-port", "0")) {
      await().atMost(Duration.ofSeconds(40)).until(() -> jar.find(HTTP) != null || !jar.alive());
      String base = "http://127.0.0.1:" + jar.find(HTTP);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> get(base + "/health/ready").statusCode() == 200);
      String now =
          java.time.Instant.now()
              .plusSeconds(60)
              .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
              .toString();
      String from =
          java.time.Instant.now()
              .minusSeconds(3600)
              .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
              .toString();
      io.vertx.core.json.JsonObject usage =
          new io.vertx.core.json.JsonObject(
              get(base + "/api/v1/usage?from=" + from + "&to=" + now).body());
      assertEquals(
          (double) requests, usage.getJsonObject("totals").getDouble("requests"), usage.encode());
      jar.terminate();
      assertTrue(java.util.Set.of(0, 143).contains(jar.waitFor(60)), jar.output());
    }
  }

  @Test
  void badSettingFailsAtStartUpNamingTheKeyWithoutAStackTrace() throws Exception {
    try (JarProcess jar = JarProcess.start("--http-port", "eighty")) {
      assertEquals(2, jar.waitFor(30));
      String out = jar.output();
      assertTrue(out.contains("'http.port'") && out.contains("expected an integer"), out);
      assertFalse(out.contains("\tat "), "no stack trace: " + out);
    }
  }

  @Test
  void helpListsRolesAndOptions() throws Exception {
    try (JarProcess jar = JarProcess.start("--help")) {
      assertEquals(0, jar.waitFor(30));
      for (String s :
          new String[] {
            "standalone",
            "producer",
            "processor",
            "verify",
            "--config",
            "--data-dir",
            "--keep-serving",
            "GPUTEL_"
          }) {
        assertTrue(jar.output().contains(s), "help mentions " + s);
      }
    }
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static double storedCount(String metrics) {
    double sum = 0;
    for (String l : metrics.split("\n")) {
      if (l.startsWith("telemetry_events_stored_total{")) {
        sum += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }
}
