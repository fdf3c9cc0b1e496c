package io.gputelemetry.store;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.gputelemetry.event.EventType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;
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

  /** The stored form of an event: _id scoped by source, ts and received_at as BSON dates. */
  public static BsonDocument toBson(Event e, Instant receivedAt) {
    BsonDocument d = new BsonDocument("_id", new BsonString(e.storeId()));
    for (Iterator<Map.Entry<String, JsonNode>> it = e.body().fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      d.put(f.getKey(), f.getKey().equals("ts") ? new BsonDateTime(e.ts().toEpochMilli()) : bson(f.getValue()));
    }
    d.put("received_at", new BsonDateTime(receivedAt.toEpochMilli()));
    if (e.type() == EventType.TOKEN_USAGE) {
      d.put("total_tokens", new BsonInt64(e.body().path("input_tokens").asLong() + e.body().path("output_tokens").asLong()));
    }
    return d;
  }

  private static BsonValue bson(JsonNode n) {
    if (n.isTextual()) {
      return new BsonString(n.asText());
    }
    if (n.isInt()) {
      return new BsonInt32(n.intValue());
    }
    if (n.isIntegralNumber()) {
      return new BsonInt64(n.longValue());
    }
    if (n.isNumber()) {
      return new BsonDouble(n.doubleValue());
    }
    if (n.isBoolean()) {
      return BsonBoolean.valueOf(n.booleanValue());
    }
    return n.isNull() ? BsonNull.VALUE : new BsonString(n.toString());
  }

  /**
   * Unordered bulk insert. Duplicate keys count as already stored; documents refused for a data
   * reason are reported by index; anything else fails the future (the caller retries the batch).
   */
  public Future<WriteOutcome> insert(String collection, List<BsonDocument> docs) {
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
