package io.gputelemetry.accounting;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.access.KeyFile;
import io.gputelemetry.support.Events;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.web.IngestRoutes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LiteLLM's logging payloads (real bytes, src/test/resources/litellm) and a GPU's samples through
 * the pipeline, then /api/v1/reconciliation against hand-computed figures, a tenant-bound key's
 * view, its bad parameters, and the budget object of the usage API for the same tenants.
 */
class ReconciliationIT {
  private static final String INGEST = "reconciliation-ingest-key-0123456789";
  private static final String READER = "reconciliation-reader-key-0123456789";
  private static final String TEAM_B = "reconciliation-team-b-key-0123456789";
  private static final double EPS = 1e-9;
  private static final double REPORTED = 3.7500000000000003e-05;

  private final Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minusSeconds(120);

  /** LiteLLM's GCS test payload, moved to t0 + {@code at} s under another id, team and model. */
  private JsonObject liteLlm(String id, String team, String model, int at) throws Exception {
    JsonObject p =
        new JsonObject(
            Files.readString(
                Path.of("src/test/resources/litellm/gcs_bucket_mock_response_data.json")));
    double end = t0.getEpochSecond() + at;
    p.put("id", id).put("model", model);
    p.getJsonObject("metadata").put("user_api_key_team_alias", team);
    return p.put("startTime", end - 2.0).put("completionStartTime", end - 1.5).put("endTime", end);
  }

