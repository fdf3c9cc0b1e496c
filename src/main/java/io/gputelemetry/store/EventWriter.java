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
import org.bson.BsonBinaryWriter;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.io.BasicOutputBuffer;
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
    MongoClientSettings settings = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString(config.connectionString()))
        .applyToClusterSettings(b -> b.serverSelectionTimeout(t, TimeUnit.MILLISECONDS))
        .applyToSocketSettings(b -> b.connectTimeout((int) t, TimeUnit.MILLISECONDS)
            .readTimeout((int) (t * 3), TimeUnit.MILLISECONDS))
        .build();
    this.client = MongoClients.create(settings);
    this.database = client.getDatabase(config.database());
  }

  /**
   * The stored form of an event, encoded once: _id scoped by source, the event's fields (ts and
   * received_at as BSON dates), total_tokens for token events, and the live estimate: {@code
   * unpriced: true}, or {@code cost_per_token_usd} and {@code cost_usd} when {@code costPerToken} is
   * a number. Encoded here into a byte array, the driver copies it in one piece.
   */
  public static RawBsonDocument toBson(Event e, long receivedAtMillis, boolean unpriced, double costPerToken) {
    BasicOutputBuffer out = new BasicOutputBuffer(384);
    try (BsonBinaryWriter w = new BsonBinaryWriter(out)) {
      w.writeStartDocument();
      w.writeString("_id", e.storeId());
      for (EventFields.Field f : EventFields.of(e.type()).all()) {
        if (f.kind() == EventFields.Kind.TS) {
          w.writeDateTime(f.name(), e.ts().toEpochMilli());
          continue;
        }
        Object v = e.value(f);
        if (v instanceof String s) {
          w.writeString(f.name(), s);
        } else if (v instanceof Integer i) {
          w.writeInt32(f.name(), i);
        } else if (v instanceof Long l) {
          w.writeInt64(f.name(), l);
        } else if (v instanceof Double d) {
          w.writeDouble(f.name(), d);
        }
      }
      w.writeDateTime("received_at", receivedAtMillis);
      if (e.type() == EventType.TOKEN_USAGE) {
        long total = e.integer(EventFields.T_INPUT, 0) + e.integer(EventFields.T_OUTPUT, 0);
        w.writeInt64("total_tokens", total);
        if (!unpriced && !Double.isNaN(costPerToken)) {
          w.writeDouble("cost_per_token_usd", costPerToken);
          w.writeDouble("cost_usd", costPerToken * total);
        }
      }
      if (unpriced) {
        w.writeBoolean("unpriced", true);
      }
      w.writeEndDocument();
    }
    return new RawBsonDocument(out.getInternalBuffer(), 0, out.getPosition());
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
    database.getCollection(collection, BsonDocument.class)
        .bulkWrite(ops, new BulkWriteOptions().ordered(false))
        .subscribe(new Subscriber<BulkWriteResult>() {
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
    return p.future().map(r -> WriteOutcome.allInserted(docs.size())).recover(err -> classify(err, docs.size()));
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
        rejected.put(e.getIndex(), "store refused the document (code " + e.getCode() + "): " + e.getMessage());
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
