package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.support.TestMongo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ledger's store on the MongoDB wire protocol: an interval is replaced by revision, a reader
 * takes complete intervals only, re-opened intervals are counted marks, and one owner holds the
 * writer's lease at a time.
 */
class MongoLedgerTest {
  private static final long T = 1_800_000_000_000L;
  private static final long A = 60_000;
  private static TestMongo mongo;
  private static MongoClient client;
  private static Vertx vertx;
  private static MongoStore store;

  @BeforeAll
  static void start() throws Exception {
    mongo = new TestMongo();
    client = MongoClients.create(mongo.uri());
    vertx = Vertx.vertx();
    store =
        new MongoStore(
            vertx,
            new AppConfig.Mongo(mongo.uri(), "ledger", Duration.ofDays(3), Duration.ofSeconds(10)),
            Duration.ofDays(400));
    get(store.ensureSchema());
  }

  @AfterAll
  static void stop() throws Exception {
    get(store.close());
    client.close();
    get(vertx.close());
    mongo.close();
  }

  @BeforeEach
  void empty() {
    for (String c : List.of("ledger_minute", "ledger_intervals", "ledger_dirty", "ledger_lease")) {
      db().getCollection(c).deleteMany(new Document());
    }
  }

  private static MongoDatabase db() {
    return client.getDatabase("ledger");
  }

  static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static LedgerRow row(long start, String tenant, double cost) {
    return new LedgerRow(
        start,
        start + A,
        LedgerRow.Kind.GPU,
        "m1",
        tenant,
        "GA",
        new LedgerRow.Amounts(
            60, 60, 0, cost, cost * 2, cost * 1.5, 0, 6000, 3000, 10, 20, 1, 30, 0, 0, 2));
  }

  private static Map<String, LedgerRow> byKey(List<LedgerRow> rows) {
    Map<String, LedgerRow> m = new TreeMap<>();
    rows.forEach(r -> m.put(r.start() + " " + r.key(), r));
    assertEquals(rows.size(), m.size(), "no row twice");
    return m;
  }

  @Test
  void aRewriteReplacesAllRowsOfTheIntervalAndLeavesNoneOfTheOldRevision() throws Exception {
    assertTrue(
        get(
            store.replaceLedger(
                LedgerGrain.MINUTE, T, T + A, 1, List.of(row(T, "a", 1), row(T, "b", 2)), T)));
    assertTrue(
        get(
            store.replaceLedger(
                LedgerGrain.MINUTE, T + A, T + 2 * A, 1, List.of(row(T + A, "a", 3)), T)));
    // The recomputation of the first minute has one tenant only, and other figures.
    assertTrue(
        get(store.replaceLedger(LedgerGrain.MINUTE, T, T + A, 2, List.of(row(T, "b", 5)), T)));
    // A retry of the same revision changes nothing.
    assertTrue(
        get(store.replaceLedger(LedgerGrain.MINUTE, T, T + A, 2, List.of(row(T, "b", 5)), T)));
    LedgerRead read = get(store.ledger(LedgerGrain.MINUTE, T, T + 2 * A));
    Map<String, LedgerRow> rows = byKey(read.rows());
    assertEquals(Set.of(T, T + A), read.intervals());
    assertEquals(2, rows.size());
    assertEquals(row(T, "b", 5), rows.get(T + " " + row(T, "b", 5).key()));
    assertEquals(row(T + A, "a", 3), rows.get(T + A + " " + row(T + A, "a", 3).key()));
    assertEquals(2, db().getCollection("ledger_minute").countDocuments(), "old revision deleted");
    assertEquals(T + 2 * A, get(store.ledgerEdge(LedgerGrain.MINUTE, true)));
    assertEquals(T, get(store.ledgerEdge(LedgerGrain.MINUTE, false)));
    assertNull(get(store.ledgerEdge(LedgerGrain.HOUR, true)));
  }

  @Test
  void anEarlierRevisionLosesAndLeavesTheIntervalAsItWas() throws Exception {
    assertTrue(
        get(store.replaceLedger(LedgerGrain.MINUTE, T, T + A, 7, List.of(row(T, "a", 1)), T)));
    assertFalse(
        get(store.replaceLedger(LedgerGrain.MINUTE, T, T + A, 6, List.of(row(T, "b", 9)), T)));
    LedgerRead read = get(store.ledger(LedgerGrain.MINUTE, T, T + A));
    assertEquals(List.of(row(T, "a", 1)), read.rows());
    assertEquals(1, db().getCollection("ledger_minute").countDocuments(), "the loser's rows gone");
  }

