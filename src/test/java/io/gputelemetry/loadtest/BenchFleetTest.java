package io.gputelemetry.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.support.TestMongo;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The benches' ledger is the raw computation's: the roll-up of a simulated fleet's minute ledger
 * reports what the calculator reports from the stored raw events, and the generated days report
 * what their hours do. Tagged slow (half a minute on a loaded machine): it checks the benches, not
 * the product, so it runs with the fault tests, not in every build.
 */
@Tag("slow")
class BenchFleetTest {
  private static final long FROM = Instant.parse("2026-11-30T00:00:00Z").toEpochMilli();
  private static final long TO = FROM + 5 * BenchFleet.MINUTE;
  private static final long MAX_GAP = 30_000;
  private static TestMongo mongo;
  private static Vertx vertx;
  private static MongoStore store;

  @BeforeAll
  static void start() throws Exception {
    mongo = new TestMongo();
    vertx = Vertx.vertx();
    store =
        new MongoStore(
            vertx,
            new AppConfig.Mongo(mongo.uri(), "bench", Duration.ofDays(7), Duration.ofSeconds(10)));
    BenchFleet.get(store.ensureSchema());
    AppConfig.Simulator sim =
        BenchFleet.simulator(
            2, 2, List.of("H100-SXM-80GB", "A100-SXM-80GB"), 3, 4, 8, Duration.ofSeconds(10));
    BenchFleet.storeRaw(store, sim, Instant.ofEpochMilli(FROM), Duration.ofMillis(TO - FROM));
  }

  @AfterAll
  static void stop() throws Exception {
    BenchFleet.get(store.close());
    BenchFleet.get(vertx.close());
    mongo.close();
  }

  private static void assertSame(Totals raw, Totals ledger, String what) {
    assertEquals(raw.costUsd(), ledger.costUsd(), 1e-9 * Math.abs(raw.costUsd()), what + " cost");
    assertEquals(raw.gpuSeconds(), ledger.gpuSeconds(), 1e-9 * raw.gpuSeconds(), what + " GPU-s");
    assertEquals(raw.energyJ(), ledger.energyJ(), 1e-9 * raw.energyJ(), what + " energy");
    assertEquals(raw.tokens(), ledger.tokens(), 1e-9 * raw.tokens(), what + " tokens");
    assertEquals(raw.requests(), ledger.requests(), 1e-9 * raw.requests(), what + " requests");
  }

  @Test
  void theRollUpOfTheMinuteLedgerReportsWhatTheRawEventsDo() throws Exception {
    List<LedgerRow> rolled =
        BenchFleet.rollUp(BenchFleet.minuteRows(store, FROM, TO, MAX_GAP), FROM, TO);
    for (GroupBy g : GroupBy.values()) {
      UsageCalculator calc =
          new UsageCalculator(
              FROM, TO, 0, BenchFleet.MINUTE, MAX_GAP, PriceBook.load(null), GpuProfiles.load());
      BenchFleet.get(store.usage(FROM, TO, MAX_GAP, calc::addSample, calc::addTokens));
      Report raw = calc.report(g);
      Report ledger =
          UsageCalculator.report(
              new UsageCalculator.Range(FROM, TO, TO - FROM, 1), rolled, g, 20_000, null);
      assertTrue(raw.fleet().costUsd() > 0 && raw.fleet().tokens() > 0, "a fleet with usage");
      assertEquals(raw.groups().keySet(), ledger.groups().keySet(), g + " groups");
      raw.groups()
          .forEach((k, line) -> assertSame(line.total(), ledger.groups().get(k).total(), g + k));
      assertSame(raw.fleet(), ledger.fleet(), g + " fleet");
    }
  }

  @Test
  void generatedDaysReportWhatTheirHoursDo() throws Exception {
    List<LedgerRow> minutes = BenchFleet.minuteRows(store, FROM, TO, MAX_GAP);
    List<LedgerRow> hour = BenchFleet.rollUp(minutes, 0, 1);
    long start = Instant.parse("2026-10-01T00:00:00Z").toEpochMilli();
    long end = start + 2 * 86_400_000L;
    try (MongoClient client = MongoClients.create(mongo.uri())) {
      LongRangeBench.generate(client.getDatabase("bench"), hour, start, end);
      LongRangeBench.watermark(client.getDatabase("bench"), minutes, end);
    }
    UsageService usage =
        new UsageService(
                vertx,
                store,
                PriceBook.load(null),
                GpuProfiles.load(),
                MAX_GAP,
                MAX_GAP,
                BenchFleet.MINUTE)
            .readingLedger();
    double hourCost =
        UsageCalculator.report(
                new UsageCalculator.Range(0, 1, 1, 1), hour, GroupBy.TENANT, 20_000, null)
            .fleet()
            .costUsd();
    for (long step : new long[] {3_600_000L, 86_400_000L}) {
      Report r = LongRangeBench.fromLedger(usage, start, end, step, GroupBy.TENANT);
      assertEquals(48 * hourCost, r.fleet().costUsd(), 1e-9 * hourCost, "step " + step);
      double firstStep =
          r.idle().series().get(0).costUsd()
              + r.groups().values().stream().mapToDouble(l -> l.series().get(0).costUsd()).sum();
      assertEquals(step / 3_600_000L * hourCost, firstStep, 1e-9 * hourCost, "first step");
    }
  }
}
