package io.gputelemetry.accounting;

import static io.gputelemetry.support.AccountingFixture.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.support.AccountingFixture;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.web.IngestRoutes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The usage API reads the ledger, and a late event beyond the ledger's horizon, sent through the
 * producer and Kafka like any other, re-opens its written interval, which the processor's writer
 * rewrites: the API's figures are the raw computation's before, meanwhile and after, and its answer
 * says how much of it came from the ledger.
 */
class LedgerLateEventIT {
  private final Instant t0 =
      Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(10, ChronoUnit.MINUTES);
  private final Instant to = t0.plusSeconds(60);

  private static final long ALLOCATION = 30_000;

  @Test
  void aLateEventOverKafkaReopensItsIntervalAndTheAnswersStayTheRawOnes(@TempDir Path dir)
      throws Exception {
    AccountingFixture f = new AccountingFixture(t0);
    Map<String, String> conf = new HashMap<>(UsageApiIT.conf(dir, f));
    // Written intervals end at least 20 s in the past; the fixture is 9 minutes older.
    conf.putAll(Map.of("ledger.lateness", "20s", "ledger.interval", "1s", "ledger.lease", "5s"));
    Vertx vertx = Vertx.vertx();
    try (RunningPipeline p = new RunningPipeline(conf)) {
      AppConfig c = p.processorConfig();
      MongoStore store = new MongoStore(vertx, c.mongo(), c.ledger().retention());
      UsageService raw =
          new UsageService(
              vertx,
              store,
              PriceBook.load(c.accounting().priceBook()),
              GpuProfiles.load(),
              c.accounting().maxSampleGap().toMillis(),
              c.longestSampleGap().toMillis(),
              c.accounting().allocationInterval().toMillis(),
              c.readingMaxGap().toMillis());
      JsonObject late = f.tokens.get(f.tokens.size() - 1);
      UsageApiIT.post(p, IngestRoutes.GPU_ROUTE, new JsonArray(f.samples));
      UsageApiIT.post(
          p, IngestRoutes.TOKEN_ROUTE, new JsonArray(f.tokens.subList(0, f.tokens.size() - 1)));
      long expected = f.samples.size() + f.tokens.size() - 1;
      await().atMost(Duration.ofSeconds(60)).until(() -> UsageApiIT.stored(p) >= expected);

      // The writer writes the fixture's intervals; then the answer is all from the ledger.
      JsonObject before = await().atMost(Duration.ofSeconds(60)).until(() -> usage(p), this::all);
      assertTrue(before.getJsonObject("source").getLong("ledger_rows") > 0, before.encode());
      UsageCalculator.Report rawBefore = get(raw.usage(ms(t0), ms(to), ALLOCATION, BY, 100, null));
      same(rawBefore, before, "before the late event");
      long lateInterval = Math.floorDiv(ms(Instant.parse(late.getString("ts"))), ALLOCATION);
      long revBefore = rev(p, lateInterval * ALLOCATION);

      // The late event, some 9 minutes after its time: beyond the horizon, its interval written.
      UsageApiIT.post(p, IngestRoutes.TOKEN_ROUTE, new JsonArray(List.of(late)));
      await().atMost(Duration.ofSeconds(60)).until(() -> UsageApiIT.stored(p) >= expected + 1);
      UsageCalculator.Report rawAfter = get(raw.usage(ms(t0), ms(to), ALLOCATION, BY, 100, null));
      assertTrue(
          rawAfter.groups().get("B").total().tokens()
              > rawBefore.groups().get("B").total().tokens(),
          "the late event counts in the raw computation");
      // Until the interval is rewritten, every answer is the raw one of before or of after the
      // late event (the re-opened interval from the raw events), never a mix.
      JsonObject after =
          await()
              .atMost(Duration.ofSeconds(60))
              .until(
                  () -> usage(p),
                  a -> {
                    boolean now = matches(rawAfter, a);
                    assertTrue(now || matches(rawBefore, a), "neither before nor after: " + a);
                    return now
                        && all(a)
                        && rev(p, lateInterval * ALLOCATION) > revBefore
                        && minuteMarks(p).isEmpty();
                  });
      same(rawAfter, after, "after the late event, rewritten");
      assertTrue(after.getJsonObject("source").getLong("ledger_rows") > 0, after.encode());
      // And the hand arithmetic of the fixture, which includes the late event.
      JsonObject b = UsageApiIT.group(after, "B");
      assertEquals(B_COST, b.getDouble("cost_usd"), 1e-9, "B cost");
      assertEquals(B_INPUT + B_OUTPUT, b.getDouble("total_tokens"), 1e-9, "B tokens");
      assertEquals(B_REQUESTS, b.getDouble("requests"), 1e-9, "B requests");
      assertEquals(A_COST, UsageApiIT.group(after, "A").getDouble("cost_usd"), 1e-9, "A cost");
      get(store.close());
    } finally {
      get(vertx.close());
    }
  }

  private static final UsageCalculator.GroupBy BY = UsageCalculator.GroupBy.TENANT;

  /** The answer of [t0, t0 + 60 s) by tenant in 30 s steps. */
  private JsonObject usage(RunningPipeline p) throws Exception {
    HttpResponse<String> r =
        p.get(p.processorUrl() + "/api/v1/usage?groupBy=tenant&step=30s&from=" + t0 + "&to=" + to);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** Whether the whole answer was read from the ledger. */
  private boolean all(JsonObject answer) {
    return answer.getJsonObject("source").getString("ledger_until").equals(to.toString());
  }

  /** The re-opened minute intervals not rewritten yet. */
  private static List<JsonObject> minuteMarks(RunningPipeline p) {
    return p.store().find("ledger_dirty", new JsonObject().put("grain", "MINUTE"));
  }

  /** The revision of the minute interval starting at {@code start}. */
  private static long rev(RunningPipeline p, long start) {
    List<JsonObject> docs =
        p.store()
            .find(
                "ledger_intervals", new JsonObject().put("_id", "MINUTE|" + start), List.of("rev"));
    assertEquals(1, docs.size(), "the interval is written: " + Instant.ofEpochMilli(start));
    return docs.get(0).getLong("rev");
  }

  private static boolean matches(UsageCalculator.Report raw, JsonObject answer) {
    try {
      same(raw, answer, "");
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }

  /** The answer's lines, series and idle line are the report's. */
  private static void same(UsageCalculator.Report raw, JsonObject answer, String what) {
    assertEquals(
        raw.groups().size(), answer.getJsonArray("groups").size(), what + " " + answer.encode());
    raw.groups()
        .forEach(
            (k, line) -> {
              JsonObject g = UsageApiIT.group(answer, k);
              same(line.total(), g, what + " " + k);
              for (int i = 0; i < line.series().size(); i++) {
                same(
                    line.series().get(i),
                    g.getJsonArray("series").getJsonObject(i),
                    what + " " + k + " step " + i);
              }
            });
    same(raw.idle().total(), answer.getJsonObject("idle"), what + " idle");
  }

  private static void same(UsageCalculator.Totals t, JsonObject line, String what) {
    near(t.costUsd(), line.getDouble("cost_usd"), what + " cost");
    near(t.energyJ(), line.getDouble("energy_j"), what + " energy");
    near(t.tokens(), line.getDouble("total_tokens"), what + " tokens");
    near(t.requests(), line.getDouble("requests"), what + " requests");
    near(t.gpuSeconds(), line.getDouble("gpu_seconds"), what + " GPU-s");
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-9, Math.abs(expected) * 1e-9), what);
  }

  private static long ms(Instant i) {
    return i.toEpochMilli();
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
