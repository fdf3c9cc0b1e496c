package io.gputelemetry.store;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.exists;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.or;
import static com.mongodb.client.model.Projections.excludeId;
import static com.mongodb.client.model.Projections.fields;
import static com.mongodb.client.model.Projections.include;
import static com.mongodb.client.model.Sorts.ascending;
import static com.mongodb.client.model.Sorts.descending;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
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
import io.gputelemetry.event.EventType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.conversions.Bson;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The store on MongoDB through one client, the driver's reactive-streams API (Vert.x's MongoDB
 * client converts every document through JsonObject; the processor's inserts are encoded to raw
 * BSON by {@link StoredEventCodec}). Publishers are adapted with Reactor, which the driver is built
 * on, and complete on the caller's Vert.x context.
 */
public final class MongoStore implements Store {
  private static final StoredEventCodec CODEC = new StoredEventCodec();
  private static final Logger LOG = LogManager.getLogger(MongoStore.class);
  private static final int ID_CHUNK = 1000;

  private final Vertx vertx;
  private final AppConfig.Mongo config;
  private final MongoClient client;
  private final MongoDatabase db;
  private final Duration ledgerRetention;
  private final MongoLedger ledger;

  /** A store whose ledger is kept {@link #LEDGER_RETENTION}. */
  public MongoStore(Vertx vertx, AppConfig.Mongo config) {
    this(vertx, config, LEDGER_RETENTION);
  }

  /** The default of ledger.retention: 13 months. */
  public static final Duration LEDGER_RETENTION = Duration.ofDays(400);

