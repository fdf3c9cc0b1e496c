package io.gputelemetry.metrics;

import static io.gputelemetry.support.Scrapes.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What Prometheus reads from our counters: series from zero, and paused time while paused. */
class TelemetryTest {
  private final Telemetry telemetry = new Telemetry("test", "0");

  @AfterEach
  void close() {
    telemetry.close();
  }

  private String scrape() {
    return telemetry.registry().scrape();
  }

  @Test
  void labelsFedByInputAreCappedAndWhatIsTurnedAwayIsCounted() {
    // Caps: 2 GPUs, 1 node, 1 GPU model, 2 models, 2 tenants, 3 (model, tenant) pairs.
    Telemetry t = new Telemetry("test", "0", new Telemetry.Caps(2, 1, 1, 2, 2, 3));
    try {
      t.bindStandardMeters(() -> true);
      t.tokens("m1", "t1", 10, 1, 1);
      t.tokens("m2", "t1", 10, 1, 1);
      t.tokens("m3", "t1", 10, 1, 1); // third model: _other
      t.tokens("m1", "t2", 10, 1, 1); // third pair (a pair with _other is not counted)
      t.tokens("m2", "t2", 10, 1, 1); // fourth pair: tenant _other for m2
      t.tokens("m1", "t3", 10, 1, 1); // third tenant: _other
      assertTrue(t.modelRates("m1", () -> new Telemetry.ModelRates(1, 1, 1, 1)));
      assertFalse(t.modelRates("m4", () -> new Telemetry.ModelRates(1, 1, 1, 1)));
      t.unpriced("A100");
      t.unpriced("B200");
      t.registry().scrape(); // new counter series show 0 on their first scrape
      String s = t.registry().scrape();
      String in = "telemetry_tokens_total";
      assertEquals(10.0, value(s, in, "model", "m1", "tenant", "t1", "direction", "input"));
      assertEquals(10.0, value(s, in, "model", "_other", "tenant", "t1", "direction", "input"));
      assertEquals(10.0, value(s, in, "model", "m1", "tenant", "t2", "direction", "input"));
      assertEquals(10.0, value(s, in, "model", "m2", "tenant", "_other", "direction", "input"));
      assertEquals(10.0, value(s, in, "model", "m1", "tenant", "_other", "direction", "input"));
      assertEquals(60.0, value(s, in, "direction", "input"), "every token still counted");
      assertEquals(1.0, value(s, "telemetry_unpriced_events_total", "gpu_model", "_other"));
      String overflow = "telemetry_metrics_label_overflow_total";
      // m3 once; m4 once (its gauges refused).
      assertEquals(2.0, value(s, overflow, "label", "model"));
      assertEquals(1.0, value(s, overflow, "label", "tenant"));
      assertEquals(1.0, value(s, overflow, "label", "model_tenant"));
      assertEquals(1.0, value(s, overflow, "label", "gpu_model"));
      assertEquals(0.0, value(s, overflow, "label", "gpu_uuid"));
      assertFalse(s.contains("model=\"m4\""), "no gauge of a model beyond the cap");
    } finally {
      t.close();
    }
  }

  @Test
  void aSeriesCreatedByItsFirstIncrementShowsZeroFirstSoIncreaseCountsAllOfIt() {
    scrape();
    scrape();
    telemetry.eventsRejected("token.usage.v1", "too_old", 25);
    String first = scrape();
    String second = scrape();
    telemetry.eventsRejected("token.usage.v1", "too_old", 5);
    String third = scrape();
    assertEquals(
        0.0,
        value(first, "telemetry_events_rejected_total", "reason", "too_old"),
        "the first scrape that sees the series shows 0");
    assertEquals(25.0, value(second, "telemetry_events_rejected_total", "reason", "too_old"));
    assertEquals(30.0, value(third, "telemetry_events_rejected_total", "reason", "too_old"));
  }

  private static io.gputelemetry.event.Event sample(String ts, Double maxGap, String migParent) {
    com.fasterxml.jackson.databind.node.ObjectNode o =
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    o.put("event_id", "s-" + ts).put("ts", ts).put("node", "n1");
    o.put("gpu_uuid", migParent == null ? "GPU-a" : "GPU-a:gi1").put("gpu_model", "H100-SXM-80GB");
    o.put("utilization_pct", 50).put("memory_used_mib", 1).put("memory_total_mib", 2);
    o.put("power_w", 300).put("temperature_c", 50);
    if (maxGap != null) {
      o.put("max_gap_s", maxGap);
    }
    if (migParent != null) {
      o.put("mig_parent_uuid", migParent);
    }
    java.time.Instant at = java.time.Instant.parse(ts);
    io.gputelemetry.event.ParseResult r =
        new io.gputelemetry.event.EventParser(Duration.ofDays(3650), Duration.ofDays(3650))
            .parse(io.gputelemetry.event.EventType.GPU_SAMPLE, o, at, null);
    assertTrue(r.ok(), () -> r.violations().toString());
    return r.event();
  }