  @Test
  void rowsOfARevisionNotYetSwitchedToAreNotRead() throws Exception {
    assertTrue(
        get(store.replaceLedger(LedgerGrain.MINUTE, T, T + A, 1, List.of(row(T, "a", 1)), T)));
    // A writer that stopped after writing its new rows, before switching the interval to them.
    db().getCollection("ledger_minute", BsonDocument.class)
        .insertOne(LedgerDocuments.row(row(T, "b", 2), 2));
    assertEquals(List.of(row(T, "a", 1)), get(store.ledger(LedgerGrain.MINUTE, T, T + A)).rows());
  }

  @Test
  void anIntervalMissingRowsOfItsRevisionIsNeverReadAsComplete() throws Exception {
    assertTrue(
        get(
            store.replaceLedger(
                LedgerGrain.MINUTE, T, T + A, 1, List.of(row(T, "a", 1), row(T, "b", 1)), T)));
    db().getCollection("ledger_minute").deleteOne(new Document("tenant", "b"));
    ExecutionException e =
        assertThrows(
            ExecutionException.class, () -> get(store.ledger(LedgerGrain.MINUTE, T, T + A)));
    assertTrue(e.getCause().getMessage().contains("kept changing"), e.getCause().getMessage());
  }

  @Test
  void anIntervalWithoutRowsIsWrittenAndReadAsEmpty() throws Exception {
    assertTrue(get(store.replaceLedger(LedgerGrain.HOUR, T, T + 3_600_000, 1, List.of(), T)));
    LedgerRead read = get(store.ledger(LedgerGrain.HOUR, T, T + 3_600_000));
    assertEquals(List.of(), read.rows());
    assertEquals(Set.of(T), read.intervals());
  }

  @Test
  void aMarkMadeWhileAnIntervalIsRecomputedKeepsItReopened() throws Exception {
    get(store.markDirty(LedgerGrain.MINUTE, List.of(T + A, T)));
    get(store.markDirty(LedgerGrain.MINUTE, List.of(T)));
    assertEquals(Map.of(T, 2L, T + A, 1L), get(store.dirty(LedgerGrain.MINUTE, 10)));
    assertEquals(List.of(T), List.copyOf(get(store.dirty(LedgerGrain.MINUTE, 1)).keySet()));
    // The writer read T with 2 marks; a late event marks it again before the writer clears it.
    get(store.markDirty(LedgerGrain.MINUTE, List.of(T)));
    get(store.clearDirty(LedgerGrain.MINUTE, T, 2));
    get(store.clearDirty(LedgerGrain.MINUTE, T + A, 1));
    assertEquals(Map.of(T, 3L), get(store.dirty(LedgerGrain.MINUTE, 10)));
    assertEquals(Map.of(), get(store.dirty(LedgerGrain.HOUR, 10)), "grains apart");
  }

  @Test
  void oneOwnerHoldsTheLeaseUntilItExpires() throws Exception {
    assertTrue(get(store.lease("ledger", "p1", T, 30_000)));
    assertFalse(get(store.lease("ledger", "p2", T + 1_000, 30_000)));
    assertTrue(get(store.lease("ledger", "p1", T + 20_000, 30_000)), "renewed");
    assertFalse(get(store.lease("ledger", "p2", T + 49_999, 30_000)));
    assertTrue(get(store.lease("ledger", "p2", T + 50_001, 30_000)), "expired: taken over");
    assertFalse(get(store.lease("ledger", "p1", T + 50_002, 30_000)));
  }

  @Test
  void theLedgerCollectionsExpireAfterTheLedgersRetention() throws Exception {
    for (LedgerGrain g : LedgerGrain.values()) {
      Document ttl = null;
      for (Document i : db().getCollection(g.collection()).listIndexes()) {
        if ("start_ttl".equals(i.getString("name"))) {
          ttl = i;
        }
      }
      assertEquals(400L * 86_400, ((Number) ttl.get("expireAfterSeconds")).longValue(), g.name());
    }
    assertEquals(List.of(), get(store.schemaProblems()));
  }