  /**
   * @param ledgerRetention how long the ledger and its roll-ups are kept (ledger.retention)
   */
  public MongoStore(Vertx vertx, AppConfig.Mongo config, Duration ledgerRetention) {
    this.ledgerRetention = ledgerRetention;
    this.vertx = vertx;
    this.config = config;
    long t = config.timeout().toMillis();
    MongoClientSettings settings =
        MongoClientSettings.builder()
            .applyConnectionString(new ConnectionString(config.connectionString()))
            .applyToClusterSettings(b -> b.serverSelectionTimeout(t, TimeUnit.MILLISECONDS))
            .applyToSocketSettings(
                b ->
                    b.connectTimeout(t, TimeUnit.MILLISECONDS)
                        .readTimeout(t * 3, TimeUnit.MILLISECONDS))
            .build();
    this.client = MongoClients.create(settings);
    this.db = client.getDatabase(config.database());
    this.ledger = new MongoLedger(vertx, db);
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
    List<Future<?>> all = new ArrayList<>();
    Schema.COLLECTIONS.forEach(
        (name, indexes) -> {
          long ttl =
              Schema.ledger(name) ? ledgerRetention.toSeconds() : config.retention().toSeconds();
          List<IndexModel> models = new ArrayList<>();
          for (Schema.Index i : indexes) {
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
                "index",
                new Document(
                        "name",
                        Schema.ledger(collection) ? Schema.LEDGER_TTL_INDEX : Schema.TTL_INDEX)
                    .append("expireAfterSeconds", ttlSeconds));
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
              Schema.COLLECTIONS.forEach(
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
                                  for (Schema.Index i : indexes) {
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
    return Schema.summary();
  }

  // --- raw events ---

  @Override
  public Future<WriteOutcome> insert(EventType type, List<StoredEvent> events) {
    if (events.isEmpty()) {
      return Future.succeededFuture(WriteOutcome.allInserted(0));
    }
    // Encoded here into one array per document with the library's writer; the driver then copies
    // each in one piece. Encoding field by field into the driver's own output buffers instead cost
    // a third of the processor's CPU in a profile of a 1M-event drain (docs/performance.md).
    List<WriteModel<RawBsonDocument>> ops = new ArrayList<>(events.size());
    for (StoredEvent e : events) {
      ops.add(new InsertOneModel<>(new RawBsonDocument(e, CODEC)));
    }
    int n = events.size();
    return one(db.getCollection(Store.collection(type), RawBsonDocument.class)
            .bulkWrite(ops, new BulkWriteOptions().ordered(false)))
        .map(r -> WriteOutcome.allInserted(n))
        .recover(err -> StoreFailures.classify(err, n));
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
      BsonDocument state = Documents.inventoryState(e);
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
        .map(docs -> docs.stream().map(Documents::gpuRecord).collect(Collectors.toList()));
  }

  @Override
  public Future<GpuRecord> gpu(String gpuUuid) {
    return all(collection(Store.INVENTORY).find(eq("_id", gpuUuid)).limit(1))
        .map(docs -> docs.isEmpty() ? null : Documents.gpuRecord(docs.get(0)));
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
                Map<String, Object> m = (Map<String, Object>) Documents.java(docs.get(i));
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
                .projection(SAMPLE_FIELDS)
                .batchSize(5000),
            d -> samples.accept(usageSample(d)));
    Future<Void> t =
        each(
            collection(Store.collection(EventType.TOKEN_USAGE))
                .find(and(range(fromMillis, toMillis), exists(READING_OF, false)))
                .projection(include("ts", "model", "tenant", "input_tokens", "output_tokens"))
                .batchSize(5000),
            d ->
                tokens.accept(
                    new UsageRows.Tokens(
                        Documents.millis(d, "ts"),
                        Documents.text(d, "model"),
                        Documents.text(d, "tenant"),
                        Documents.integer(d, "input_tokens"),
                        Documents.integer(d, "output_tokens"))));
    return Future.all(s, t).mapEmpty();
  }

  /** The fields of a sample accounting reads. */
  private static final Bson SAMPLE_FIELDS =
      include(
          "gpu_uuid",
          "ts",
          "gpu_model",
          "model",
          "energy_mj",
          "power_w",
          "max_gap_s",
          "mig_parent_uuid",
          "node",
          "mig_profile");

  private static UsageRows.Sample usageSample(BsonDocument d) {
    return new UsageRows.Sample(
        Documents.text(d, "gpu_uuid"),
        Documents.millis(d, "ts"),
        Documents.text(d, "gpu_model"),
        Documents.text(d, "model"),
        d.isNumber("energy_mj") ? Documents.integer(d, "energy_mj") : null,
        Documents.number(d, "power_w"),
        d.isNumber("max_gap_s") ? Math.round(Documents.number(d, "max_gap_s") * 1000) : null,
        d.containsKey("mig_parent_uuid"),
        Documents.text(d, "node"),
        Documents.text(d, "mig_parent_uuid"),
        Documents.text(d, "mig_profile"));
  }

  @Override
  public Future<UsageRows.Sample> neighbour(String gpuUuid, long millis, boolean before) {
    BsonDateTime t = new BsonDateTime(millis);
    return all(collection(Store.collection(EventType.GPU_SAMPLE))
            .find(and(eq("gpu_uuid", gpuUuid), before ? lt("ts", t) : gte("ts", t)))
            .sort(before ? descending("ts") : ascending("ts"))
            .limit(1)
            .projection(SAMPLE_FIELDS))
        .map(docs -> docs.isEmpty() ? null : usageSample(docs.get(0)));
  }

  private static final String READING_OF = "reading_of";

  @Override
  public Future<Void> readings(
      long fromMillis, long toMillis, Consumer<UsageRows.Reading> readings) {
    return each(
        collection(Store.collection(EventType.TOKEN_USAGE))
            .find(and(range(fromMillis, toMillis), exists(READING_OF, true)))
            .projection(
                include(
                    "ts",
                    READING_OF,
                    "model",
                    "tenant",
                    "prompt_tokens_total",
                    "generation_tokens_total",
                    "requests_total",
                    "counters_since_s"))
            .batchSize(5000),
        d ->
            readings.accept(
                new UsageRows.Reading(
                    Documents.millis(d, "ts"),
                    Documents.text(d, READING_OF),
                    Documents.text(d, "model"),
                    Documents.text(d, "tenant"),
                    Documents.integer(d, "prompt_tokens_total"),
                    Documents.integer(d, "generation_tokens_total"),
                    Documents.integer(d, "requests_total"),
                    d.isNumber("counters_since_s")
                        ? Documents.number(d, "counters_since_s")
                        : null)));
  }

  @Override
  public Future<Void> latencies(
      long fromMillis, long toMillis, Consumer<UsageRows.Latency> latencies) {
    return each(
        collection(Store.collection(EventType.TOKEN_USAGE))
            .find(
                and(
                    range(fromMillis, toMillis),
                    exists(READING_OF, false),
                    or(exists("latency_ms", true), exists("ttft_ms", true))))
            .projection(fields(include("model", "latency_ms", "ttft_ms"), excludeId()))
            .batchSize(5000),
        d ->
            latencies.accept(
                new UsageRows.Latency(
                    Documents.text(d, "model"),
                    d.isNumber("latency_ms") ? Documents.number(d, "latency_ms") : null,
                    d.isNumber("ttft_ms") ? Documents.number(d, "ttft_ms") : null)));
  }

  @Override
  public Future<Void> reportedCosts(
      long fromMillis, long toMillis, String tenant, Consumer<UsageRows.Reported> sink) {
    Bson filter = and(range(fromMillis, toMillis), exists(READING_OF, false));
    return each(
        collection(Store.collection(EventType.TOKEN_USAGE))
            .find(tenant == null ? filter : and(eq("tenant", tenant), filter))
            .projection(include("tenant", "model", REPORTED_COST))
            .batchSize(5000),
        d ->
            sink.accept(
                new UsageRows.Reported(
                    Documents.text(d, "tenant"),
                    Documents.text(d, "model"),
                    d.isNumber(REPORTED_COST) ? Documents.number(d, REPORTED_COST) : null)));
  }

  private static final String REPORTED_COST = "reported_cost_usd";

  // --- the ledger ---

  @Override
  public Future<Boolean> replaceLedger(
      LedgerGrain grain, long start, long end, long rev, List<LedgerRow> rows, long nowMillis) {
    return ledger.replace(grain, start, end, rev, rows, nowMillis);
  }

  @Override
  public Future<LedgerRead> ledger(LedgerGrain grain, long fromMillis, long toMillis) {
    return ledger.read(grain, fromMillis, toMillis);
  }

  @Override
  public Future<SortedSet<Long>> ledger(
      LedgerGrain grain, long fromMillis, long toMillis, Consumer<LedgerRow> sink) {
    return ledger.read(grain, fromMillis, toMillis, sink);
  }

  @Override
  public Future<Long> ledgerEdge(LedgerGrain grain, boolean last) {
    return ledger.edge(grain, last);
  }

  @Override
  public Future<Long> firstEventMillis() {
    return ledger.firstEvent();
  }

  @Override
  public Future<Void> markDirty(LedgerGrain grain, Collection<Long> starts) {
    return ledger.markDirty(grain, starts);
  }

  @Override
  public Future<SortedMap<Long, Long>> dirty(LedgerGrain grain, int limit) {
    return ledger.dirty(grain, limit);
  }

  @Override
  public Future<Void> clearDirty(LedgerGrain grain, long start, long marks) {
    return ledger.clearDirty(grain, start, marks);
  }

  @Override
  public Future<Boolean> lease(String name, String owner, long nowMillis, long ttlMillis) {
    return ledger.lease(name, owner, nowMillis, ttlMillis);
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
