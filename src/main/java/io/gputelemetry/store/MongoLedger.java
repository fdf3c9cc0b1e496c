package io.gputelemetry.store;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.lte;
import static com.mongodb.client.model.Filters.or;
import static com.mongodb.client.model.Projections.exclude;
import static com.mongodb.client.model.Projections.include;
import static com.mongodb.client.model.Sorts.ascending;
import static com.mongodb.client.model.Sorts.descending;

import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.gputelemetry.event.EventType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.conversions.Bson;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The ledger on MongoDB. An interval's rows are replaced by revision: the new revision's rows are
 * written beside the old ones, then the interval's document in {@code ledger_intervals} is switched
 * to the new revision and its row count (one atomic single-document update, which only moves to a
 * higher revision), then the older revisions' rows are deleted. A reader takes, per interval, the
 * rows of the revision its interval document names and checks their count, so it never takes a
 * half-written or half-deleted interval as complete (it reads again instead).
 */
final class MongoLedger {
  private static final int READ_ATTEMPTS = 5;
  private static final int DUPLICATE_KEY = 11000;

  private final Vertx vertx;
  private final MongoDatabase db;

  MongoLedger(Vertx vertx, MongoDatabase db) {
    this.vertx = vertx;
    this.db = db;
  }

  private <T> Future<T> one(Publisher<T> p) {
    return Future.fromCompletionStage(Mono.from(p).toFuture(), vertx.getOrCreateContext());
  }

  private <T> Future<Void> each(Publisher<T> p, Consumer<T> sink) {
    return Future.fromCompletionStage(
        Flux.from(p).doOnNext(sink).then().toFuture(), vertx.getOrCreateContext());
  }

  private <T> Future<List<T>> all(Publisher<T> p) {
    return Future.fromCompletionStage(
        Flux.from(p).collectList().toFuture(), vertx.getOrCreateContext());
  }

  private MongoCollection<BsonDocument> collection(String name) {
    return db.getCollection(name, BsonDocument.class);
  }

  private static String intervalId(LedgerGrain g, long start) {
    return g.name() + "|" + start;
  }

  private static boolean duplicateKey(Throwable e) {
    return StoreFailures.commandCode(e) == DUPLICATE_KEY;
  }

  // --- writing an interval ---

  Future<Boolean> replace(
      LedgerGrain g, long start, long end, long rev, List<LedgerRow> rows, long now) {
    MongoCollection<BsonDocument> c = collection(g.collection());
    List<WriteModel<BsonDocument>> ops = new ArrayList<>(rows.size());
    for (LedgerRow r : rows) {
      if (r.start() != start || r.end() != end) {
        throw new IllegalArgumentException("row " + r + " is not in [" + start + ", " + end + ")");
      }
      BsonDocument d = LedgerDocuments.row(r, rev);
      ops.add(new ReplaceOneModel<>(eq("_id", d.get("_id")), d, new ReplaceOptions().upsert(true)));
    }
    Future<Void> written =
        ops.isEmpty()
            ? Future.succeededFuture()
            : one(c.bulkWrite(ops, new BulkWriteOptions().ordered(false))).mapEmpty();
    BsonDateTime at = new BsonDateTime(start);
    return written
        .compose(v -> switchTo(g, start, end, rev, rows.size(), now))
        .compose(
            won ->
                one(c.deleteMany(and(eq("start", at), won ? lt("rev", rev) : eq("rev", rev))))
                    .map(d -> won));
  }