  @Test
  void aSampleLaterThanItsAllowedGapCountsTheTimeBeyondIt() {
    telemetry.initProcessor(List.of(), List.of(), List.of(), List.of());
    scrape();
    // 30 s samples allowing 90 s: 90 s later is covered, 150 s later leaves 60 s uncovered.
    telemetry.gpuSample(sample("2026-11-28T12:00:00Z", 90.0, null));
    telemetry.gpuSample(sample("2026-11-28T12:01:30Z", 90.0, null));
    telemetry.gpuSample(sample("2026-11-28T12:04:00Z", 90.0, null));
    // A sample without max_gap_s (an HTTP client that sends none) is not judged here.
    telemetry.gpuSample(sample("2026-11-28T12:14:00Z", null, null));
    String s = scrape();
    assertEquals(1.0, value(s, "telemetry_gpu_sample_gaps_total"));
    assertEquals(60.0, value(s, "telemetry_gpu_uncovered_seconds_total"));
  }

  @Test
  void aSeriesIncrementedBeforeAnyScrapeAlsoStartsAtZero() {
    telemetry.unpriced("NEW-GPU");
    telemetry.unpriced("NEW-GPU");
    assertEquals(0.0, value(scrape(), "telemetry_unpriced_events_total", "gpu_model", "NEW-GPU"));
    assertEquals(2.0, value(scrape(), "telemetry_unpriced_events_total", "gpu_model", "NEW-GPU"));
  }

  @Test
  void withoutTenantLabelsTokensAreSummedIntoOneSeriesThatNamesNoTenant() {
    telemetry.tenantLabels(false);
    telemetry.tokens("m", "acme", 10, 5, 1);
    scrape();
    telemetry.tokens("m", "globex", 7, 3, 2);
    String s = scrape();
    assertEquals(
        17.0,
        value(s, "telemetry_tokens_total", "model", "m", "tenant", "_all", "direction", "input"));
    assertEquals(3.0, value(s, "telemetry_requests_total", "model", "m", "tenant", "_all"));
    assertTrue(!s.contains("acme") && !s.contains("globex"), "no tenant named");
  }

  @Test
  void knownLabelValuesExistAtZeroFromStartUp() {
    telemetry.initIngest(
        Map.of("/v1/token-usage", "token.usage.v1"), List.of(202, 503), List.of("too_old"));
    telemetry.initProducer(List.of("token.usage.v1"), List.of("http", "simulator"));
    telemetry.initProcessor(
        List.of("token.usage.v1"), List.of("token_usage"), List.of("too_large"), Set.of("H100"));
    String s = scrape();
    String[][] expected = {
      {"telemetry_ingest_requests_total", "route", "/v1/token-usage", "status", "503"},
      {"telemetry_ingest_requests_total", "route", "/v1/token-usage", "status", "202"},
      {"telemetry_ingest_backpressure_total", "route", "/v1/token-usage"},
      {"telemetry_events_rejected_total", "topic", "token.usage.v1", "reason", "too_old"},
      {"telemetry_events_produced_total", "topic", "token.usage.v1", "source", "simulator"},
      {"telemetry_produce_failures_total", "topic", "token.usage.v1"},
      {"telemetry_events_consumed_total", "topic", "token.usage.v1"},
      {"telemetry_events_stored_total", "topic", "token.usage.v1"},
      {"telemetry_events_dlq_total", "topic", "token.usage.v1", "reason", "too_large"},
      {"telemetry_store_write_failures_total", "collection", "token_usage", "kind", "data"},
      {"telemetry_unpriced_events_total", "gpu_model", "H100"},
      {"telemetry_store_retries_total"},
      {"telemetry_consumer_commit_failures_total"}
    };
    for (String[] e : expected) {
      String[] labels = Arrays.copyOfRange(e, 1, e.length);
      assertEquals(0.0, value(s, e[0], labels), String.join(" ", e));
    }
  }

  @Test
  void pausedTimeCountsWhileThePauseLasts() {
    telemetry.bindStandardMeters(() -> true);
    assertEquals(0.0, value(scrape(), "telemetry_consumer_paused_seconds_total"));
    telemetry.setPaused(true);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> value(scrape(), "telemetry_consumer_paused_seconds_total") > 0.05);
    assertEquals(1.0, value(scrape(), "telemetry_consumer_paused"));
    telemetry.setPaused(false);
    double after = value(scrape(), "telemetry_consumer_paused_seconds_total");
    assertTrue(after > 0.05);
    assertEquals(after, value(scrape(), "telemetry_consumer_paused_seconds_total"), "stops");
    telemetry.setPaused(true);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> value(scrape(), "telemetry_consumer_paused_seconds_total") > after + 0.05);
  }
}