  /**
   * The ledger begins at the earliest stored raw event, of either type: none stored, none; a token
   * event at T + 5 s and samples at T + 9 s and T + 2 s give T + 2 s.
   */
  @Test
  void theFirstEventIsTheEarliestOfEitherCollection() throws Exception {
    for (String c : List.of("gpu_metrics", "token_usage")) {
      db().getCollection(c).deleteMany(new Document());
    }
    assertNull(get(store.firstEventMillis()));
    db().getCollection("token_usage")
        .insertOne(new Document("ts", new org.bson.BsonDateTime(T + 5_000)));
    assertEquals(T + 5_000, get(store.firstEventMillis()));
    db().getCollection("gpu_metrics")
        .insertMany(
            List.of(
                new Document("ts", new org.bson.BsonDateTime(T + 9_000)),
                new Document("ts", new org.bson.BsonDateTime(T + 2_000))));
    assertEquals(T + 2_000, get(store.firstEventMillis()));
  }

  /**
   * An interval whose rows were incomplete when the range was read (a writer's rows arriving
   * meanwhile) is read again on its own and passed on complete; the rows reach the sink interval by
   * interval, in the order of their starts, each once.
   */
  @Test
  void anIntervalIncompleteWhenTheRangeWasReadIsReadAgain() throws Exception {
    writeTenantsAAndB(T, T + A, T + 2 * A);
    for (long start : List.of(T + A, T + 2 * A)) {
      db().getCollection("ledger_minute")
          .deleteOne(new Document("tenant", "b").append("start", new java.util.Date(start)));
    }
    List<LedgerRow> seen = new java.util.ArrayList<>();
    Set<Long> intervals =
        get(
            store.ledger(
                LedgerGrain.MINUTE,
                T,
                T + 3 * A,
                r -> {
                  if (seen.isEmpty()) {
                    // The batch holding every row is read: the missing rows come back now.
                    for (long start : List.of(T + A, T + 2 * A)) {
                      db().getCollection("ledger_minute", BsonDocument.class)
                          .insertOne(LedgerDocuments.row(row(start, "b", 2), 1));
                    }
                  }
                  seen.add(r);
                }));
    assertEquals(Set.of(T, T + A, T + 2 * A), intervals);
    assertEquals(6, byKey(seen).size());
    List<Long> starts = seen.stream().map(LedgerRow::start).toList();
    assertEquals(starts.stream().sorted().toList(), starts, "in the order of the intervals");
  }

  /** An interval gone while the range was read (past retention, say) is left out, not an error. */
  @Test
  void anIntervalGoneWhileTheRangeWasReadIsLeftOut() throws Exception {
    writeTenantsAAndB(T, T + A);
    db().getCollection("ledger_minute")
        .deleteOne(new Document("tenant", "b").append("start", new java.util.Date(T + A)));
    List<LedgerRow> seen = new java.util.ArrayList<>();
    get(
        store.ledger(
            LedgerGrain.MINUTE,
            T,
            T + 2 * A,
            r -> {
              if (seen.isEmpty()) {
                db().getCollection("ledger_intervals")
                    .deleteOne(
                        new Document("grain", "MINUTE").append("start", new java.util.Date(T + A)));
                db().getCollection("ledger_minute")
                    .deleteMany(new Document("start", new java.util.Date(T + A)));
              }
              seen.add(r);
            }));
    assertEquals(
        List.of(row(T, "a", 1), row(T, "b", 2)),
        seen.stream().sorted(java.util.Comparator.comparing(LedgerRow::tenant)).toList());
  }

  @Test
  void markingNoIntervalsDoesNothing() throws Exception {
    get(store.markDirty(LedgerGrain.MINUTE, List.of()));
    assertEquals(0, db().getCollection("ledger_dirty").countDocuments());
  }

  /** Minutes written at revision 1, each with a row of tenant a and one of tenant b. */
  private static void writeTenantsAAndB(long... starts) throws Exception {
    for (long start : starts) {
      assertTrue(
          get(
              store.replaceLedger(
                  LedgerGrain.MINUTE,
                  start,
                  start + A,
                  1,
                  List.of(row(start, "a", 1), row(start, "b", 2)),
                  T)));
    }
  }
}
