package io.gputelemetry.accounting;

import static io.gputelemetry.support.SameReports.same;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRead;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The usage query's reading of the ledger ({@link UsageService#readingLedger}, {@link LedgerTiles})
 * over a store in memory, fast enough for mutation testing: a random fleet of 28 hours around a UTC
 * midnight D, allocation interval 30 min, its minute ledger computed from the raw events and rolled
 * up into hours and the day. Each query gives the raw computation's report, reads the coarsest
 * tiles (counted by the rows it says it read), and falls back to finer tiles or the raw events
 * where the ledger is stale, missing or open.
 */
class LedgerQueryTest {
  private static final long H = 3_600_000L;
  private static final long D = 1_798_761_600_000L; // 2027-01-01T00:00:00Z
  private static final long A = 30 * 60_000L;
  private static final long BEGIN = D - 3 * H;
  private static final long END = D + 25 * H;
  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              "GA",
              List.of(
                  new PriceBook.Price(BEGIN - H, 3.6),
                  new PriceBook.Price(D + 10 * H + 7_000, 7.2)),
              "GB",
              List.of(new PriceBook.Price(BEGIN - H, 36))),
          Map.of());
  private static Vertx vertx;

  private final List<UsageRows.Sample> samples = new ArrayList<>();
  private final List<UsageRows.Tokens> tokens = new ArrayList<>();
  private final Map<LedgerGrain, TreeMap<Long, List<LedgerRow>>> ledger =
      new EnumMap<>(LedgerGrain.class);
  private final Map<LedgerGrain, TreeMap<Long, Long>> dirty = new EnumMap<>(LedgerGrain.class);
  private final Store store =
      (Store)
          Proxy.newProxyInstance(
              Store.class.getClassLoader(),
              new Class<?>[] {Store.class},
              (p, m, a) -> answer(m.getName(), a == null ? new Object[0] : a));
  private final UsageService raw =
      new UsageService(vertx, store, PRICES, GpuProfiles.load(), 3_000, 3_000, A);
  private final UsageService fromLedger =
      new UsageService(vertx, store, PRICES, GpuProfiles.load(), 3_000, 3_000, A).readingLedger();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    get(vertx.close());
  }

  @BeforeEach
  void fleetAndItsLedger() throws Exception {
    Random r = new Random(11);
    String[] gpuModels = {"GA", "GB", "GC"};
    String[] models = {"m1", "m2", null};
    for (int g = 0; g < 4; g++) {
      for (long t = BEGIN + r.nextInt(600_000); t < END + H; ) {
        samples.add(
            new UsageRows.Sample(
                "g" + g,
                t,
                gpuModels[g % 3],
                models[r.nextInt(3)],
                null,
                100.0 + r.nextInt(200),
                1_200_000L,
                false));
        t += r.nextInt(10) == 0 ? 40 * 60_000 : 300_000 + r.nextInt(900_000);
      }
    }
    String[] tenants = {"t1", "t2", "t3"};
    String[] served = {"m1", "m2", "m9"};
    for (long t = BEGIN + 1_000; t < END + H; t += 60_000 + r.nextInt(600_000)) {
      tokens.add(
          new UsageRows.Tokens(
              t, served[r.nextInt(3)], tenants[r.nextInt(3)], 1 + r.nextInt(500), r.nextInt(900)));
    }
    for (LedgerGrain g : LedgerGrain.values()) {
      ledger.put(g, new TreeMap<>());
      dirty.put(g, new TreeMap<>());
    }
    for (long s = BEGIN; s < END; s += A) {
      ledger.get(LedgerGrain.MINUTE).put(s, get(raw.rows(s, s + A)));
    }
    for (long h = BEGIN; h < END; h += H) {
      ledger.get(LedgerGrain.HOUR).put(h, rollUp(LedgerGrain.MINUTE, h, h + H));
    }
    ledger.get(LedgerGrain.DAY).put(D, rollUp(LedgerGrain.HOUR, D, D + 24 * H));
  }

  private List<LedgerRow> rollUp(LedgerGrain fine, long from, long to) {
    List<LedgerRow> rows = new ArrayList<>();
    ledger.get(fine).subMap(from, to).values().forEach(rows::addAll);
    return RollUps.sum(rows, to - from);
  }

  /** The store's answers: raw events, the ledger and its marks from the maps above. */
  @SuppressWarnings("unchecked")
  private Object answer(String method, Object[] a) {
    return switch (method) {
      case "usage" -> {
        long from = (Long) a[0];
        long to = (Long) a[1];
        long margin = (Long) a[2];
        samples.stream()
            .filter(s -> s.ts() >= from - margin && s.ts() < to + margin)
            .forEach((Consumer<UsageRows.Sample>) a[3]);
        tokens.stream()
            .filter(t -> t.ts() >= from && t.ts() < to)
            .forEach((Consumer<UsageRows.Tokens>) a[4]);
        yield Future.succeededFuture();
      }
      case "readings" -> Future.succeededFuture();
      case "gpus" -> Future.succeededFuture(inventory());
      case "neighbour" ->
          Future.succeededFuture(neighbour((String) a[0], (Long) a[1], (Boolean) a[2]));
      case "ledgerEdge" -> {
        TreeMap<Long, List<LedgerRow>> m = ledger.get((LedgerGrain) a[0]);
        yield Future.succeededFuture(
            m.isEmpty()
                ? null
                : (Boolean) a[1] ? m.lastKey() + length((LedgerGrain) a[0]) : m.firstKey());
      }
      case "dirty" ->
          Future.succeededFuture(
              (SortedMap<Long, Long>) new TreeMap<>(dirty.get((LedgerGrain) a[0])));
      case "ledger" -> {
        SortedMap<Long, List<LedgerRow>> in =
            ledger.get((LedgerGrain) a[0]).subMap((Long) a[1], (Long) a[2]);
        if (a.length == 4) {
          in.values().forEach(rows -> rows.forEach((Consumer<LedgerRow>) a[3]));
          yield Future.succeededFuture(new TreeSet<>(in.keySet()));
        }
        List<LedgerRow> rows = new ArrayList<>();
        in.values().forEach(rows::addAll);
        yield Future.succeededFuture(new LedgerRead(rows, new TreeSet<>(in.keySet())));
      }
      default -> throw new UnsupportedOperationException(method);
    };
  }

  /** Each GPU with when it was first and last seen (what finds a GPU pausing across a range). */
  private List<GpuRecord> inventory() {
    Map<String, long[]> seen = new TreeMap<>();
    for (UsageRows.Sample s : samples) {
      seen.merge(
          s.gpuUuid(),
          new long[] {s.ts(), s.ts()},
          (x, y) -> new long[] {Math.min(x[0], y[0]), Math.max(x[1], y[1])});
    }
    List<GpuRecord> gpus = new ArrayList<>();
    seen.forEach(
        (gpu, span) ->
            gpus.add(
                new GpuRecord(
                    gpu, null, null, null, new GpuRecord.Span(span[0], span[1]), Map.of())));
    return gpus;
  }

  /** Rows of an interval that are not its figures (the first hour's, moved): a stale roll-up. */
  private List<LedgerRow> outOfDate(long start, long end) {
    List<LedgerRow> rows = new ArrayList<>();
    ledger.get(LedgerGrain.HOUR).get(D).forEach(r -> rows.add(r.over(start, end, r.amounts())));
    return rows;
  }

  private static long length(LedgerGrain g) {
    return g == LedgerGrain.MINUTE ? A : g.millis();
  }

  private UsageRows.Sample neighbour(String gpu, long millis, boolean before) {
    UsageRows.Sample found = null;
    for (UsageRows.Sample s : samples) {
      if (!s.gpuUuid().equals(gpu) || (before ? s.ts() >= millis : s.ts() < millis)) {
        continue;
      }
      if (found == null || (before ? s.ts() > found.ts() : s.ts() < found.ts())) {
        found = s;
      }
    }
    return found;
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private int rowsOf(LedgerGrain g, long from, long to) {
    return ledger.get(g).subMap(from, to).values().stream().mapToInt(List::size).sum();
  }

  /**
   * Every grouping, everyone's and one tenant's: the ledger's answer is the raw one; returns the
   * ledger's answer of everyone by tenant.
   */
  private Report sameAsRaw(long from, long to, long step, String what) throws Exception {
    Report byTenant = null;
    for (GroupBy g : GroupBy.values()) {
      for (String tenant : Arrays.asList(null, "t1")) {
        Report l = get(fromLedger.usage(from, to, step, g, Integer.MAX_VALUE, tenant));
        same(
            get(raw.usage(from, to, step, g, Integer.MAX_VALUE, tenant)),
            l,
            what + " " + g + " " + tenant);
        if (g == GroupBy.TENANT && tenant == null) {
          byTenant = l;
        }
      }
    }
    return byTenant;
  }

  @Test
  void eachRangeIsReadFromTheCoarsestTilesAndGivesTheRawFigures() throws Exception {
    Report day = sameAsRaw(D, D + 24 * H, 0, "the day");
    assertEquals(
        new UsageCalculator.Source(D + 24 * H, rowsOf(LedgerGrain.DAY, D, D + H)), day.source());
    Report sixHours = sameAsRaw(D, D + 24 * H, 6 * H, "the day in 6 h steps");
    assertEquals(rowsOf(LedgerGrain.HOUR, D, D + 24 * H), sixHours.source().ledgerRows());
    Report across = sameAsRaw(D - 2 * H - A, D + 24 * H + A, 0, "across midnight");
    assertEquals(
        rowsOf(LedgerGrain.MINUTE, D - 2 * H - A, D - 2 * H)
            + rowsOf(LedgerGrain.HOUR, D - 2 * H, D)
            + rowsOf(LedgerGrain.DAY, D, D + H)
            + rowsOf(LedgerGrain.MINUTE, D + 24 * H, D + 24 * H + A),
        across.source().ledgerRows(),
        "minutes, hours, the day, minutes");
    assertEquals(D + 24 * H + A, across.source().ledgerUntil());
    Report intervals = sameAsRaw(BEGIN, END, A, "every interval");
    assertEquals(rowsOf(LedgerGrain.MINUTE, BEGIN, END), intervals.source().ledgerRows());
    sameAsRaw(D - 90 * 60_000, D + 25 * H, 90 * 60_000, "steps of 90 min across midnight");
    sameAsRaw(BEGIN, END, H, "hours");
  }

  @Test
  void theOpenTailPastTheWatermarkComesFromTheRawEvents() throws Exception {
    Report r = sameAsRaw(D, END + 2 * H, H, "into the open tail");
    assertEquals(END, r.source().ledgerUntil());
    assertEquals(rowsOf(LedgerGrain.HOUR, D, END), r.source().ledgerRows());
  }

  @Test
  void aReopenedIntervalIsReadFromTheRawEventsFromItOn() throws Exception {
    tokens.add(new UsageRows.Tokens(D + 5 * H + 600_000, "m1", "t2", 1000, 2000));
    dirty.get(LedgerGrain.MINUTE).put(D + 5 * H, 1L);
    // A mark before the range does not cut it.
    dirty.get(LedgerGrain.MINUTE).put(BEGIN, 1L);
    Report r = sameAsRaw(D, D + 24 * H, 0, "re-opened");
    assertEquals(D + 5 * H, r.source().ledgerUntil());
    Report before = sameAsRaw(D, D + 5 * H, 0, "up to the re-opened interval");
    assertEquals(D + 5 * H, before.source().ledgerUntil());
  }

  @Test
  void aStaleOrMissingRollUpIsReadAsItsFinerIntervals() throws Exception {
    // The day and one hour re-opened (their rows out of date), another hour not rolled up.
    ledger.get(LedgerGrain.DAY).put(D, outOfDate(D, D + 24 * H));
    dirty.get(LedgerGrain.DAY).put(D, 1L);
    ledger.get(LedgerGrain.HOUR).put(D + 3 * H, outOfDate(D + 3 * H, D + 4 * H));
    dirty.get(LedgerGrain.HOUR).put(D + 3 * H, 2L);
    ledger.get(LedgerGrain.HOUR).remove(D + 7 * H);
    Report r = sameAsRaw(D, D + 24 * H, 0, "stale and missing roll-ups");
    assertEquals(D + 24 * H, r.source().ledgerUntil());
    assertEquals(
        rowsOf(LedgerGrain.HOUR, D, D + 24 * H)
            - rowsOf(LedgerGrain.HOUR, D + 3 * H, D + 4 * H)
            + rowsOf(LedgerGrain.MINUTE, D + 3 * H, D + 4 * H)
            + rowsOf(LedgerGrain.MINUTE, D + 7 * H, D + 8 * H),
        r.source().ledgerRows());
  }

  @Test
  void aRangeReachingAMissingIntervalOrOffTheGridIsComputedFromTheRawEvents() throws Exception {
    Report offGrid = sameAsRaw(D + 60_000, D + 2 * H, 0, "off the grid");
    assertEquals(new UsageCalculator.Source(D + 60_000, 0), offGrid.source());
    Report offStep = sameAsRaw(D, D + 2 * H, 20 * 60_000, "a step off the grid");
    assertEquals(D, offStep.source().ledgerUntil());
    // Before the ledger began.
    Report early = sameAsRaw(BEGIN - A, BEGIN + A, 0, "before the ledger");
    assertEquals(BEGIN - A, early.source().ledgerUntil());
    ledger.get(LedgerGrain.MINUTE).remove(D + 30 * 60_000);
    ledger.get(LedgerGrain.HOUR).remove(D);
    Report missing = sameAsRaw(D, D + 2 * H, H, "an interval missing");
    assertEquals(new UsageCalculator.Source(D, 0), missing.source());
    ledger.values().forEach(Map::clear);
    assertEquals(D, sameAsRaw(D, D + 2 * H, H, "no ledger yet").source().ledgerUntil());
  }

  @Test
  void tooManyReopenedIntervalsToKnowWhichAreStaleIsRawOnly() throws Exception {
    for (int i = 0; i < UsageService.DIRTY_READ; i++) {
      dirty.get(LedgerGrain.HOUR).put(END + 10 * H + i * H, 1L);
    }
    assertEquals(D, sameAsRaw(D, D + 2 * H, H, "marks beyond the read").source().ledgerUntil());
    dirty.get(LedgerGrain.HOUR).remove(dirty.get(LedgerGrain.HOUR).lastKey());
    assertEquals(D + 2 * H, sameAsRaw(D, D + 2 * H, H, "all marks read").source().ledgerUntil());
  }

  @Test
  void anAnswerOfTooManyCellsFailsWithTheCellsItWouldHold() throws Exception {
    long steps = (END - BEGIN) / A;
    for (int max : new int[] {(int) steps - 1, (int) steps, (int) (2 * steps)}) {
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () -> get(fromLedger.usage(BEGIN, END, A, GroupBy.TENANT, max, null)));
      UsageCalculator.TooManyCells c =
          assertInstanceOf(UsageCalculator.TooManyCells.class, e.getCause());
      assertEquals(max, c.limit);
      assertEquals(
          max < steps ? 0 : 3, c.groups, "refused before reading, or once its lines are known");
    }
    Report fits = get(fromLedger.usage(BEGIN, END, A, GroupBy.TENANT, (int) (4 * steps), null));
    assertEquals(3, fits.groups().size());
  }

  @Test
  void theExportsHoursAreTheStoredRollUpsAndRawWhereTheLedgerIsOpenOrStale() throws Exception {
    tokens.add(new UsageRows.Tokens(D + 5 * H + 600_000, "m1", "t2", 1000, 2000));
    dirty.get(LedgerGrain.MINUTE).put(D + 5 * H, 1L);
    dirty.get(LedgerGrain.HOUR).put(D + 8 * H, 1L);
    ledger.get(LedgerGrain.HOUR).put(D + 8 * H, outOfDate(D + 8 * H, D + 9 * H));
    long to = END + 2 * H;
    UsageCalculator.Range hours = new UsageCalculator.Range(BEGIN, to, H, (int) ((to - BEGIN) / H));
    List<LedgerRow> fromTheLedger = get(fromLedger.rolledUp(BEGIN, to, H));
    List<LedgerRow> fromRaw = get(raw.rolledUp(BEGIN, to, H));
    for (GroupBy g : GroupBy.values()) {
      same(
          UsageCalculator.report(hours, fromRaw, g, Integer.MAX_VALUE, null),
          UsageCalculator.report(hours, fromTheLedger, g, Integer.MAX_VALUE, null),
          "hourly rows " + g);
    }
    assertTrue(
        fromTheLedger.stream().allMatch(r -> r.end() - r.start() == H), "one row per hour and key");
  }
}
