package io.gputelemetry.processor;

import static io.gputelemetry.support.SameReports.same;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Range;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.LedgerBulk;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.store.Store;
import io.gputelemetry.support.TestMongo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDateTime;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ledger writer over the real store (MongoDB wire protocol) and a random fleet: 28 hours from 3
 * h before a UTC midnight D, allocation interval 30 min (so that a day is 48 intervals), samples 5
 * to 20 min apart each allowing 20 min (and pauses beyond), a price change inside an interval, an
 * unpriced GPU model, tokens of a model no GPU serves. The minute ledger, its hours and its day
 * give the figures of the raw computation, per grouping and step; a late event re-opens its
 * interval, hour and day; two writers at once leave one complete computation of each interval.
 */
class LedgerWriterTest {
  private static final long H = 3_600_000L;
  private static final long D = 1_798_761_600_000L; // 2027-01-01T00:00:00Z
  private static final long A = 30 * 60_000L;
  private static final long BEGIN = D - 3 * H;
  private static final long END = D + 25 * H;
  private static final long LATENESS = 25 * 60_000L;
  private static final long NOW = END + LATENESS;
  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              "GA",
              List.of(
                  new PriceBook.Price(BEGIN - H, 3.6),
                  new PriceBook.Price(D + 10 * H + 7_000, 7.2)),
              "GB",
              List.of(new PriceBook.Price(D + H, 36))),
          Map.of());
  private static final AppConfig.Ledger CONFIG =
      new AppConfig.Ledger(
          true,
          Duration.ofSeconds(10),
          Duration.ofMillis(LATENESS),
          1000,
          Duration.ofSeconds(30),
          Duration.ofDays(400));

  private TestMongo mongo;
  private MongoClient client;
  private Vertx vertx;
  private MongoStore store;
  private UsageService usage;
  private UsageService fromLedger;

  @BeforeEach
  void start() throws Exception {
    mongo = new TestMongo();
    client = MongoClients.create(mongo.uri());
    vertx = Vertx.vertx();
    store =
        new MongoStore(
            vertx,
            new AppConfig.Mongo(mongo.uri(), "w", Duration.ofDays(7), Duration.ofSeconds(10)));
    get(store.ensureSchema());
    usage = new UsageService(vertx, store, PRICES, GpuProfiles.load(), 3_000, 3_000, A);
    fromLedger =
        new UsageService(vertx, store, PRICES, GpuProfiles.load(), 3_000, 3_000, A).readingLedger();
    fleet(new Random(5));
  }

  @AfterEach
  void stop() throws Exception {
    get(store.close());
    client.close();
    get(vertx.close());
    mongo.close();
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  private MongoCollection<Document> collection(String name) {
    return client.getDatabase("w").getCollection(name);
  }

  private void fleet(Random r) {
    String[] gpuModels = {"GA", "GB", "GC"};
    String[] models = {"m1", "m2", null};
    Map<String, long[]> seen = new TreeMap<>();
    List<Document> samples = new ArrayList<>();
    for (int g = 0; g < 4; g++) {
      String gpu = "g" + g;
      String gpuModel = gpuModels[g % gpuModels.length];
      for (long t = BEGIN + r.nextInt(600_000); t < END + H; ) {
        Document d =
            new Document("gpu_uuid", gpu)
                .append("ts", new BsonDateTime(t))
                .append("gpu_model", gpuModel)
                .append("power_w", 100.0 + r.nextInt(200))
                .append("max_gap_s", 1200.0);
        String model = models[r.nextInt(models.length)];
        if (model != null) {
          d.append("model", model);
        }
        samples.add(d);
        seen.merge(gpu, new long[] {t, t}, (a, b) -> new long[] {a[0], b[1]});
        t += r.nextInt(10) == 0 ? 40 * 60_000 : 300_000 + r.nextInt(900_000);
      }
    }
    collection("gpu_metrics").insertMany(samples);
    seen.forEach(
        (gpu, span) ->
            collection("gpus")
                .insertOne(
                    new Document("_id", gpu)
                        .append("first_seen", new BsonDateTime(span[0]))
                        .append("last_seen", new BsonDateTime(span[1]))));
    List<Document> tokens = new ArrayList<>();
    String[] tokenModels = {"m1", "m2", "m9"};
    for (int i = 0; i < 200; i++) {
      tokens.add(
          token(
              BEGIN + (long) (r.nextDouble() * (END - BEGIN)),
              tokenModels[r.nextInt(3)],
              "t" + r.nextInt(3),
              r.nextInt(500)));
    }
    collection("token_usage").insertMany(tokens);
  }

  private static Document token(long ts, String model, String tenant, long input) {
    return new Document("ts", new BsonDateTime(ts))
        .append("model", model)
        .append("tenant", tenant)
        .append("input_tokens", input)
        .append("output_tokens", 2 * input);
  }

  private LedgerWriter writer(Store s, String owner) {
    return new LedgerWriter(s, usage, CONFIG, owner, () -> NOW);
  }

  /** Ticks until the writer has nothing left to write. */
  private static void drain(LedgerWriter w) throws Exception {
    for (int i = 0; i < 50 && get(w.tick()); i++) {}
  }

  private List<LedgerRow> rows(LedgerGrain g, long from, long to) throws Exception {
    return get(store.ledger(g, from, to)).rows();
  }

  /** Every grouping's report from ledger rows against the raw computation of the same range. */
  private void sameAsRaw(List<LedgerRow> rows, long from, long to, long step, String what)
      throws Exception {
    Range range = new Range(from, to, step, (int) ((to - from) / step));
    for (GroupBy g : GroupBy.values()) {
      UsageCalculator.Report raw = get(usage.usage(from, to, step, g, Integer.MAX_VALUE, null));
      same(raw, UsageCalculator.report(range, rows, g, Integer.MAX_VALUE, null), what + " " + g);
      UsageCalculator.Report mine = get(usage.usage(from, to, step, g, Integer.MAX_VALUE, "t1"));
      same(
          mine, UsageCalculator.report(range, rows, g, Integer.MAX_VALUE, "t1"), what + " t1 " + g);
    }
  }

  /** The minute ledger per interval, the hours per hour, and the day, each against raw. */
  private void ledgerIsRaw(String what) throws Exception {
    assertEquals(END, get(store.ledgerEdge(LedgerGrain.MINUTE, true)), what + " minutes written");
    assertEquals(END, get(store.ledgerEdge(LedgerGrain.HOUR, true)), what + " hours written");
    assertEquals(D + 24 * H, get(store.ledgerEdge(LedgerGrain.DAY, true)), what + " day written");
    assertEquals(D, get(store.ledgerEdge(LedgerGrain.DAY, false)), what + " first whole day");
    sameAsRaw(rows(LedgerGrain.MINUTE, BEGIN, END), BEGIN, END, A, what + " minutes");
    sameAsRaw(rows(LedgerGrain.HOUR, BEGIN, END), BEGIN, END, H, what + " hours");
    sameAsRaw(rows(LedgerGrain.DAY, D, D + 24 * H), D, D + 24 * H, 24 * H, what + " day");
    // A range across the day's both ends, tiled as the coarsest roll-ups allow: hours before the
    // day, the day, a minute interval after it.
    List<LedgerRow> tiles = new ArrayList<>(rows(LedgerGrain.HOUR, D - 2 * H, D));
    tiles.addAll(rows(LedgerGrain.DAY, D, D + 24 * H));
    tiles.addAll(rows(LedgerGrain.MINUTE, D + 24 * H, D + 24 * H + A));
    long to = D + 24 * H + A;
    sameAsRaw(tiles, D - 2 * H, to, to - (D - 2 * H), what + " tiled across midnight");
    queriesAreRaw(what);
    assertEquals(0, collection("ledger_dirty").countDocuments(), what + " nothing left re-opened");
    noOrphans(what);
  }

  /**
   * The usage API's reads (the coarsest roll-ups that tile each step, minutes at the edges, raw
   * events past the watermark) give the raw computation's report: per interval, per hour across
   * midnight, one step from the ledger's start into its open tail, one step tiled by hours, the day
   * and minutes.
   */
  private void queriesAreRaw(String what) throws Exception {
    long[][] ranges = {
      {BEGIN, END, A},
      {BEGIN, END + 2 * H, H},
      {BEGIN, END + 2 * H, 0},
      {D - 2 * H, D + 24 * H + A, 0},
      {D - 90 * 60_000, D + 25 * H, 90 * 60_000}
    };
    // The FOCUS export's hourly rows: the stored roll-ups, and the hours past the watermark or
    // re-opened from the raw events.
    List<LedgerRow> hourly = get(fromLedger.rolledUp(BEGIN, END + 2 * H, H));
    Range hours = new Range(BEGIN, END + 2 * H, H, (int) ((END + 2 * H - BEGIN) / H));
    for (GroupBy g : GroupBy.values()) {
      same(
          get(usage.usage(BEGIN, END + 2 * H, H, g, Integer.MAX_VALUE, null)),
          UsageCalculator.report(hours, hourly, g, Integer.MAX_VALUE, null),
          what + " hourly rows " + g);
    }
    for (long[] q : ranges) {
      for (GroupBy g : GroupBy.values()) {
        for (String tenant : java.util.Arrays.asList(null, "t1")) {
          String label = what + " query " + java.util.Arrays.toString(q) + " " + g + " " + tenant;
          same(
              get(usage.usage(q[0], q[1], q[2], g, Integer.MAX_VALUE, tenant)),
              get(fromLedger.usage(q[0], q[1], q[2], g, Integer.MAX_VALUE, tenant)),
              label);
        }
      }
    }
  }

  /** Each grain's collection holds exactly the rows its intervals' revisions name. */
  private void noOrphans(String what) {
    for (LedgerGrain g : LedgerGrain.values()) {
      long named = 0;
      for (Document d : collection("ledger_intervals").find(new Document("grain", g.name()))) {
        named += ((Number) d.get("rows")).longValue();
      }
      assertEquals(named, collection(g.collection()).countDocuments(), what + " " + g + " rows");
    }
  }

  @Test
  void theLedgerItsHoursAndItsDayBillWhatTheRawEventsBillAndALateEventReopensThem()
      throws Exception {
    LedgerWriter w = writer(store, "p1");
    drain(w);
    ledgerIsRaw("written");
    assertEquals(
        (END - BEGIN) / A,
        collection("ledger_intervals").countDocuments(new Document("grain", "MINUTE")));
    double before = tokensOf(rows(LedgerGrain.DAY, D, D + 24 * H), "t2");

    // A late request (1000 + 2000 tokens) of t2 at D + 5 h 10 min, after everything was written:
    // the processor marks its interval (LedgerMarks); the writer rewrites it, its hour, its day.
    collection("token_usage").insertOne(token(D + 5 * H + 600_000, "m1", "t2", 1000));
    get(store.markDirty(LedgerGrain.MINUTE, List.of(D + 5 * H)));
    // Before the writer rewrites it, a query reads the raw events from the re-opened interval on.
    queriesAreRaw("re-opened, not yet rewritten");
    drain(w);
    ledgerIsRaw("after the late event");
    assertEquals(
        before + 3000, tokensOf(rows(LedgerGrain.DAY, D, D + 24 * H), "t2"), 1e-9, "the day");

    // The day is read from the ledger: with its raw events gone, the figures stay.
    UsageCalculator.Report day =
        get(fromLedger.usage(D, D + 24 * H, 0, GroupBy.TENANT, Integer.MAX_VALUE, null));
    Document inDay =
        new Document(
            "ts",
            new Document("$gte", new BsonDateTime(D)).append("$lt", new BsonDateTime(D + 24 * H)));
    collection("gpu_metrics").deleteMany(inDay);
    collection("token_usage").deleteMany(inDay);
    same(
        day,
        get(fromLedger.usage(D, D + 24 * H, 0, GroupBy.TENANT, Integer.MAX_VALUE, null)),
        "the ledger's day");
    same(
        day,
        UsageCalculator.report(
            new Range(D, D + 24 * H, 24 * H, 1),
            get(fromLedger.rolledUp(D, D + 24 * H, H)),
            GroupBy.TENANT,
            Integer.MAX_VALUE,
            null),
        "the export's hours of the ledger's day");
    assertEquals(
        0,
        get(usage.usage(D, D + 24 * H, 0, GroupBy.TENANT, Integer.MAX_VALUE, null))
            .fleet()
            .tokens(),
        "the raw events are gone");
  }

  private static double tokensOf(List<LedgerRow> rows, String tenant) {
    return rows.stream()
        .filter(r -> r.tenant().equals(tenant) && r.kind() != LedgerRow.Kind.GPU)
        .mapToDouble(r -> r.amounts().inputTokens() + r.amounts().outputTokens())
        .sum();
  }

  /**
   * Two writers at once, both acting as the lease's holder (a holder paused past its lease, and the
   * next one): the rows of each interval are one complete computation, none twice, none left of a
   * losing revision.
   */
  @Test
  void twoWritersAtOnceLeaveOneCompleteComputationOfEachInterval() throws Exception {
    Store bothHold =
        (Store)
            Proxy.newProxyInstance(
                Store.class.getClassLoader(),
                new Class<?>[] {Store.class},
                (p, m, args) ->
                    m.getName().equals("lease")
                        ? Future.succeededFuture(true)
                        : m.invoke(store, args));
    LedgerWriter w1 = writer(bothHold, "p1");
    LedgerWriter w2 = writer(bothHold, "p2");
    for (int i = 0; i < 50; i++) {
      Future<Boolean> a = w1.tick();
      Future<Boolean> b = w2.tick();
      get(Future.all(a, b));
      if (!a.result() && !b.result()) {
        break;
      }
    }
    ledgerIsRaw("two writers");
    Set<String> keys = new HashSet<>();
    for (LedgerRow r : rows(LedgerGrain.MINUTE, BEGIN, END)) {
      assertTrue(keys.add(r.start() + r.key()), "no row twice: " + r);
    }
  }

  /**
   * A writer that stops (a crash) after writing a re-opened interval's new rows, before switching
   * the interval to them: readers keep reading the interval's previous rows (never the half-written
   * revision), and a writer started afterwards, once the lease expired, rewrites it: the ledger
   * equals the raw computation and no row of the abandoned revision is left.
   */
  @Test
  void aWriterStoppedMidIntervalLeavesTheOldRowsAndTheNextWriterFinishesIt() throws Exception {
    drain(writer(store, "p1"));
    long late = D + 5 * H;
    List<LedgerRow> written = rows(LedgerGrain.MINUTE, late, late + A);
    collection("token_usage").insertOne(token(late + 600_000, "m1", "t2", 1000));
    get(store.markDirty(LedgerGrain.MINUTE, List.of(late)));
    List<Long> abandoned = new ArrayList<>();
    Store crashing =
        (Store)
            Proxy.newProxyInstance(
                Store.class.getClassLoader(),
                new Class<?>[] {Store.class},
                (p, m, args) -> {
                  if (!m.getName().equals("replaceLedger") || !args[0].equals(LedgerGrain.MINUTE)) {
                    return m.invoke(store, args);
                  }
                  // The rows of the new revision are written; the process dies before the switch.
                  long rev = (Long) args[3];
                  @SuppressWarnings("unchecked")
                  List<LedgerRow> rows = (List<LedgerRow>) args[4];
                  LedgerBulk.rowsOnly(client.getDatabase("w"), LedgerGrain.MINUTE, rows, rev);
                  abandoned.add(rev);
                  return Future.failedFuture(new IllegalStateException("crashed"));
                });
    // It took over from p1, whose lease expired.
    long lease = CONFIG.lease().toMillis();
    LedgerWriter stopping = new LedgerWriter(crashing, usage, CONFIG, "p2", () -> NOW + lease + 1);
    assertEquals(false, get(stopping.tick().otherwise(false)), "the crash");
    assertEquals(1, abandoned.size(), "one interval half-written");
    assertTrue(
        collection("ledger_minute").countDocuments(new Document("rev", abandoned.get(0))) > 0,
        "the abandoned revision's rows are in the store");
    // Readers: the interval as it was, and the usage API's figures are the raw computation's.
    assertEquals(written, rows(LedgerGrain.MINUTE, late, late + A), "the previous rows");
    queriesAreRaw("half-written");

    // The next writer, once the crashed one's lease has expired.
    LedgerWriter next = new LedgerWriter(store, usage, CONFIG, "p3", () -> NOW + 2 * (lease + 1));
    drain(next);
    ledgerIsRaw("after the restart");
    assertEquals(
        0,
        collection("ledger_minute").countDocuments(new Document("rev", abandoned.get(0))),
        "nothing of the abandoned revision left");
  }

  /** With the lease, the second processor writes nothing while the first holds it. */
  @Test
  void theSecondProcessorWritesNothingWhileTheFirstHoldsTheLease() throws Exception {
    LedgerWriter w1 = writer(store, "p1");
    LedgerWriter w2 = writer(store, "p2");
    assertTrue(get(store.lease("ledger-writer", "p1", NOW, 30_000)));
    assertEquals(false, get(w2.tick()));
    assertEquals(0, collection("ledger_intervals").countDocuments());
    drain(w1);
    ledgerIsRaw("the holder");
  }
}
