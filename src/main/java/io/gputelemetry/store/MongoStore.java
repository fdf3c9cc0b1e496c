package io.gputelemetry.store;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.or;
import static com.mongodb.client.model.Projections.excludeId;
import static com.mongodb.client.model.Projections.fields;
import static com.mongodb.client.model.Projections.include;
import static com.mongodb.client.model.Sorts.ascending;
import static com.mongodb.client.model.Sorts.descending;
import static org.bson.codecs.configuration.CodecRegistries.fromCodecs;
import static org.bson.codecs.configuration.CodecRegistries.fromRegistries;

import com.mongodb.ConnectionString;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientSettings;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.IndexModel;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.WriteModel;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.codecs.configuration.CodecRegistry;
import org.bson.conversions.Bson;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The store on MongoDB through one client, the driver's reactive-streams API (Vert.x's MongoDB
 * client converts every document through JsonObject; the processor's inserts are encoded straight
 * to BSON by {@link StoredEventCodec}). Publishers are adapted with Reactor, which the driver is
 * built on, and complete on the caller's Vert.x context.
 */
public final class MongoStore implements Store {
  private static final Logger LOG = LogManager.getLogger(MongoStore.class);
  private static final String TTL_INDEX = "ts_ttl";
  private static final int ID_CHUNK = 1000;

  /** An index the store ensures and verify checks. */
  private record Index(String name, Bson keys, boolean ttl) {}

  private static final Map<String, List<Index>> SCHEMA = schema();

  private static Map<String, List<Index>> schema() {
    Map<String, List<Index>> m = new LinkedHashMap<>();
    m.put(
        Store.collection(EventType.GPU_SAMPLE),
        List.of(
            new Index("gpu_uuid_ts", ascending("gpu_uuid", "ts"), false),
            new Index("node_ts", ascending("node", "ts"), false),
            new Index(TTL_INDEX, ascending("ts"), true)));
    m.put(
        Store.collection(EventType.TOKEN_USAGE),
        List.of(
            new Index("model_ts", ascending("model", "ts"), false),
            new Index("tenant_ts", ascending("tenant", "ts"), false),
            new Index(TTL_INDEX, ascending("ts"), true)));
    m.put(
        Store.INVENTORY,
        List.of(
            new Index("node", ascending("node"), false),
            new Index("gpu_model", ascending("gpu_model"), false),
            new Index("model", ascending("model"), false)));
    return Collections.unmodifiableMap(m);
  }

  private final Vertx vertx;
  private final AppConfig.Mongo config;
  private final MongoClient client;
  private final MongoDatabase db;

  public MongoStore(Vertx vertx, AppConfig.Mongo config) {
    this.vertx = vertx;
    this.config = config;
    long t = config.timeout().toMillis();
    CodecRegistry codecs =
        fromRegistries(
            fromCodecs(new StoredEventCodec()), MongoClientSettings.getDefaultCodecRegistry());
    MongoClientSettings settings =
        MongoClientSettings.builder()
            .applyConnectionString(new ConnectionString(config.connectionString()))
            .applyToClusterSettings(b -> b.serverSelectionTimeout(t, TimeUnit.MILLISECONDS))
            .applyToSocketSettings(
                b ->
                    b.connectTimeout((int) t, TimeUnit.MILLISECONDS)
                        .readTimeout((int) (t * 3), TimeUnit.MILLISECONDS))
            .codecRegistry(codecs)
            .build();
    this.client = MongoClients.create(settings);
    this.db = client.getDatabase(config.database());
  }

  // --- adapting the driver's publishers to Vert.x futures ---

  private <T> Future<T> one(Publisher<T> p) {
    return Future.fromCompletionStage(Mono.from(p).toFuture(), vertx.getOrCreateContext());
  }

  private <T> Future<List<T>> all(Publisher<T> p) {
    return Future.fromCompletionStage(
        Flux.from(p).collectList().toFuture(), vertx.getOrCreateContext());
  }