  @Test
  void reportedCostMeetsComputedCostPerTenantAndModel(@TempDir Path dir) throws Exception {
    Path prices =
        Files.writeString(
            dir.resolve("prices.json"),
            "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\":"
                + " \"2020-01-01T00:00:00Z\", \"usd_per_hour\": 36}]}");
    Path budgets =
        Files.writeString(
            dir.resolve("budgets.json"),
            "{\"budgets\": [{\"tenant\": \"team-a\", \"monthly_usd\": 0.9, \"monthly_kwh\": 1}]}");
    Path keys = dir.resolve("keys");
    Files.write(
        keys,
        List.of(
            KeyFile.line("reader", READER, "read,metrics", null),
            KeyFile.line("team-b", TEAM_B, "read", "tenant=team-b")));
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of(
                "pricing.price-book", prices.toString(),
                "budgets.file", budgets.toString(),
                "budgets.interval", "1s",
                "auth.keys-file", keys.toString(),
                "ingest.api-keys", INGEST))) {
      // GPU g1 (GA, $36/h = $0.01/s) serves my-fake-model every second across [t0, t0 + 60 s):
      // $0.60 and 600 W x 60 s = 36 000 J.
      JsonArray samples = new JsonArray();
      for (int s = -1; s <= 60; s++) {
        samples.add(
            Events.sample("GPU-rec-1")
                .put("ts", t0.plusSeconds(s).toString())
                .put("gpu_model", "GA")
                .put("model", "my-fake-model")
                .put("power_w", 600.0));
      }
      post(p, IngestRoutes.GPU_ROUTE, samples.encode());
      // 9 + 12 tokens and $0.0000375 reported each: team-a twice, team-b once on the GPU's model
      // and once on a model no GPU serves; team-a once more without a reported cost.
      JsonArray payloads =
          new JsonArray()
              .add(liteLlm("req-1", "team-a", "my-fake-model", 30))
              .add(liteLlm("req-2", "team-a", "my-fake-model", 31))
              .add(liteLlm("req-3", "team-b", "my-fake-model", 32))
              .add(liteLlm("req-4", "team-b", "other-model", 33));
      post(p, IngestRoutes.LITELLM_ROUTE, payloads.encode());
      JsonObject plain =
          new JsonObject()
              .put("event_id", "plain-1")
              .put("ts", t0.plusSeconds(40).toString())
              .put("tenant", "team-a")
              .put("model", "my-fake-model")
              .put("input_tokens", 9)
              .put("output_tokens", 12);
      post(p, IngestRoutes.TOKEN_ROUTE, new JsonArray().add(plain).encode());
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.store().count("gpu_metrics") == 62 && p.store().count("token_usage") == 5);

      String range = "?from=" + t0 + "&to=" + t0.plusSeconds(60);
      String api = p.processorUrl() + "/api/v1/reconciliation";
      HttpResponse<String> r = p.get(api + range, READER);
      assertEquals(200, r.statusCode(), r.body());
      JsonArray rows = new JsonObject(r.body()).getJsonArray("rows");
      assertEquals(3, rows.size(), r.body());
      // team-a: 63 of the model's 84 tokens, 0.75 x $0.60 = $0.45; reported 2 x $0.0000375.
      JsonObject a = rows.getJsonObject(0);
      assertEquals("team-a", a.getString("tenant"));
      assertEquals("my-fake-model", a.getString("model"));
      assertEquals(2 * REPORTED, a.getDouble("reported_cost_usd"), EPS);
      assertEquals(0.45, a.getDouble("computed_cost_usd"), EPS);
      assertEquals(2 * REPORTED - 0.45, a.getDouble("difference_usd"), EPS);
      assertEquals((2 * REPORTED - 0.45) / 0.45 * 100, a.getDouble("difference_pct"), EPS);
      assertEquals(2, a.getInteger("requests_with_reported_cost"));
      assertEquals(1, a.getInteger("requests_without_reported_cost"));
      assertFalse(a.getBoolean("comparable"));
      // team-b on the GPU's model: 21 of 84 tokens, $0.15; every request reported a cost.
      JsonObject b = rows.getJsonObject(1);
      assertEquals("team-b", b.getString("tenant"));
      assertEquals("my-fake-model", b.getString("model"));
      assertEquals(REPORTED, b.getDouble("reported_cost_usd"), EPS);
      assertEquals(0.15, b.getDouble("computed_cost_usd"), EPS);
      assertEquals(-99.975, b.getDouble("difference_pct"), EPS);
      assertTrue(b.getBoolean("comparable"));
      // team-b on a model no GPU serves: the computed cost is unknown, so is the difference.
      JsonObject u = rows.getJsonObject(2);
      assertEquals("other-model", u.getString("model"));
      assertEquals(REPORTED, u.getDouble("reported_cost_usd"), EPS);
      assertTrue(u.containsKey("computed_cost_usd") && u.getValue("computed_cost_usd") == null);
      assertNull(u.getValue("difference_usd"));
      assertNull(u.getValue("difference_pct"));
      assertEquals(21.0, u.getDouble("unmetered_tokens"), EPS);

      // A key bound to team-b sees team-b's rows only, with the same figures.
      HttpResponse<String> own = p.get(api + range, TEAM_B);
      assertEquals(200, own.statusCode(), own.body());
      JsonObject mine = new JsonObject(own.body());
      assertEquals("team-b", mine.getString("tenant"));
      assertEquals(new JsonArray().add(b).add(u), mine.getJsonArray("rows"));

      // The usage API's parameter rules.
      for (String[] bad :
          new String[][] {
            {range + "&groupBy=tenant", "groupBy"},
            {"?from=" + t0, "to"},
            {"?from=" + t0 + "&to=" + t0.minusSeconds(1), "to"},
            {"?from=" + t0.minus(32, ChronoUnit.DAYS) + "&to=" + t0, "to"},
            {"?from=yesterday&to=" + t0, "from"}
          }) {
        HttpResponse<String> e = p.get(api + bad[0], READER);
        assertEquals(400, e.statusCode(), bad[0] + ": " + e.body());
        assertEquals(bad[1], new JsonObject(e.body()).getString("parameter"), e.body());
      }
      assertEquals(401, p.get(api + range, null).statusCode());

      // team-a's budget in the usage API: $0.45 of $0.90 this month, 0.75 x 36 000 J = 0.0075 kWh
      // of 1 kWh (when the whole fixture lies in the current month).
      Assumptions.assumeTrue(
          t0.toEpochMilli() >= BudgetStatus.monthStart(System.currentTimeMillis()),
          "the fixture's minute lies in the previous month");
      String usage =
          p.processorUrl()
              + "/api/v1/usage?groupBy=tenant&from="
              + t0.minusSeconds(60)
              + "&to="
              + t0.plusSeconds(120);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  budget(p, usage) != null
                      && budget(p, usage).getValue("as_of") != null
                      && Math.abs(
                              budget(p, usage).getJsonObject("cost").getDouble("used_usd") - 0.45)
                          < EPS);
      JsonObject budget = budget(p, usage);
      assertEquals(0.9, budget.getJsonObject("cost").getDouble("limit_usd"), EPS);
      assertEquals(0.5, budget.getJsonObject("cost").getDouble("used_ratio"), EPS);
      assertEquals(0.0075, budget.getJsonObject("energy").getDouble("used_kwh"), EPS);
      assertEquals(0.0075, budget.getJsonObject("energy").getDouble("used_ratio"), EPS);
      String metrics = p.get(p.processorUrl() + "/metrics", READER).body();
      assertTrue(
          metrics.contains("telemetry_budget_used_ratio{kind=\"cost\",tenant=\"team-a\"} 0.5"),
          metrics);
    }
  }

  /** team-a's budget object in a usage answer grouped by tenant. */
  private static JsonObject budget(RunningPipeline p, String url) throws Exception {
    JsonObject usage = new JsonObject(p.get(url, READER).body());
    for (Object g : usage.getJsonArray("groups")) {
      JsonObject line = (JsonObject) g;
      if ("team-a".equals(line.getString("key"))) {
        return line.getJsonObject("budget");
      }
    }
    return null;
  }

  private static void post(RunningPipeline p, String route, String body) throws Exception {
    HttpResponse<String> r =
        p.post(route, "application/json", body.getBytes(StandardCharsets.UTF_8), INGEST);
    assertEquals(202, r.statusCode(), r.body());
  }
}
