package io.gputelemetry.store;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.IndexModel;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The MongoDB side through the Vert.x client: indexes, the GPU inventory, health; raw events go
 * through {@link EventWriter}.
 */
public final class MongoStore {
  public static final String GPU_METRICS = "gpu_metrics";
  public static final String TOKEN_USAGE = "token_usage";
  public static final String GPUS = "gpus";
  public static final String TTL_INDEX = "ts_ttl";
  private static final Logger LOG = LogManager.getLogger(MongoStore.class);

  private final MongoClient client;
  private final AppConfig.Mongo config;

  public MongoStore(Vertx vertx, AppConfig.Mongo config) {
    this.config = config;
    this.client = MongoClient.create(vertx, clientConfig(config));
  }

  public static JsonObject clientConfig(AppConfig.Mongo m) {
    long t = m.timeout().toMillis();
    return new JsonObject()
        .put("connection_string", m.connectionString())
        .put("db_name", m.database())
        .put("serverSelectionTimeoutMS", t)
        .put("connectTimeoutMS", t)
        .put("socketTimeoutMS", t * 3)
        .put("maxPoolSize", 32)
        .put("useObjectId", false);
  }

  public MongoClient client() {
    return client;
  }

  /** The indexes of design.md; TTL from mongo.retention (enforced by real MongoDB only). */
  public Future<Void> ensureIndexes() {
    long ttl = config.retention().toSeconds();
    IndexOptions ttlOptions = new IndexOptions().name(TTL_INDEX).expireAfter(ttl, TimeUnit.SECONDS);
    Future<Void> metrics =
        client.createIndexes(
            GPU_METRICS,
            List.of(
                new IndexModel(
                    new JsonObject().put("gpu_uuid", 1).put("ts", 1),
                    new IndexOptions().name("gpu_uuid_ts")),
                new IndexModel(
                    new JsonObject().put("node", 1).put("ts", 1),
                    new IndexOptions().name("node_ts")),
                new IndexModel(new JsonObject().put("ts", 1), ttlOptions)));
    Future<Void> tokens =
        client.createIndexes(
            TOKEN_USAGE,
            List.of(
                new IndexModel(
                    new JsonObject().put("model", 1).put("ts", 1),
                    new IndexOptions().name("model_ts")),
                new IndexModel(
                    new JsonObject().put("tenant", 1).put("ts", 1),
                    new IndexOptions().name("tenant_ts")),
                new IndexModel(new JsonObject().put("ts", 1), new IndexOptions(ttlOptions))));
    Future<Void> gpus =
        client.createIndexes(
            GPUS,
            List.of(
                new IndexModel(new JsonObject().put("node", 1), new IndexOptions().name("node")),
                new IndexModel(
                    new JsonObject().put("gpu_model", 1), new IndexOptions().name("gpu_model")),
                new IndexModel(
                    new JsonObject().put("model", 1), new IndexOptions().name("model"))));
    return Future.all(
            metrics.recover(e -> retention(GPU_METRICS, ttl, e)),
            tokens.recover(e -> retention(TOKEN_USAGE, ttl, e)),
            gpus)
        .mapEmpty();
  }

  /** An existing TTL index with another expiry: change it in place (collMod) instead of failing. */
  private Future<Void> retention(String collection, long ttlSeconds, Throwable cause) {
    int code = StoreFailures.commandCode(cause);
    if (code != 85 && code != 86) {
      return Future.failedFuture(cause);
    }
    LOG.info("changing the retention of {} to {} s", collection, ttlSeconds);
    return client
        .runCommand(
            "collMod",
            new JsonObject()
                .put("collMod", collection)
                .put(
                    "index",
                    new JsonObject().put("name", TTL_INDEX).put("expireAfterSeconds", ttlSeconds)))
        .mapEmpty();
  }

  /** Round trip to the server: what readiness means for the store. */
  public Future<Void> ping() {
    return client.runCommand("ping", new JsonObject().put("ping", 1)).mapEmpty();
  }

  /**
   * Folds the newest sample of each GPU into the inventory. Idempotent and order-free: first/last
   * seen move only outward ($min/$max), and the last state is replaced only by a strictly newer
   * sample (ties broken by event id), so a replay or a late sample never rolls it back.
   */
  public Future<Void> updateInventory(
      List<JsonObject> newestPerGpu, Map<String, JsonObject> oldestTs) {
    if (newestPerGpu.isEmpty()) {
      return Future.succeededFuture();
    }
    List<BulkOperation> ops = new ArrayList<>();
    for (JsonObject s : newestPerGpu) {
      String uuid = s.getString("gpu_uuid");
      JsonObject ts = s.getJsonObject("ts");
      JsonObject state = inventoryState(s);
      ops.add(
          BulkOperation.createUpdate(
              new JsonObject().put("_id", uuid),
              new JsonObject()
                  .put("$min", new JsonObject().put("first_seen", oldestTs.getOrDefault(uuid, ts)))
                  .put("$max", new JsonObject().put("last_seen", ts))
                  .put("$setOnInsert", state),
              true,
              false));
      ops.add(
          BulkOperation.createUpdate(
              new JsonObject()
                  .put("_id", uuid)
                  .put(
                      "$or",
                      new JsonArray()
                          .add(new JsonObject().put("last.ts", new JsonObject().put("$lt", ts)))
                          .add(
                              new JsonObject()
                                  .put("last.ts", ts)
                                  .put(
                                      "last.event_id",
                                      new JsonObject().put("$lt", s.getString("event_id"))))),
              new JsonObject().put("$set", state),
              false,
              false));
    }
    return client
        .bulkWriteWithOptions(GPUS, ops, new BulkWriteOptions().setOrdered(true))
        .mapEmpty();
  }

  private static JsonObject inventoryState(JsonObject s) {
    JsonObject last = s.copy();
    last.remove("_id");
    last.remove("received_at");
    JsonObject state =
        new JsonObject()
            .put("gpu_uuid", s.getString("gpu_uuid"))
            .put("node", s.getString("node"))
            .put("gpu_model", s.getString("gpu_model"))
            .put("memory_total_mib", s.getValue("memory_total_mib"))
            .put("last", last);
    if (s.containsKey("gpu_index")) {
      state.put("gpu_index", s.getValue("gpu_index"));
    }
    state.put("model", s.getString("model"));
    return state;
  }

  public Future<Void> close() {
    return client.close();
  }
}
