package io.gputelemetry.accounting;

import static io.gputelemetry.support.AccountingFixture.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.support.AccountingFixture;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.web.IngestRoutes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The query API over the accounting fixture: the hand-computed figures, identical through one and
 * three processors and after a replay, and clear 400s for bad parameters.
 */
class UsageApiIT {
  private final Instant t0 =
      Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(10, ChronoUnit.MINUTES);

  static Map<String, String> conf(Path dir, AccountingFixture f) throws Exception {
    return Map.of(
        "pricing.price-book",
        f.writePriceBook(dir).toString(),
        "accounting.allocation-interval",
        "30s",
        "accounting.max-sample-gap",
        "3s",
        "api.max-cells",
        Integer.toString(MAX_CELLS));
  }

  /** Cells an answer may hold in these tests: the 30 s queries hold (3 tenants + idle) x 2. */
  private static final int MAX_CELLS = 100;

  private void ingest(RunningPipeline p, AccountingFixture f) throws Exception {
    post(p, IngestRoutes.GPU_ROUTE, new JsonArray(f.samples));
    post(p, IngestRoutes.TOKEN_ROUTE, new JsonArray(f.tokens.subList(0, f.tokens.size() - 1)));
    long expected = f.samples.size() + f.tokens.size() - 1;
    await().atMost(Duration.ofSeconds(60)).until(() -> stored(p) >= expected);
    // The late event arrives after the rest was stored.
    post(
        p,
        IngestRoutes.TOKEN_ROUTE,
        new JsonArray(f.tokens.subList(f.tokens.size() - 1, f.tokens.size())));
    await().atMost(Duration.ofSeconds(60)).until(() -> stored(p) >= expected + 1);
  }

  static long stored(RunningPipeline p) {
    return p.store().count("gpu_metrics") + p.store().count("token_usage");
  }

  static void post(RunningPipeline p, String route, JsonArray events) throws Exception {
    HttpResponse<String> r =
        p.post(route, "application/json", events.encode().getBytes(StandardCharsets.UTF_8), null);
    assertEquals(202, r.statusCode(), r.body());
  }

  /** The usage of the fixture's minute [t0, t0 + 60 s). */
  private HttpResponse<String> query(RunningPipeline p, String base, String groupBy, String step)
      throws Exception {
    return p.get(
        base
            + "/api/v1/usage?from="
            + t0
            + "&to="
            + t0.plusSeconds(60)
            + "&groupBy="
            + groupBy
            + "&step="
            + step);
  }