  /** Points the interval at a revision unless a higher one is already there; true if it is. */
  private Future<Boolean> switchTo(
      LedgerGrain g, long start, long end, long rev, int rows, long now) {
    String id = intervalId(g, start);
    BsonDocument set =
        new BsonDocument("grain", new BsonString(g.name()))
            .append("start", new BsonDateTime(start))
            .append("end", new BsonDateTime(end))
            .append("rev", new BsonInt64(rev))
            .append("rows", new BsonInt32(rows))
            .append("computed_at", new BsonDateTime(now));
    return one(collection(Schema.LEDGER_INTERVALS)
            .updateOne(
                and(eq("_id", id), lte("rev", rev)),
                new BsonDocument("$set", set),
                new UpdateOptions().upsert(true)))
        .map(r -> true)
        .recover(e -> duplicateKey(e) ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  // --- reading ---

  Future<LedgerRead> read(LedgerGrain g, long from, long to) {
    List<LedgerRow> rows = new ArrayList<>();
    return read(g, from, to, rows::add).map(intervals -> new LedgerRead(rows, intervals));
  }

  /**
   * Streams the rows of the complete intervals of [from, to) to the sink, one interval at a time
   * and in the order of their starts: the rows are read sorted by start (the {@code start_rev}
   * index), so that one interval's rows are held at a time, whatever the range. An interval whose
   * rows do not match its document (a writer switched or deleted revisions during the read) is read
   * again on its own, up to {@link #READ_ATTEMPTS} times in all. Completes with the starts of the
   * intervals read.
   */
  Future<SortedSet<Long>> read(LedgerGrain g, long from, long to, Consumer<LedgerRow> sink) {
    return intervals(and(eq("grain", g.name()), range("start", from, to)))
        .compose(
            current -> {
              IntervalRows pending = new IntervalRows(current, sink);
              Future<Void> streamed =
                  each(
                      collection(g.collection())
                          .find(range("start", from, to))
                          .projection(exclude("_id"))
                          .sort(ascending("start", "rev"))
                          .batchSize(5000),
                      pending::add);
              return streamed.compose(
                  v -> {
                    pending.finish();
                    Future<Void> again = Future.succeededFuture();
                    for (long start : pending.incomplete()) {
                      again = again.compose(w -> readAgain(g, start, sink, READ_ATTEMPTS - 1));
                    }
                    return again.map(w -> (SortedSet<Long>) new TreeSet<>(current.keySet()));
                  });
            });
  }

  /** Reads one interval again until its rows match its document, or fails after the attempts. */
  private Future<Void> readAgain(
      LedgerGrain g, long start, Consumer<LedgerRow> sink, int attempts) {
    if (attempts <= 0) {
      return Future.failedFuture(
          new IllegalStateException("ledger " + g + " kept changing while read"));
    }
    BsonDateTime at = new BsonDateTime(start);
    return intervals(eq("_id", intervalId(g, start)))
        .compose(
            current -> {
              if (current.isEmpty()) {
                // Gone since (past retention): no rows of it to read.
                return Future.succeededFuture();
              }
              IntervalRows pending = new IntervalRows(current, sink);
              return each(
                      collection(g.collection()).find(eq("start", at)).projection(exclude("_id")),
                      pending::add)
                  .compose(
                      v -> {
                        pending.finish();
                        return pending.incomplete().isEmpty()
                            ? Future.succeededFuture()
                            : readAgain(g, start, sink, attempts - 1);
                      });
            });
  }

  /** The interval documents matching a filter: start to {revision, row count}. */
  private Future<Map<Long, long[]>> intervals(Bson filter) {
    return all(collection(Schema.LEDGER_INTERVALS)
            .find(filter)
            .projection(include("start", "rev", "rows")))
        .map(
            docs -> {
              Map<Long, long[]> current = new HashMap<>();
              for (BsonDocument d : docs) {
                current.put(
                    Documents.millis(d, "start"),
                    new long[] {d.getNumber("rev").longValue(), d.getNumber("rows").longValue()});
              }
              return current;
            });
  }

  /**
   * Rows arriving sorted by interval start: an interval's rows of its current revision are held
   * until the next interval begins, then passed on if they are all there, or the interval is noted
   * as incomplete. The rows of a revision the interval does not name (being written, or being
   * deleted) are skipped.
   */
  private static final class IntervalRows {
    private final Map<Long, long[]> current;
    private final Consumer<LedgerRow> sink;
    private final Set<Long> complete = new HashSet<>();
    private final List<LedgerRow> held = new ArrayList<>();
    private long start = Long.MIN_VALUE;

    IntervalRows(Map<Long, long[]> current, Consumer<LedgerRow> sink) {
      this.current = current;
      this.sink = sink;
    }

    void add(BsonDocument d) {
      long s = Documents.millis(d, "start");
      if (s != start) {
        finish();
        start = s;
      }
      long[] c = current.get(s);
      if (c != null && c[0] == d.getNumber("rev").longValue()) {
        held.add(LedgerDocuments.row(d));
      }
    }

    /** Passes on the held interval's rows if they are all there. */
    void finish() {
      long[] c = current.get(start);
      if (c != null && held.size() == c[1]) {
        held.forEach(sink);
        complete.add(start);
      }
      held.clear();
    }

    /** The intervals whose rows were not all there (an interval without rows is complete). */
    List<Long> incomplete() {
      List<Long> out = new ArrayList<>();
      current.forEach(
          (s, c) -> {
            if (!complete.contains(s) && c[1] != 0) {
              out.add(s);
            }
          });
      out.sort(null);
      return out;
    }
  }

  /** The start of the earliest ({@code last} false) or the end of the latest written interval. */
  Future<Long> edge(LedgerGrain g, boolean last) {
    return all(collection(Schema.LEDGER_INTERVALS)
            .find(eq("grain", g.name()))
            .sort(last ? descending("start") : ascending("start"))
            .limit(1))
        .map(docs -> docs.isEmpty() ? null : Documents.millis(docs.get(0), last ? "end" : "start"));
  }

  /** The earliest event time of the raw events, or null. */
  Future<Long> firstEvent() {
    List<Future<List<BsonDocument>>> firsts = new ArrayList<>();
    for (EventType t : EventType.values()) {
      firsts.add(
          all(
              collection(Store.collection(t))
                  .find()
                  .sort(ascending("ts"))
                  .limit(1)
                  .projection(include("ts"))));
    }
    return Future.all(firsts)
        .map(
            v -> {
              Long first = null;
              for (Future<List<BsonDocument>> f : firsts) {
                for (BsonDocument d : f.result()) {
                  long ts = Documents.millis(d, "ts");
                  first = first == null ? ts : Math.min(first, ts);
                }
              }
              return first;
            });
  }

  // --- re-opened intervals ---

  Future<Void> markDirty(LedgerGrain g, Collection<Long> starts) {
    if (starts.isEmpty()) {
      return Future.succeededFuture();
    }
    List<WriteModel<BsonDocument>> ops = new ArrayList<>(starts.size());
    for (long s : starts) {
      ops.add(
          new UpdateOneModel<>(
              eq("_id", intervalId(g, s)),
              new BsonDocument("$inc", new BsonDocument("marks", new BsonInt64(1)))
                  .append(
                      "$setOnInsert",
                      new BsonDocument("grain", new BsonString(g.name()))
                          .append("start", new BsonDateTime(s))),
              new UpdateOptions().upsert(true)));
    }
    return one(collection(Schema.LEDGER_DIRTY)
            .bulkWrite(ops, new BulkWriteOptions().ordered(false)))
        .mapEmpty();
  }

  Future<SortedMap<Long, Long>> dirty(LedgerGrain g, int limit) {
    return all(collection(Schema.LEDGER_DIRTY)
            .find(eq("grain", g.name()))
            .sort(ascending("start"))
            .limit(limit))
        .map(
            docs -> {
              SortedMap<Long, Long> m = new TreeMap<>();
              for (BsonDocument d : docs) {
                m.put(Documents.millis(d, "start"), d.getNumber("marks").longValue());
              }
              return m;
            });
  }

  Future<Void> clearDirty(LedgerGrain g, long start, long marks) {
    return one(collection(Schema.LEDGER_DIRTY)
            .deleteOne(and(eq("_id", intervalId(g, start)), eq("marks", marks))))
        .mapEmpty();
  }

  // --- who writes ---

  Future<Boolean> lease(String name, String owner, long now, long ttlMillis) {
    return one(collection(Schema.LEDGER_LEASE)
            .findOneAndUpdate(
                and(eq("_id", name), or(eq("owner", owner), lt("expires", new BsonDateTime(now)))),
                new BsonDocument(
                    "$set",
                    new BsonDocument("owner", new BsonString(owner))
                        .append("expires", new BsonDateTime(now + ttlMillis))),
                new FindOneAndUpdateOptions().upsert(true)))
        .map(d -> true)
        // Held by another owner: the upsert of its _id collides with the holder's document.
        .recover(e -> duplicateKey(e) ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  private static Bson range(String field, long from, long to) {
    return and(gte(field, new BsonDateTime(from)), lt(field, new BsonDateTime(to)));
  }
}
