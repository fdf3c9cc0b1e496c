package io.gputelemetry.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Blocking reads of the store for test assertions (test threads, never an event loop). */
public final class MongoQueries implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final MongoClient client;

  public MongoQueries(String uri) {
    client =
        MongoClient.create(
            vertx, new JsonObject().put("connection_string", uri).put("db_name", "telemetry"));
  }

  public List<JsonObject> find(String collection, JsonObject query) {
    return get(client.findWithOptions(collection, query, new FindOptions().setLimit(1_000_000)));
  }

  public long count(String collection) {
    return get(client.count(collection, new JsonObject()));
  }

  /** "collection|_id" of every raw event stored. */
  public Set<String> storedIds() {
    Set<String> ids = new HashSet<>();
    for (String c : List.of("gpu_metrics", "token_usage")) {
      for (JsonObject d :
          get(
              client.findWithOptions(
                  c,
                  new JsonObject(),
                  new FindOptions()
                      .setFields(new JsonObject().put("_id", 1))
                      .setLimit(10_000_000)))) {
        ids.add(c + "|" + d.getString("_id"));
      }
    }
    return ids;
  }

  private static <T> T get(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    client.close();
    vertx.close();
  }
}
