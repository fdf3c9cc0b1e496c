package io.gputelemetry.source;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.producer.SourcesVerticle;
import io.gputelemetry.support.CapturedLogs;
import io.gputelemetry.support.FixtureExporter;
import io.gputelemetry.support.FixtureExporter.Mode;
import io.gputelemetry.support.RunningPipeline;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * DCGM exporters served from NVIDIA's documented output, scraped by a producer through the real
 * broker into the store: every normal answer stored exactly once with the hand-computed values, a
 * counter reset kept as it is, and each kind of bad target a precise per-target failure metric and
 * log line that costs no other target anything.
 */
class DcgmScrapeIT {
  private static final int NORMAL = 0;
  private static final int HANG = 1;
  private static final int GARBAGE = 2;
  private static final int HTML = 3;
  private static final int NAN = 4;
  private static final int HUGE = 5;
  private static final int FLAPPING = 6;

  @Test
  void scrapesIntoTheStoreAndReportsEachBadTargetPrecisely() throws Exception {
    try (FixtureExporter exporter = new FixtureExporter(0, 2);
        CapturedLogs logs = new CapturedLogs(SourcesVerticle.class)) {
      exporter.mode(HANG, Mode.HANG);
      exporter.mode(GARBAGE, Mode.GARBAGE);
      exporter.mode(HTML, Mode.HTML);
      exporter.mode(NAN, Mode.NAN_POWER);
      exporter.mode(HUGE, Mode.HUGE);
      exporter.mode(FLAPPING, Mode.DOWN);
      List<String> targets = new ArrayList<>();
      for (int t = 0; t <= FLAPPING; t++) {
        targets.add(exporter.url(t));
      }
      try (RunningPipeline p =
          new RunningPipeline(
              Map.of(
                  "sources.dcgm.targets", String.join(",", targets),
                  "sources.dcgm.interval", "1s",
                  "sources.dcgm.timeout", "1s",
                  "sources.max-body-bytes", "1048576",
                  "sources.warn-every", "10m"))) {
        // Counters show 0 on the first /metrics read that sees them (ZeroFirstCounters): read once.
        metrics(p);
        // Three answers with the counter counting up, a driver reload, three more.
        awaitStored(p, FixtureExporter.uuid(NORMAL, 0), 3);
        exporter.resetEnergy(NORMAL);
        int before = exporter.served(NORMAL).size();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> exporter.served(NORMAL).size() >= before + 3);
        exporter.mode(FLAPPING, Mode.NORMAL);
        awaitStored(p, FixtureExporter.uuid(FLAPPING, 1), 2);
        awaitStored(p, FixtureExporter.uuid(NAN, 1), 2);
        for (int t : new int[] {NORMAL, NAN, FLAPPING}) {
          exporter.mode(t, Mode.DOWN);
        }

        // Every answer the scraper received is stored once, values as served; an answer the
        // machine was too slow to take within the timeout is a counted timeout, never a sample.
        List<Long> served = exporter.served(NORMAL);
        assertTrue(served.size() >= before + 3);
        Map<String, Double> m0 = metrics(p);
        int late =
            m0.get(key("telemetry_source_scrape_failures_total", exporter.url(NORMAL), "timeout"))
                .intValue();
        for (int g = 0; g < 2; g++) {
          String uuid = FixtureExporter.uuid(NORMAL, g);
          try {
            awaitStored(p, uuid, served.size() - late);
          } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                uuid + " stored " + energies(p, uuid) + ", served " + served + ", late " + late, e);
          }
          List<Long> stored = energies(p, uuid);
          assertEquals(served.size() - late, stored.size(), uuid);
          assertTrue(served.containsAll(stored), uuid + " " + stored + " within " + served);
          assertEquals(
              stored.stream().sorted().toList().size(), stored.stream().distinct().count());
        }
        long e1 = FixtureExporter.ENERGY_AT_START + FixtureExporter.MJ_PER_ANSWER;
        assertEquals(e1, served.get(0));
        assertEquals(FixtureExporter.MJ_PER_ANSWER, served.get(before), "after the reset");
        JsonObject s = docs(p, FixtureExporter.uuid(NORMAL, 1)).get(0);
        assertEquals("fixture-node-0", s.getString("node"));
        assertEquals("A100-SXM-40GB", s.getString("gpu_model"));
        assertEquals(1, s.getInteger("gpu_index"));
        assertEquals(99.563, s.getDouble("utilization_pct"), 1e-9);
        assertEquals(4845.0, s.getDouble("memory_used_mib"));
        assertEquals(40535.0, s.getDouble("memory_total_mib"));
        assertEquals(409.692, s.getDouble("power_w"));
        assertEquals(61.0, s.getDouble("temperature_c"));
        assertEquals(1215, s.getInteger("sm_clock_mhz"));
        assertEquals(0, s.getInteger("last_xid"));
        assertEquals(1.0, s.getDouble("interval_s"));
        assertEquals(3.0, s.getDouble("max_gap_s"));

        // NaN power loses that GPU only; the flapping target's answers after it came back count.
        int nan = received(p, exporter, NAN);
        int flapping = received(p, exporter, FLAPPING);
        awaitStored(p, FixtureExporter.uuid(NAN, 1), nan);
        awaitStored(p, FixtureExporter.uuid(FLAPPING, 0), flapping);
        Set<String> expected =
            Set.of(
                FixtureExporter.uuid(NORMAL, 0),
                FixtureExporter.uuid(NORMAL, 1),
                FixtureExporter.uuid(NAN, 1),
                FixtureExporter.uuid(FLAPPING, 0),
                FixtureExporter.uuid(FLAPPING, 1));
        List<JsonObject> all = p.store().find("gpu_metrics", new JsonObject());
        assertEquals(
            expected, all.stream().map(d -> d.getString("gpu_uuid")).collect(Collectors.toSet()));
        assertEquals(
            2L * (served.size() - late) + nan + 2L * flapping,
            all.size(),
            "nothing else stored, nothing lost");