  private <T> Future<Void> each(Publisher<T> p, Consumer<T> sink) {
    return Future.fromCompletionStage(
        Flux.from(p).doOnNext(sink).then().toFuture(), vertx.getOrCreateContext());
  }

  private MongoCollection<BsonDocument> collection(String name) {
    return db.getCollection(name, BsonDocument.class);
  }

  // --- schema ---

  @Override
  public Future<Void> ensureSchema() {
    long ttl = config.retention().toSeconds();
    List<Future<?>> all = new ArrayList<>();
    SCHEMA.forEach(
        (name, indexes) -> {
          List<IndexModel> models = new ArrayList<>();
          for (Index i : indexes) {
            IndexOptions o = new IndexOptions().name(i.name());
            if (i.ttl()) {
              o.expireAfter(ttl, TimeUnit.SECONDS);
            }
            models.add(new IndexModel(i.keys(), o));
          }
          all.add(
              all(collection(name).createIndexes(models))
                  .recover(e -> changeRetention(name, ttl, e)));
        });
    return Future.all(all).mapEmpty();
  }

  /** An existing TTL index with another expiry: change it in place (collMod) instead of failing. */
  private Future<List<String>> changeRetention(String collection, long ttlSeconds, Throwable e) {
    int code = StoreFailures.commandCode(e);
    if (code != 85 && code != 86) {
      return Future.failedFuture(e);
    }
    LOG.info("changing the retention of {} to {} s", collection, ttlSeconds);
    Document cmd =
        new Document("collMod", collection)
            .append(
                "index", new Document("name", TTL_INDEX).append("expireAfterSeconds", ttlSeconds));
    return one(db.runCommand(cmd)).map(d -> List.of());
  }

  @Override
  public Future<Void> ping() {
    return one(db.runCommand(new Document("ping", 1))).mapEmpty();
  }

  @Override
  public Future<List<String>> schemaProblems() {
    return all(db.listCollectionNames())
        .compose(
            names -> {
              List<String> problems = Collections.synchronizedList(new ArrayList<>());
              List<Future<?>> checks = new ArrayList<>();
              SCHEMA.forEach(
                  (name, indexes) -> {
                    if (!names.contains(name)) {
                      problems.add("collection " + name + " missing");
                      return;
                    }
                    checks.add(
                        all(collection(name).listIndexes(BsonDocument.class))
                            .onSuccess(
                                present -> {
                                  Set<String> have = new HashSet<>();
                                  present.forEach(d -> have.add(d.getString("name").getValue()));
                                  for (Index i : indexes) {
                                    if (!have.contains(i.name())) {
                                      problems.add(name + " index " + i.name() + " missing");
                                    }
                                  }
                                }));
                  });
              return Future.all(checks).map(v -> List.copyOf(problems));
            });
  }

  @Override
  public String schemaSummary() {
    return SCHEMA.size()
        + " collections, "
        + SCHEMA.values().stream().mapToInt(List::size).sum()
        + " indexes";
  }

  // --- raw events ---

  @Override
  public Future<WriteOutcome> insert(EventType type, List<StoredEvent> events) {
    if (events.isEmpty()) {
      return Future.succeededFuture(WriteOutcome.allInserted(0));
    }
    List<WriteModel<StoredEvent>> ops = new ArrayList<>(events.size());
    for (StoredEvent e : events) {
      ops.add(new InsertOneModel<>(e));
    }
    int n = events.size();
    return one(db.getCollection(Store.collection(type), StoredEvent.class)
            .bulkWrite(ops, new BulkWriteOptions().ordered(false)))
        .map(r -> WriteOutcome.allInserted(n))
        .recover(err -> classify(err, n));
  }

