package io.gputelemetry.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientSettings;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.bulk.BulkWriteResult;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.WriteModel;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The raw-event insert path: events go to MongoDB as BSON built straight from the parsed JSON
 * (dates from epoch milliseconds), through the driver's own collection API. The hot path of the
 * processor; reads, indexes and the inventory use the Vert.x client ({@link MongoStore}).
 */
public final class EventWriter implements AutoCloseable {
  private final Vertx vertx;
  private final MongoClient client;
  private final MongoDatabase database;

  public EventWriter(Vertx vertx, AppConfig.Mongo config) {
    this.vertx = vertx;
    long t = config.timeout().toMillis();
    MongoClientSettings settings =
        MongoClientSettings.builder()
            .applyConnectionString(new ConnectionString(config.connectionString()))
            .applyToClusterSettings(b -> b.serverSelectionTimeout(t, TimeUnit.MILLISECONDS))
            .applyToSocketSettings(
                b ->
                    b.connectTimeout((int) t, TimeUnit.MILLISECONDS)
                        .readTimeout((int) (t * 3), TimeUnit.MILLISECONDS))
            .build();
    this.client = MongoClients.create(settings);
    this.database = client.getDatabase(config.database());
  }

  /**
   * The stored form of an event, encoded once: _id scoped by source, the event's fields (ts and
   * received_at as BSON dates), total_tokens for token events, and the live estimate: {@code
   * unpriced: true}, or {@code cost_per_token_usd} and {@code cost_usd} when {@code costPerToken}
   * is a number. Encoded here into a byte array ({@link BsonBytes}), the driver copies it in one
   * piece.
   */
  public static RawBsonDocument toBson(
      Event e, long receivedAtMillis, boolean unpriced, double costPerToken) {
    BsonBytes w = new BsonBytes(384);
    w.string(ID, e.storeId());
    byte[][] names = e.type() == EventType.GPU_SAMPLE ? GPU_NAMES : TOKEN_NAMES;
    for (EventFields.Field f : EventFields.of(e.type()).all()) {
      byte[] name = names[f.index()];
      if (f.kind() == EventFields.Kind.TS) {
        w.dateTime(name, e.ts().toEpochMilli());
        continue;
      }
      Object v = e.value(f);
      if (v instanceof String s) {
        w.string(name, s);
      } else if (v instanceof Integer i) {
        w.int32(name, i);
      } else if (v instanceof Long l) {
        w.int64(name, l);
      } else if (v instanceof Double d) {
        w.dbl(name, d);
      }
    }
    w.dateTime(RECEIVED_AT, receivedAtMillis);
    if (e.type() == EventType.TOKEN_USAGE) {
      long total = e.integer(EventFields.T_INPUT, 0) + e.integer(EventFields.T_OUTPUT, 0);
      w.int64(TOTAL_TOKENS, total);
      if (!unpriced && !Double.isNaN(costPerToken)) {
        w.dbl(COST_PER_TOKEN, costPerToken);
        w.dbl(COST, costPerToken * total);
      }
    }
    if (unpriced) {
      w.bool(UNPRICED, true);
    }
    return w.finish();
  }

  private static final byte[] ID = BsonBytes.name("_id");
  private static final byte[] RECEIVED_AT = BsonBytes.name("received_at");
  private static final byte[] TOTAL_TOKENS = BsonBytes.name("total_tokens");
  private static final byte[] COST_PER_TOKEN = BsonBytes.name("cost_per_token_usd");
  private static final byte[] COST = BsonBytes.name("cost_usd");
  private static final byte[] UNPRICED = BsonBytes.name("unpriced");
  private static final byte[][] GPU_NAMES = names(EventType.GPU_SAMPLE);
  private static final byte[][] TOKEN_NAMES = names(EventType.TOKEN_USAGE);

  private static byte[][] names(EventType type) {
    return EventFields.of(type).all().stream()
        .map(f -> BsonBytes.name(f.name()))
        .toArray(byte[][]::new);
  }

  /**
   * Unordered bulk insert. Duplicate keys count as already stored; documents refused for a data
   * reason are reported by index; anything else fails the future (the caller retries the batch).
   */
  public Future<WriteOutcome> insert(String collection, List<? extends BsonDocument> docs) {
    if (docs.isEmpty()) {
      return Future.succeededFuture(WriteOutcome.allInserted(0));
    }
    List<WriteModel<BsonDocument>> ops = new ArrayList<>(docs.size());
    for (BsonDocument d : docs) {
      ops.add(new InsertOneModel<>(d));
    }
    Context ctx = vertx.getOrCreateContext();
    Promise<BulkWriteResult> p = Promise.promise();
    database
        .getCollection(collection, BsonDocument.class)
        .bulkWrite(ops, new BulkWriteOptions().ordered(false))
        .subscribe(
            new Subscriber<BulkWriteResult>() {
              @Override
              public void onSubscribe(Subscription s) {
                s.request(1);
              }

              @Override
              public void onNext(BulkWriteResult r) {
                ctx.runOnContext(v -> p.tryComplete(r));
              }

              @Override
              public void onError(Throwable t) {
                ctx.runOnContext(v -> p.tryFail(t));
              }

              @Override
              public void onComplete() {
                // onNext completed the promise.
              }
            });
    return p.future()
        .map(r -> WriteOutcome.allInserted(docs.size()))
        .recover(err -> classify(err, docs.size()));
  }

  static Future<WriteOutcome> classify(Throwable err, int size) {
    MongoBulkWriteException bulk = StoreFailures.bulkError(err);
    if (bulk == null || bulk.getWriteConcernError() != null) {
      return Future.failedFuture(err);
    }
    Set<Integer> duplicates = new HashSet<>();
    Map<Integer, String> rejected = new HashMap<>();
    for (BulkWriteError e : bulk.getWriteErrors()) {
      if (StoreFailures.isDuplicate(e.getCode())) {
        duplicates.add(e.getIndex());
      } else if (StoreFailures.isDataError(e.getCode())) {
        rejected.put(
            e.getIndex(),
            "store refused the document (code " + e.getCode() + "): " + e.getMessage());
      } else {
        return Future.failedFuture(err);
      }
    }
    return Future.succeededFuture(new WriteOutcome(size, duplicates, rejected));
  }

  @Override
  public void close() {
    client.close();
  }
}