  private JsonObject usage(RunningPipeline p, String base, String groupBy) throws Exception {
    HttpResponse<String> r = query(p, base, groupBy, "30s");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /**
   * An answer over api.max-cells, and step and date values beyond what a duration or an instant
   * holds, are 400s naming the parameter (no 500, no answer built).
   */
  private void answersTooLargeOrOutOfRangeAre400(RunningPipeline p, String base) throws Exception {
    // Tenants A, B, C and the idle line over [t0 - 14 min, t0 + 1 min) in 30 s steps (steps must
    // be multiples of the 30 s allocation interval): 4 x 30 = 120 cells > 100.
    HttpResponse<String> r =
        p.get(
            base
                + "/api/v1/usage?groupBy=tenant&step=30s&from="
                + t0.minusSeconds(840)
                + "&to="
                + t0.plusSeconds(60));
    assertEquals(400, r.statusCode(), r.body());
    JsonObject error = new JsonObject(r.body());
    assertEquals("too_many_cells", error.getString("code"));
    assertEquals(120L, error.getLong("cells"));
    assertEquals(MAX_CELLS, error.getInteger("limit"));
    assertTrue(error.getString("error").contains("api.max-cells"), r.body());
    String range = "/api/v1/usage?from=" + t0 + "&to=" + t0.plusSeconds(60);
    HttpResponse<String> offGrid = p.get(base + range + "&step=45s");
    assertEquals(400, offGrid.statusCode(), offGrid.body());
    JsonObject e = new JsonObject(offGrid.body());
    assertEquals("bad_parameter", e.getString("code"));
    assertEquals("step", e.getString("parameter"));
    assertTrue(
        e.getString("error").contains("multiple of the allocation interval 30s"), offGrid.body());
    for (String[] bad :
        new String[][] {
          {range + "&step=99999999999999999999999s", "step"},
          {range + "&step=9223372036854775807d", "step"},
          {"/api/v1/usage?from=%2B999999999-01-01T00:00:00Z&to=" + t0, "from"},
          {"/api/v1/usage?from=" + t0 + "&to=%2B999999999-12-31T23:59:59Z", "to"},
          {"/api/v1/usage?from=-999999999-01-01T00:00:00Z&to=" + t0, "from"}
        }) {
      HttpResponse<String> b = p.get(base + bad[0]);
      assertEquals(400, b.statusCode(), bad[0] + ": " + b.body());
      assertEquals(bad[1], new JsonObject(b.body()).getString("parameter"), b.body());
    }
  }

  static JsonObject group(JsonObject report, String key) {
    return report.getJsonArray("groups").stream()
        .map(JsonObject.class::cast)
        .filter(g -> g.getString("key").equals(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no group " + key));
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-9, Math.abs(expected) * 1e-4), what);
  }

  @Test
  void tenantCostAndEnergyMatchTheHandArithmeticThroughOneAndThreeProcessorsAndAReplay(
      @TempDir Path dir) throws Exception {
    AccountingFixture f = new AccountingFixture(t0);
    JsonObject one;
    try (RunningPipeline p = new RunningPipeline(conf(dir, f))) {
      ingest(p, f);
      one = usage(p, p.processorUrl(), "tenant");
      answersTooLargeOrOutOfRangeAre400(p, p.processorUrl());
      near(A_COST, group(one, "A").getDouble("cost_usd"), "A cost");
      // Every price of the fixture's book is on-demand on every node: list = contracted = billed.
      near(A_COST, group(one, "A").getDouble("list_cost_usd"), "A list cost");
      near(A_COST, group(one, "A").getDouble("contracted_cost_usd"), "A contracted cost");
      near(A_COST, group(one, "A").getDouble("billed_cost_usd"), "A billed cost");
      near(A_ENERGY, group(one, "A").getDouble("energy_j"), "A energy");
      near(A_INPUT + A_OUTPUT, group(one, "A").getDouble("total_tokens"), "A tokens");
      near(
          B_COST,
          group(one, "B").getDouble("cost_usd"),
          "B cost (includes the late event's share)");
      near(B_ENERGY, group(one, "B").getDouble("energy_j"), "B energy");
      near(B_INPUT + B_OUTPUT, group(one, "B").getDouble("total_tokens"), "B tokens");
      // Cost per token over priced tokens only: m1's GPU time is half unpriced (g3), so B's
      // 250 m1 tokens count 125 priced beside its 2000 m2 tokens (docs/accounting.md).
      near(2125, group(one, "B").getDouble("priced_tokens"), "B priced tokens");
      near(125, group(one, "B").getDouble("unpriced_tokens"), "B unpriced tokens");
      near(
          B_COST / 2125 * 1e6,
          group(one, "B").getDouble("cost_per_1m_tokens_usd"),
          "B $/1M priced tokens");
      assertNullField(group(one, "C"), "cost_per_1m_tokens_usd");
      assertNullField(group(one, "C"), "joules_per_token");
      assertNullField(one.getJsonObject("idle"), "tokens_per_joule");
      near(
          B_ENERGY / (B_INPUT + B_OUTPUT),
          group(one, "B").getDouble("joules_per_token"),
          "B J/token");
      near(C_TOKENS, group(one, "C").getDouble("unmetered_tokens"), "C unmetered");
      near(A_REQUESTS, group(one, "A").getDouble("requests"), "A requests");
      near(B_REQUESTS, group(one, "B").getDouble("requests"), "B requests (the late one too)");
      near(C_REQUESTS, group(one, "C").getDouble("requests"), "C requests");
      near(A_GPU_SECONDS, group(one, "A").getDouble("gpu_seconds"), "A GPU seconds");
      near(B_GPU_SECONDS, group(one, "B").getDouble("gpu_seconds"), "B GPU seconds");
      near(IDLE_GPU_SECONDS, one.getJsonObject("idle").getDouble("gpu_seconds"), "idle GPU s");
      JsonObject totals = one.getJsonObject("totals");
      near(FLEET_COST, totals.getDouble("fleet_gpu_cost_usd"), "fleet cost");
      near(IDLE_COST, totals.getDouble("idle_cost_usd"), "idle cost");
      near(FLEET_ENERGY, totals.getDouble("energy_j"), "fleet energy");
      near(UNPRICED_SECONDS, totals.getDouble("unpriced_gpu_seconds"), "unpriced GPU seconds");
      near(FLEET_GPU_SECONDS, totals.getDouble("gpu_seconds"), "fleet GPU seconds");
      near(A_REQUESTS + B_REQUESTS + C_REQUESTS, totals.getDouble("requests"), "fleet requests");
      double sum =
          one.getJsonArray("groups").stream()
                  .map(JsonObject.class::cast)
                  .mapToDouble(g -> g.getDouble("cost_usd"))
                  .sum()
              + one.getJsonObject("idle").getDouble("cost_usd");
      near(FLEET_COST, sum, "tenants + idle = fleet");
      JsonObject byModel = usage(p, p.processorUrl(), "model");
      near(M1_COST, group(byModel, "m1").getDouble("cost_usd"), "m1 cost");
      near(M2_ENERGY, group(byModel, "m2").getDouble("energy_j"), "m2 energy");
    }
    try (RunningPipeline p = new RunningPipeline(conf(dir, f))) {
      Application second = p.addProcessor();
      Application third = p.addProcessor();
      awaitThreeMembersWithPartitions(p);
      ingest(p, f);
      JsonObject three = usage(p, "http://127.0.0.1:" + third.httpPort(), "tenant");
      assertSameFigures(one, three, "three processors");
      long storing =
          Stream.of(p.processor(), second, third)
              .filter(a -> a.processor().stats().stored.get() > 0)
              .count();
      assertTrue(storing >= 2, "the processors shared the partitions: " + storing + " stored");

      for (Application a : List.of(p.processor(), second, third)) {
        a.close();
      }
      resetGroup(p);
      Application replay = p.addProcessor();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> replay.processor().stats().duplicates.get() >= stored(p));
      assertSameFigures(
          one, usage(p, "http://127.0.0.1:" + replay.httpPort(), "tenant"), "after a replay");
    }
  }