  /** Duplicates are "already stored", data errors are reported per document, the rest fails. */
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
  public Future<Set<String>> missing(EventType type, Collection<String> storeIds) {
    List<String> ids = new ArrayList<>(storeIds);
    List<Future<List<BsonDocument>>> chunks = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += ID_CHUNK) {
      List<String> chunk = ids.subList(i, Math.min(ids.size(), i + ID_CHUNK));
      chunks.add(
          all(
              collection(Store.collection(type))
                  .find(in("_id", chunk))
                  .projection(include("_id"))));
    }
    return Future.all(chunks)
        .map(
            v -> {
              Set<String> missing = new HashSet<>(ids);
              for (Future<List<BsonDocument>> c : chunks) {
                c.result().forEach(d -> missing.remove(d.getString("_id").getValue()));
              }
              return missing;
            });
  }

  // --- inventory ---

  @Override
  public Future<Void> foldInventory(List<InventoryUpdate> updates) {
    if (updates.isEmpty()) {
      return Future.succeededFuture();
    }
    List<WriteModel<BsonDocument>> ops = new ArrayList<>(updates.size() * 2);
    for (InventoryUpdate u : updates) {
      Event e = u.newest();
      BsonString id = new BsonString(e.scope());
      BsonDateTime ts = new BsonDateTime(e.ts().toEpochMilli());
      BsonDocument state = inventoryState(e);
      ops.add(
          new UpdateOneModel<>(
              eq("_id", id),
              new BsonDocument(
                      "$min",
                      new BsonDocument("first_seen", new BsonDateTime(u.oldest().toEpochMilli())))
                  .append("$max", new BsonDocument("last_seen", ts))
                  .append("$setOnInsert", state),
              new UpdateOptions().upsert(true)));
      ops.add(
          new UpdateOneModel<>(
              and(
                  eq("_id", id),
                  or(lt("last.ts", ts), and(eq("last.ts", ts), lt("last.event_id", e.eventId())))),
              new BsonDocument("$set", state)));
    }
    return one(collection(Store.INVENTORY).bulkWrite(ops, new BulkWriteOptions().ordered(true)))
        .mapEmpty();
  }

  private static BsonDocument inventoryState(Event e) {
    BsonDocument state =
        new BsonDocument("gpu_uuid", new BsonString(e.scope()))
            .append("node", bson(e.value(EventFields.G_NODE)))
            .append("gpu_model", bson(e.value(EventFields.G_GPU_MODEL)))
            .append("memory_total_mib", bson(e.value(EventFields.G_MEMORY_TOTAL)))
            .append("last", StoredEventCodec.fields(e));
    Object index = e.value(EventFields.G_GPU_INDEX);
    if (index != null) {
      state.append("gpu_index", bson(index));
    }
    return state.append("model", bson(e.value(EventFields.G_MODEL)));
  }

  private static BsonValue bson(Object v) {
    if (v instanceof String s) {
      return new BsonString(s);
    }
    if (v instanceof Integer i) {
      return new BsonInt32(i);
    }
    if (v instanceof Long l) {
      return new BsonInt64(l);
    }
    if (v instanceof Double d) {
      return new BsonDouble(d);
    }
    return BsonNull.VALUE;
  }

  @Override
  public Future<List<GpuRecord>> gpus(String node, String model) {
    List<Bson> filters = new ArrayList<>();
    if (node != null) {
      filters.add(eq("node", node));
    }
    if (model != null) {
      filters.add(eq("model", model));
    }
    Bson filter = filters.isEmpty() ? new BsonDocument() : and(filters);
    return all(collection(Store.INVENTORY).find(filter).sort(ascending("_id")))
        .map(docs -> docs.stream().map(MongoStore::gpuRecord).collect(Collectors.toList()));
  }

  @Override
  public Future<GpuRecord> gpu(String gpuUuid) {
    return all(collection(Store.INVENTORY).find(eq("_id", gpuUuid)).limit(1))
        .map(docs -> docs.isEmpty() ? null : gpuRecord(docs.get(0)));
  }

  private static GpuRecord gpuRecord(BsonDocument d) {
    BsonValue last = d.get("last");
    @SuppressWarnings("unchecked")
    Map<String, Object> lastState =
        last != null && last.isDocument() ? (Map<String, Object>) java(last) : Map.of();
    return new GpuRecord(
        d.getString("_id").getValue(),
        text(d, "node"),
        text(d, "gpu_model"),
        text(d, "model"),
        new GpuRecord.Span(millis(d, "first_seen"), millis(d, "last_seen")),
        lastState);
  }

  private static String text(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isString() ? v.asString().getValue() : null;
  }

  private static long millis(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isDateTime() ? v.asDateTime().getValue() : 0;
  }

  /** A BSON value as plain Java: String, Integer, Long, Double, Boolean, Instant, Map, or null. */
  static Object java(BsonValue v) {
    switch (v.getBsonType()) {
      case STRING:
        return v.asString().getValue();
      case INT32:
        return v.asInt32().getValue();
      case INT64:
        return v.asInt64().getValue();
      case DOUBLE:
        return v.asDouble().getValue();
      case BOOLEAN:
        return v.asBoolean().getValue();
      case DATE_TIME:
        return Instant.ofEpochMilli(v.asDateTime().getValue());
      case DOCUMENT:
        Map<String, Object> m = new LinkedHashMap<>();
        v.asDocument().forEach((k, x) -> m.put(k, java(x)));
        return m;
      case NULL:
        return null;
      default:
        return v.toString();
    }
  }

  @Override
  public Future<List<Map<String, Object>>> samples(
      String gpuUuid, Instant since, int limit, List<String> fields) {
    List<String> wanted = new ArrayList<>(fields);
    wanted.add("ts");
    return all(collection(Store.collection(EventType.GPU_SAMPLE))
            .find(and(eq("gpu_uuid", gpuUuid), gte("ts", new BsonDateTime(since.toEpochMilli()))))
            .sort(descending("ts"))
            .limit(limit)
            .projection(fields(include(wanted), excludeId())))
        .map(
            docs -> {
              List<Map<String, Object>> out = new ArrayList<>(docs.size());
              for (int i = docs.size() - 1; i >= 0; i--) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) java(docs.get(i));
                out.add(m);
              }
              return out;
            });
  }

  // --- accounting's reads ---

  @Override
  public Future<Void> usage(
      long fromMillis,
      long toMillis,
      long sampleMarginMillis,
      Consumer<UsageRows.Sample> samples,
      Consumer<UsageRows.Tokens> tokens) {
    Future<Void> s =
        each(
            collection(Store.collection(EventType.GPU_SAMPLE))
                .find(range(fromMillis - sampleMarginMillis, toMillis + sampleMarginMillis))
                .projection(include("gpu_uuid", "ts", "gpu_model", "model", "energy_mj", "power_w"))
                .batchSize(5000),
            d ->
                samples.accept(
                    new UsageRows.Sample(
                        text(d, "gpu_uuid"),
                        millis(d, "ts"),
                        text(d, "gpu_model"),
                        text(d, "model"),
                        d.isNumber("energy_mj") ? integer(d, "energy_mj") : null,
                        number(d, "power_w"))));
    Future<Void> t =
        each(
            collection(Store.collection(EventType.TOKEN_USAGE))
                .find(range(fromMillis, toMillis))
                .projection(include("ts", "model", "tenant", "input_tokens", "output_tokens"))
                .batchSize(5000),
            d ->
                tokens.accept(
                    new UsageRows.Tokens(
                        millis(d, "ts"),
                        text(d, "model"),
                        text(d, "tenant"),
                        integer(d, "input_tokens"),
                        integer(d, "output_tokens"))));
    return Future.all(s, t).mapEmpty();
  }

  private static double number(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isNumber() ? v.asNumber().doubleValue() : 0;
  }

  private static long integer(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isNumber() ? v.asNumber().longValue() : 0;
  }

  private static Bson range(long from, long to) {
    return and(gte("ts", new BsonDateTime(from)), lt("ts", new BsonDateTime(to)));
  }

  @Override
  public Future<Void> close() {
    return vertx.executeBlocking(
        () -> {
          client.close();
          return null;
        },
        false);
  }
}
