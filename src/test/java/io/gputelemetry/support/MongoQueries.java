package io.gputelemetry.support;

import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * Blocking reads of the store for test assertions (test threads, never an event loop), with the
 * driver's own synchronous API. Documents come back as JSON objects in MongoDB's relaxed extended
 * JSON: dates as {@code {"$date": "…Z"}}.
 */
public final class MongoQueries implements AutoCloseable {
  private static final JsonWriterSettings RELAXED =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  private final MongoClient client;
  private final MongoDatabase db;

  public MongoQueries(String uri) {
    this(uri, 30);
  }

  public MongoQueries(String uri, int socketTimeoutSeconds) {
    client =
        MongoClients.create(
            MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString(uri))
                .applyToSocketSettings(b -> b.readTimeout(socketTimeoutSeconds, TimeUnit.SECONDS))
                .build());
    db = client.getDatabase("telemetry");
  }

  public List<JsonObject> find(String collection, JsonObject query) {
    return find(collection, query, null);
  }

  /** Matching documents, with only {@code fields} (and _id) when not null. */
  public List<JsonObject> find(String collection, JsonObject query, List<String> fields) {
    List<JsonObject> out = new ArrayList<>();
    var it = db.getCollection(collection).find(Document.parse(query.encode()));
    if (fields != null) {
      Document projection = new Document();
      fields.forEach(f -> projection.append(f, 1));
      it = it.projection(projection);
    }
    for (Document d : it.batchSize(10_000)) {
      out.add(json(d));
    }
    return out;
  }

  public static JsonObject json(Document d) {
    return new JsonObject(d.toJson(RELAXED));
  }

  public long count(String collection) {
    return db.getCollection(collection).countDocuments();
  }

  /** "collection|_id" of every raw event stored. */
  public Set<String> storedIds() {
    Set<String> ids = new HashSet<>();
    for (String c : List.of("gpu_metrics", "token_usage")) {
      for (JsonObject d : find(c, new JsonObject(), List.of("_id"))) {
        ids.add(c + "|" + d.getString("_id"));
      }
    }
    return ids;
  }

  @Override
  public void close() {
    client.close();
  }
}