  /** The field is in the answer, as JSON null (a ratio without a denominator is not 0). */
  private static void assertNullField(JsonObject line, String field) {
    assertTrue(line.containsKey(field) && line.getValue(field) == null, field + " in " + line);
  }

  private static void assertSameFigures(JsonObject a, JsonObject b, String what) {
    assertEquals(a.getJsonArray("groups").size(), b.getJsonArray("groups").size(), what);
    for (Object o : a.getJsonArray("groups")) {
      JsonObject g = (JsonObject) o;
      JsonObject h = group(b, g.getString("key"));
      for (String field :
          List.of("cost_usd", "energy_j", "total_tokens", "requests", "gpu_seconds")) {
        near(
            g.getDouble(field), h.getDouble(field), what + ": " + g.getString("key") + " " + field);
      }
    }
    near(
        a.getJsonObject("totals").getDouble("idle_cost_usd"),
        b.getJsonObject("totals").getDouble("idle_cost_usd"),
        what);
  }

  /** Until the group has three members, each assigned partitions (the rebalance is over). */
  private static void awaitThreeMembersWithPartitions(RunningPipeline p) throws Exception {
    String group = p.processorConfig().processor().groupId();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(
              () -> {
                ConsumerGroupDescription d =
                    admin
                        .describeConsumerGroups(List.of(group))
                        .describedGroups()
                        .get(group)
                        .get(10, TimeUnit.SECONDS);
                return d.members().size() == 3
                    && d.members().stream()
                        .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
              });
    }
  }

  private static void resetGroup(RunningPipeline p) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
      Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
      for (String t :
          List.of(
              p.config().kafka().topics().gpuMetrics(), p.config().kafka().topics().tokenUsage())) {
        for (int i = 0; i < 3; i++) {
          zero.put(new TopicPartition(t, i), new OffsetAndMetadata(0));
        }
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () -> {
                admin
                    .alterConsumerGroupOffsets(p.processorConfig().processor().groupId(), zero)
                    .all()
                    .get(10, TimeUnit.SECONDS);
                return true;
              });
    }
  }

  @Test
  void badParametersAnswer400NamingTheParameter() throws Exception {
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      String u = p.processorUrl() + "/api/v1/usage";
      Map<String, String> cases =
          Map.of(
              "?to=2026-01-01T00:00:00Z", "from",
              "?from=yesterday&to=2026-01-01T00:00:00Z", "from",
              "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to",
              "?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to",
              "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&groupBy=colour", "groupBy",
              "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=90s", "step",
              "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=soon", "step",
              "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&group_by=tenant", "group_by",
              "?from=2026-01-01T00:00:00Z&from=2026-01-01T00:00:01Z&to=2026-01-02T00:00:00Z",
                  "from");
      for (Map.Entry<String, String> c : cases.entrySet()) {
        HttpResponse<String> r = p.get(u + c.getKey());
        assertEquals(400, r.statusCode(), c.getKey());
        assertEquals(
            c.getValue(),
            new JsonObject(r.body()).getString("parameter"),
            c.getKey() + " " + r.body());
      }
      assertEquals(400, p.get(p.processorUrl() + "/api/v1/gpus?status=sleeping").statusCode());
      assertEquals(400, p.get(p.processorUrl() + "/api/v1/gpus?limit=0").statusCode());
      HttpResponse<String> unknown = p.get(p.processorUrl() + "/api/v1/gpus?stauts=idle");
      assertEquals(400, unknown.statusCode(), "a misspelt filter is not silently ignored");
      assertEquals("stauts", new JsonObject(unknown.body()).getString("parameter"));
      assertEquals(404, p.get(p.processorUrl() + "/api/v1/gpus/GPU-none").statusCode());
    }
  }

  @Test
  void gpuInventoryListsFiltersAndShowsASeries() throws Exception {
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      JsonArray samples = new JsonArray();
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      for (int i = 10; i >= 1; i--) {
        samples.add(
            io.gputelemetry.support.Events.sample("GPU-busy")
                .put("event_id", "b" + i)
                .put("ts", now.minusSeconds(i).toString())
                .put("utilization_pct", 80.0)
                .put("model", "m1"));
      }
      samples.add(
          io.gputelemetry.support.Events.sample("GPU-idle")
              .put("utilization_pct", 1.0)
              .put("model", "m2")
              .put("node", "node-2"));
      samples.add(
          io.gputelemetry.support.Events.sample("GPU-old")
              .put("ts", now.minusSeconds(3600).toString()));
      post(p, IngestRoutes.GPU_ROUTE, samples);
      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("gpus") == 3);
      JsonObject all = new JsonObject(p.get(p.processorUrl() + "/api/v1/gpus").body());
      assertEquals(3, all.getInteger("total"));
      assertEquals("active", statusOf(p, "GPU-busy"));
      assertEquals("idle", statusOf(p, "GPU-idle"));
      assertEquals("stale", statusOf(p, "GPU-old"));
      JsonObject node2 =
          new JsonObject(p.get(p.processorUrl() + "/api/v1/gpus?node=node-2").body());
      assertEquals(1, node2.getInteger("total"));
      JsonObject one =
          new JsonObject(p.get(p.processorUrl() + "/api/v1/gpus/GPU-busy?window=1m").body());
      assertEquals(10, one.getJsonArray("series").size());
      assertEquals(
          now.minusSeconds(1).toString(), one.getJsonObject("latest_sample").getString("ts"));
      assertTrue(
          one.getJsonArray("series")
                  .getJsonObject(0)
                  .getString("ts")
                  .compareTo(one.getJsonArray("series").getJsonObject(9).getString("ts"))
              < 0,
          "series in time order");
    }
  }

  @Test
  void modelLatencyIsTheStoredRequestsOfTheRange() throws Exception {
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      JsonArray tokens = new JsonArray();
      for (double ms : new double[] {100, 200, 300, 400}) {
        tokens.add(
            io.gputelemetry.support.Events.token("acme").put("model", "m1").put("latency_ms", ms));
      }
      tokens.getJsonObject(0).put("ttft_ms", 50.0);
      tokens.getJsonObject(3).put("ttft_ms", 70.0);
      JsonObject none = io.gputelemetry.support.Events.token("acme").put("model", "m2");
      none.remove("latency_ms");
      tokens.add(none);
      JsonObject ttftOnly =
          io.gputelemetry.support.Events.token("acme").put("model", "m3").put("ttft_ms", 80.0);
      ttftOnly.remove("latency_ms");
      tokens.add(ttftOnly);
      tokens.add(
          io.gputelemetry.support.Events.token("acme")
              .put("model", "m1")
              .put("latency_ms", 9999.0)
              .put("ts", now.minus(2, ChronoUnit.HOURS).toString()));
      post(p, IngestRoutes.TOKEN_ROUTE, tokens);
      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("token_usage") == 7);
      JsonObject r =
          new JsonObject(
              p.get(
                      p.processorUrl()
                          + "/api/v1/latency?from="
                          + now.minus(1, ChronoUnit.HOURS)
                          + "&to="
                          + now.plusSeconds(60))
                  .body());
      assertEquals("fleet", r.getString("scope"));
      JsonArray models = r.getJsonArray("models");
      assertEquals(2, models.size(), "m2 carries no latency: " + models);
      JsonObject m1 = models.getJsonObject(0);
      assertEquals("m1", m1.getString("model"));
      JsonObject latency = m1.getJsonObject("latency_ms");
      assertEquals(4, latency.getInteger("requests"), "the request two hours ago is out of range");
      assertEquals(250.0, latency.getDouble("mean"));
      assertEquals(400.0, latency.getDouble("max"));
      assertEquals(200, latency.getDouble("p50"), 200 * 0.011);
      assertEquals(400, latency.getDouble("p99"), 400 * 0.011);
      JsonObject ttft = m1.getJsonObject("ttft_ms");
      assertEquals(2, ttft.getInteger("requests"));
      assertEquals(50.0, ttft.getDouble("p50"));
      assertEquals(70.0, ttft.getDouble("p99"));
      JsonObject m3 = models.getJsonObject(1);
      assertEquals("m3", m3.getString("model"));
      assertEquals(null, m3.getValue("latency_ms"));
      assertEquals(80.0, m3.getJsonObject("ttft_ms").getDouble("p90"));
      HttpResponse<String> bad =
          p.get(p.processorUrl() + "/api/v1/latency?from=" + now + "&to=" + now);
      assertEquals(400, bad.statusCode());
      assertEquals("to", new JsonObject(bad.body()).getString("parameter"));
    }
  }

  private static String statusOf(RunningPipeline p, String gpu) throws Exception {
    return new JsonObject(p.get(p.processorUrl() + "/api/v1/gpus/" + gpu).body())
        .getString("status");
  }
}
