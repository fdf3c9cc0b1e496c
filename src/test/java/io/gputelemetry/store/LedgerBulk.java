package io.gputelemetry.store;

import com.mongodb.client.MongoDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;

/**
 * A generated ledger written in bulk: the documents {@link Store#replaceLedger} leaves for an
 * interval written once (its rows at one revision and its interval document), inserted many at a
 * time. For the benches' long ledgers: on the Mongo-wire stand-in each replaceLedger's delete of
 * older revisions scans the whole collection, which makes writing a month of hours quadratic.
 */
public final class LedgerBulk {
  private static final int CHUNK = 5_000;

  private LedgerBulk() {}

  /**
   * Inserts rows of a grain at revision {@code rev} without switching their intervals to it: what
   * {@link Store#replaceLedger} leaves when its writer stops after writing the new revision's rows.
   */
  public static void rowsOnly(MongoDatabase db, LedgerGrain grain, List<LedgerRow> rows, long rev) {
    List<BsonDocument> docs = new ArrayList<>();
    rows.forEach(r -> docs.add(LedgerDocuments.row(r, rev)));
    if (!docs.isEmpty()) {
      db.getCollection(grain.collection(), BsonDocument.class).insertMany(docs);
    }
  }

  /** Inserts each interval's rows (start to rows) of a grain at revision {@code rev}. */
  public static void insert(
      MongoDatabase db, LedgerGrain grain, long length, Map<Long, List<LedgerRow>> rows, long rev) {
    List<BsonDocument> docs = new ArrayList<>();
    List<BsonDocument> intervals = new ArrayList<>();
    for (Map.Entry<Long, List<LedgerRow>> e : rows.entrySet()) {
      long start = e.getKey();
      for (LedgerRow r : e.getValue()) {
        docs.add(LedgerDocuments.row(r, rev));
        if (docs.size() >= CHUNK) {
          db.getCollection(grain.collection(), BsonDocument.class).insertMany(docs);
          docs.clear();
        }
      }
      intervals.add(
          new BsonDocument("_id", new BsonString(grain.name() + "|" + start))
              .append("grain", new BsonString(grain.name()))
              .append("start", new BsonDateTime(start))
              .append("end", new BsonDateTime(start + length))
              .append("rev", new BsonInt64(rev))
              .append("rows", new BsonInt32(e.getValue().size()))
              .append("computed_at", new BsonDateTime(start + length)));
    }
    if (!docs.isEmpty()) {
      db.getCollection(grain.collection(), BsonDocument.class).insertMany(docs);
    }
    if (!intervals.isEmpty()) {
      db.getCollection(Schema.LEDGER_INTERVALS, BsonDocument.class).insertMany(intervals);
    }
  }
}