        // Per target: the failure metric, and one WARN line (not one per scrape).
        Map<String, Double> m = metrics(p);
        String hang = exporter.url(HANG);
        assertEquals(0.0, m.get(key("telemetry_source_up", hang, null)));
        // The normal target is down by now (switched off above); it did answer before.
        assertTrue(
            m.get(
                    key(
                        "telemetry_source_last_success_timestamp_seconds",
                        exporter.url(NORMAL),
                        null))
                > 1.7e9);
        assertEquals(
            0.0, m.get(key("telemetry_source_last_success_timestamp_seconds", hang, null)));
        assertTrue(m.get(key("telemetry_source_scrape_failures_total", hang, "timeout")) >= 2);
        assertTrue(
            m.get(key("telemetry_source_scrape_failures_total", exporter.url(GARBAGE), "parse"))
                >= 1);
        assertTrue(
            m.get(key("telemetry_source_scrape_failures_total", exporter.url(HTML), "content_type"))
                >= 1);
        assertTrue(
            m.get(key("telemetry_source_scrape_failures_total", exporter.url(HUGE), "too_large"))
                >= 1);
        assertTrue(
            m.get(key("telemetry_source_samples_rejected_total", exporter.url(NAN), "bad_value"))
                >= 2);
        assertEquals(
            2.0 * (served.size() - late),
            m.get(key("telemetry_source_samples_parsed_total", exporter.url(NORMAL), null)));
        assertEquals(
            List.of(
                "source dcgm "
                    + hang
                    + ": scrape failed (timeout): no complete answer within 1000 ms"),
            logs.lines().stream()
                .filter(l -> l.message().contains(hang))
                .map(CapturedLogs.Line::message)
                .toList(),
            "one line for a target that never answers, not one per scrape");
        assertOneWarning(
            logs,
            "source dcgm "
                + exporter.url(GARBAGE)
                + ": scrape failed (parse): not Prometheus text: line 1: expected a metric name at"
                + " '<html><body><h1>502 '");
        assertOneWarning(
            logs,
            "source dcgm "
                + exporter.url(HTML)
                + ": scrape failed (content_type): content type 'text/html; charset=utf-8'"
                + " (expected text/plain or application/openmetrics-text)");
        assertOneWarning(
            logs,
            "source dcgm "
                + exporter.url(HUGE)
                + ": scrape failed (too_large): answer longer than sources.max-body-bytes (1048576"
                + " bytes); cut off there");
        assertTrue(
            logs.lines().stream()
                .anyMatch(
                    l ->
                        Level.WARN.equals(l.level())
                            && l.message()
                                .startsWith(
                                    "source dcgm "
                                        + exporter.url(NAN)
                                        + ": 3 samples left"
                                        + " out")
                            && l.message()
                                .contains(
                                    "bad_value: DCGM_FI_DEV_POWER_USAGE of "
                                        + FixtureExporter.uuid(NAN, 0)
                                        + " is NaN")),
            () -> logs.lines().toString());
        assertTrue(
            logs.lines().stream()
                .anyMatch(
                    l ->
                        Level.INFO.equals(l.level())
                            && l.message()
                                .matches(
                                    "source dcgm "
                                        + java.util.regex.Pattern.quote(exporter.url(FLAPPING))
                                        + ": answering again after \\d+ failed scrapes over"
                                        + " \\d+ s")),
            () -> logs.lines().toString());
      }
    }
  }

  /** The failure is logged once (a slow first scrape may add a timeout line before it). */
  private static void assertOneWarning(CapturedLogs logs, String message) {
    long n =
        logs.lines().stream()
            .filter(l -> Level.WARN.equals(l.level()) && l.message().startsWith(message))
            .count();
    assertEquals(1, n, () -> message + " in " + logs.lines());
  }

  /** The answers of a target the scraper took in time (served less counted timeouts). */
  private static int received(RunningPipeline p, FixtureExporter exporter, int target)
      throws Exception {
    Double late =
        metrics(p)
            .get(key("telemetry_source_scrape_failures_total", exporter.url(target), "timeout"));
    return exporter.served(target).size() - late.intValue();
  }

  private static String key(String name, String target, String reason) {
    return name + "|" + target + "|" + (reason == null ? "" : reason);
  }

  private static Map<String, Double> metrics(RunningPipeline p) throws Exception {
    String text = p.get(p.baseUrl() + "/metrics").body();
    return PromText.parse(text, 1 << 20).samples().stream()
        .filter(s -> "dcgm".equals(s.label("source")))
        .collect(
            Collectors.toMap(
                s ->
                    key(
                        s.name(),
                        s.label("target"),
                        s.label("reason") == null ? null : s.label("reason")),
                PromText.Sample::value,
                (a, b) -> a));
  }

  private static List<JsonObject> docs(RunningPipeline p, String uuid) {
    List<JsonObject> d =
        new ArrayList<>(p.store().find("gpu_metrics", new JsonObject().put("gpu_uuid", uuid)));
    d.sort(Comparator.comparing(o -> String.valueOf(o.getValue("ts"))));
    return d;
  }

  private static List<Long> energies(RunningPipeline p, String uuid) {
    return docs(p, uuid).stream().map(o -> o.getLong("energy_mj")).toList();
  }

  private static void awaitStored(RunningPipeline p, String uuid, int n) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                p.store().find("gpu_metrics", new JsonObject().put("gpu_uuid", uuid)).size() >= n);
  }
}
