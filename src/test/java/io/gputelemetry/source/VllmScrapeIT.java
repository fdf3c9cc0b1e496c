package io.gputelemetry.source;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.producer.SourcesVerticle;
import io.gputelemetry.support.CapturedLogs;
import io.gputelemetry.support.FixtureExporter;
import io.gputelemetry.support.FixtureExporter.Mode;
import io.gputelemetry.support.RunningPipeline;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * vLLM servers (the V0 fixture with counters set by the test) scraped through the real broker into
 * the store as counter readings; the usage API derives the tokens from them. Target 0 is scraped by
 * two producers, target 1 (same counters, another tenant) by one: both give the hand-computed
 * figures, a restart of the server included. A garbage target and a NaN counter are precise
 * per-target failures that cost the others nothing.
 */
class VllmScrapeIT {
  private static final int TWICE = 0;
  private static final int ONCE = 1;
  private static final int GARBAGE = 2;
  private static final int NAN = 3;

  /** The counters' states (prompt, generation, requests): the 4th is a restart of the server. */
  private static final long[][] STATES = {
    {1000, 400, 10}, {1600, 640, 25}, {2500, 1000, 40}, {300, 120, 5}, {900, 360, 20}
  };

  // By hand: 600 + 900 + 300 (after the restart, from 0) + 600 prompt tokens; 240 + 360 + 120 +
  // 240 generated; 15 + 15 + 5 + 15 requests. The first reading is the baseline.
  private static final double INPUT = 2400;
  private static final double OUTPUT = 960;
  private static final double REQUESTS = 50;

  @Test
  void twoProducersGiveTheSameTokensAsOneAndBadTargetsArePrecise() throws Exception {
    try (FixtureExporter exporter = new FixtureExporter(0, 1);
        CapturedLogs logs = new CapturedLogs(SourcesVerticle.class)) {
      exporter.vllmMode(GARBAGE, Mode.GARBAGE);
      exporter.vllmMode(NAN, Mode.NAN_POWER);
      set(exporter, STATES[0]);
      Instant start = Instant.now().minusSeconds(60);
      String twice = exporter.vllmUrl(TWICE);
      String once = exporter.vllmUrl(ONCE);
      try (RunningPipeline p =
          new RunningPipeline(
              Map.of(
                  "sources.vllm.targets",
                  String.join(
                      ",",
                      twice + "|tenant=acme",
                      once + "|tenant=globex",
                      exporter.vllmUrl(GARBAGE),
                      exporter.vllmUrl(NAN)),
                  "sources.vllm.interval",
                  "1s",
                  "sources.vllm.timeout",
                  "1s"))) {
        Application second = p.addProducer(Map.of("sources.vllm.targets", twice + "|tenant=acme"));
        metrics(p.baseUrl(), p);
        for (long[] state : STATES) {
          set(exporter, state);
          awaitReading(p, twice, state);
          awaitReading(p, once, state);
        }
        String second0 = "http://127.0.0.1:" + second.httpPort();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> metrics(second0, p).getOrDefault(key("parsed", twice, null), 0.0) >= 1);

        JsonObject usage =
            new JsonObject(
                p.get(
                        p.processorUrl()
                            + "/api/v1/usage?from="
                            + start
                            + "&to="
                            + Instant.now().plusSeconds(60)
                            + "&groupBy=tenant")
                    .body());
        for (String tenant : List.of("acme", "globex")) {
          JsonObject g = group(usage, tenant);
          assertEquals(INPUT, g.getDouble("input_tokens"), tenant + " input");
          assertEquals(OUTPUT, g.getDouble("output_tokens"), tenant + " output");
          assertEquals(REQUESTS, g.getDouble("requests"), tenant + " requests");
        }

        // Per target: the restart counted and logged, garbage and NaN precise, nothing else lost.
        Map<String, Double> m = metrics(p.baseUrl(), p);
        assertEquals(1.0, m.get(key("resets", once, null)), "one restart of target 1");
        assertTrue(m.get(key("failures", exporter.vllmUrl(GARBAGE), "parse")) >= 1);
        assertTrue(m.get(key("rejected", exporter.vllmUrl(NAN), "bad_value")) >= 1);
        assertTrue(
            logs.lines().stream()
                .anyMatch(
                    l ->
                        Level.WARN.equals(l.level())
                            && l.message()
                                .equals(
                                    "source vllm "
                                        + once
                                        + ": counters of model facebook/opt-125m went down"
                                        + " (prompt 2500 -> 300, generation 1000 -> 120, requests"
                                        + " 40 -> 5): the server restarted, counting from 0")),
            () -> logs.lines().toString());
        assertTrue(
            logs.lines().stream()
                .anyMatch(
                    l ->
                        Level.WARN.equals(l.level())
                            && l.message().startsWith("source vllm " + exporter.vllmUrl(NAN))
                            && l.message()
                                .contains(
                                    "bad_value: vllm:prompt_tokens_total of model"
                                        + " facebook/opt-125m is NaN")),
            () -> logs.lines().toString());
        assertTrue(
            p.store()
                .find("token_usage", new JsonObject().put("reading_of", exporter.vllmUrl(NAN)))
                .isEmpty());
      }
    }
  }

  private static void set(FixtureExporter exporter, long[] s) {
    for (int t : new int[] {TWICE, ONCE, NAN}) {
      exporter.vllm(t, s[0], s[1], s[2]);
    }
  }

  private static void awaitReading(RunningPipeline p, String target, long[] s) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                !p.store()
                    .find(
                        "token_usage",
                        new JsonObject()
                            .put("reading_of", target)
                            .put("prompt_tokens_total", s[0])
                            .put("generation_tokens_total", s[1])
                            .put("requests_total", s[2]))
                    .isEmpty());
  }

  private static JsonObject group(JsonObject report, String key) {
    return report.getJsonArray("groups").stream()
        .map(JsonObject.class::cast)
        .filter(g -> g.getString("key").equals(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no group " + key + " in " + report));
  }

  private static String key(String what, String target, String reason) {
    return what + "|" + target + "|" + (reason == null ? "" : reason);
  }

  private static Map<String, Double> metrics(String base, RunningPipeline p) throws Exception {
    String text = p.get(base + "/metrics").body();
    Map<String, Double> m = new java.util.HashMap<>();
    for (PromText.Sample s : PromText.parse(text, 1 << 20).samples()) {
      if (!"vllm".equals(s.label("source"))) {
        continue;
      }
      String what =
          switch (s.name()) {
            case "telemetry_source_counter_resets_total" -> "resets";
            case "telemetry_source_scrape_failures_total" -> "failures";
            case "telemetry_source_samples_rejected_total" -> "rejected";
            case "telemetry_source_samples_parsed_total" -> "parsed";
            default -> null;
          };
      if (what != null) {
        m.put(key(what, s.label("target"), s.label("reason")), s.value());
      }
    }
    return m;
  }
}
