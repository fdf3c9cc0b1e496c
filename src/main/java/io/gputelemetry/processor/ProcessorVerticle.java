package io.gputelemetry.processor;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.event.Violation;
import io.gputelemetry.health.Health;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.kafka.TopicManager;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.InventoryUpdate;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.StoredEvent;
import io.gputelemetry.store.WriteOutcome;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The processor: poll a batch, validate, store it (unordered, idempotent), send what cannot be
 * stored to the DLQ, and only then commit the batch's offsets. One batch is stored while the next
 * is prepared, so memory is bounded by two batches of processor.max-batch-records whatever the
 * backlog; while the store is down the loop retries with backoff and does not poll (consumption
 * paused).
 */
public class ProcessorVerticle extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(ProcessorVerticle.class);

  private final AppConfig config;
  private final Telemetry telemetry;
  private final Health health;
  private final ProcessorStats stats = new ProcessorStats();
  private final Map<String, EventType> topicTypes = new HashMap<>();

  private EventParser parser;
  private final Store store;
  private KafkaConsumer<String, byte[]> consumer;
  private KafkaProducer<String, byte[]> dlqProducer;
  private KafkaAdminClient admin;
  private volatile boolean stopping;
  private final Promise<Void> loopDone = Promise.promise();

  /** The batch being stored (completes when it is committed or dropped). */
  private Future<Void> persisting = Future.succeededFuture();

  /**
   * Incremented when a batch is re-read: batches polled before that are dropped and re-read too.
   */
  private long epoch;

  private boolean backoffBeforePoll;
  private long pausedSince;
  private long lagTimer = -1;

  private final PriceBook prices;
  private final LiveRates live;
  private final Set<String> modelGauges = new HashSet<>();

  /** The estimate of an event whose GPU has no price in force. */
  private static final double UNPRICED = Double.NEGATIVE_INFINITY;

  private long refreshTimer = -1;

  public ProcessorVerticle(
      AppConfig config, Telemetry telemetry, Health health, PriceBook prices, Store store) {
    this.config = config;
    this.store = store;
    this.telemetry = telemetry;
    this.health = health;
    this.prices = prices;
    this.live =
        new LiveRates(
            config.accounting().window().toMillis(),
            config.accounting().allowedLateness().toMillis(),
            prices);
    topicTypes.put(config.kafka().gpuMetricsTopic(), EventType.GPU_SAMPLE);
    topicTypes.put(config.kafka().tokenUsageTopic(), EventType.TOKEN_USAGE);
  }

  public ProcessorStats stats() {
    return stats;
  }

  public LiveRates live() {
    return live;
  }

  @Override
  public Future<?> start() {
    AppConfig.Kafka k = config.kafka();
    parser = new EventParser(config.events().maxFutureSkew(), config.events().maxAge());
    String id = "processor-" + ProcessHandle.current().pid();
    admin = KafkaAdminClient.create(vertx, KafkaClients.admin(k, id + "-admin"));
    dlqProducer = KafkaProducer.create(vertx, KafkaClients.producer(k, id + "-dlq"));
    consumer = KafkaConsumer.create(vertx, KafkaClients.consumer(k, config.processor(), id));
    consumer.exceptionHandler(e -> LOG.warn("kafka consumer: {}", e.getMessage()));
    consumer.partitionsAssignedHandler(tps -> LOG.info("assigned {}", names(tps)));
    consumer.partitionsRevokedHandler(tps -> LOG.info("revoked {}", names(tps)));
    telemetry.initProcessor(
        List.of(k.gpuMetricsTopic(), k.tokenUsageTopic()),
        List.of(
            Store.collection(EventType.GPU_SAMPLE),
            Store.collection(EventType.TOKEN_USAGE),
            Store.INVENTORY,
            "dlq"));
    health.register("mongo", store::ping);
    health.register("kafka", () -> admin.describeCluster());
    health.condition("store-schema", "indexes not ensured yet");
    lagTimer = vertx.setPeriodic(5000, t -> updateLag());
    refreshTimer =
        vertx.setPeriodic(
            config.accounting().refreshInterval().toMillis(),
            t -> {
              refreshInventory();
              // Per-GPU gauges of GPUs this processor no longer hears from (moved partitions,
              // retired GPUs).
              telemetry.sweepGpus(config.api().gpuStaleAfter().multipliedBy(5));
            });
    retry("indexes", store::ensureSchema)
        .onSuccess(v -> health.condition("store-schema", null))
        .compose(v -> retry("topics", () -> TopicManager.ensureTopics(admin, k)))
        .compose(v -> consumer.subscribe(Set.of(k.gpuMetricsTopic(), k.tokenUsageTopic())))
        .onSuccess(
            v -> {
              LOG.info(
                  "processor consuming {} and {} as group {}",
                  k.gpuMetricsTopic(),
                  k.tokenUsageTopic(),
                  config.processor().groupId());
              loop();
            })
        .onFailure(e -> loopDone.tryComplete());
    return Future.succeededFuture();
  }

  /** Retries a start-up step with capped backoff until it succeeds or the verticle stops. */
  private <T> Future<T> retry(String what, Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    attempt(what, op, p, 0);
    return p.future();
  }

  private <T> void attempt(String what, Supplier<Future<T>> op, Promise<T> p, int n) {
    if (stopping) {
      p.tryFail("stopping");
      return;
    }
    op.get()
        .onSuccess(p::tryComplete)
        .onFailure(
            e -> {
              long delay = backoff(n);
              LOG.warn("{} not ready ({}); retrying in {} ms", what, e.getMessage(), delay);
              vertx.setTimer(delay, t -> attempt(what, op, p, n + 1));
            });
  }

  private long backoff(int attempt) {
    long initial = config.processor().initialBackoff().toMillis();
    long max = config.processor().maxBackoff().toMillis();
    long capped = Math.min(max, initial << Math.min(attempt, 20));
    // Full jitter on the upper half: replicas hitting the same outage do not retry in lockstep.
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  /**
   * Polls, prepares and stores batches, two at a time: while one batch is being stored (and its
   * offsets committed), the next is polled, validated and encoded. Batches are stored and committed
   * strictly in order, and the next poll waits for the batch before the one just prepared, so at
   * most two batches are in memory.
   */
  private void loop() {
    if (stopping) {
      persisting.onComplete(ar -> loopDone.tryComplete());
      return;
    }
    long pollEpoch = epoch;
    consumer
        .poll(config.processor().pollTimeout())
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn("poll failed: {}", ar.cause().toString());
                persisting.onComplete(x -> next(true));
                return;
              }
              Future<Void> prior = persisting;
              if (!ar.result().isEmpty()) {
                Batch batch = prepare(ar.result(), pollEpoch);
                persisting = prior.transform(x -> persist(batch));
              }
              prior.onComplete(x -> next(false));
            });
  }

  private void next(boolean pause) {
    if (stopping) {
      persisting.onComplete(ar -> loopDone.tryComplete());
    } else if (pause || backoffBeforePoll) {
      backoffBeforePoll = false;
      vertx.setTimer(backoff(3), t -> loop());
    } else {
      loop();
    }
  }

  /** Classifies a polled batch and encodes what is to be stored. */
  private Batch prepare(KafkaConsumerRecords<String, byte[]> records, long pollEpoch) {
    Batch batch = new Batch(pollEpoch, System.currentTimeMillis());
    Map<String, LiveRates.Rates> rates = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records.records()) {
      batch.track(r);
      EventType type = topicTypes.get(r.topic());
      byte[] value = r.value();
      if (value == null || value.length == 0) {
        batch.deadLetter(r, "empty_record", "record has no value");
      } else if (value.length > config.processor().maxRecordBytes()) {
        batch.deadLetter(
            r,
            "too_large",
            "record of "
                + value.length
                + " bytes exceeds processor.max-record-bytes ("
                + config.processor().maxRecordBytes()
                + ")");
      } else {
        ParseResult pr = parser.parse(type, value, Instant.ofEpochMilli(r.timestamp()), null);
        if (pr.ok()) {
          batch.add(pr.event(), r, rates);
        } else {
          batch.deadLetter(
              r,
              pr.reasonCode(),
              pr.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")));
        }
      }
    }
    stats.consumed.addAndGet(records.size());
    stats.batches.incrementAndGet();
    telemetry.batchSize().record(records.size());
    batch.consumedByTopic.forEach(telemetry::eventsConsumed);
    return batch;
  }

  /**
   * Stores, dead-letters and commits one batch. Fails only when stopping mid-retry (nothing
   * committed). A batch that fails for any other reason (a bug, not an outage) is re-read: every
   * partition goes back to its committed offset before the next poll, and the batch prepared behind
   * it is dropped (its records come again), so nothing is skipped.
   */
  private Future<Void> persist(Batch batch) {
    if (batch.epoch != epoch) {
      return Future.succeededFuture();
    }
    return store(batch)
        .compose(v -> sendDeadLetters(batch))
        .compose(v -> commit(batch))
        .recover(
            err -> {
              if (stopping) {
                return Future.failedFuture(err);
              }
              LOG.error("batch failed unexpectedly, re-reading it", err);
              epoch++;
              backoffBeforePoll = true;
              return rewind();
            });
  }

  private Future<Void> store(Batch b) {
    String gpuCollection = Store.collection(EventType.GPU_SAMPLE);
    String tokenCollection = Store.collection(EventType.TOKEN_USAGE);
    Future<WriteOutcome> gpu =
        write(gpuCollection, b.gpuDocs.size(), () -> store.insert(EventType.GPU_SAMPLE, b.gpuDocs));
    Future<WriteOutcome> tok =
        write(
            tokenCollection,
            b.tokenDocs.size(),
            () -> store.insert(EventType.TOKEN_USAGE, b.tokenDocs));
    return Future.all(gpu, tok)
        .compose(
            cf -> {
              account(b, EventType.GPU_SAMPLE, gpu.result());
              account(b, EventType.TOKEN_USAGE, tok.result());
              List<Event> storedSamples = new ArrayList<>(b.gpuEvents.size());
              for (int i = 0; i < b.gpuDocs.size(); i++) {
                if (!gpu.result().rejected().containsKey(i)) {
                  storedSamples.add(b.gpuEvents.get(i));
                }
              }
              List<InventoryUpdate> inventory = InventoryUpdate.of(storedSamples);
              // The per-GPU gauges show the newest sample: set once per GPU and batch.
              inventory.forEach(u -> gauges(u.newest()));
              return write(Store.INVENTORY, inventory.size(), () -> store.foldInventory(inventory));
            })
        .mapEmpty();
  }

  private void account(Batch b, EventType type, WriteOutcome out) {
    boolean gpuType = type == EventType.GPU_SAMPLE;
    String topic = gpuType ? config.kafka().gpuMetricsTopic() : config.kafka().tokenUsageTopic();
    List<Event> events = gpuType ? b.gpuEvents : b.tokenEvents;
    List<ConsumerRecord<String, byte[]>> recs = gpuType ? b.gpuRecords : b.tokenRecords;
    Timer e2e = telemetry.endToEnd(topic);
    long now = System.currentTimeMillis();
    long lateness = config.accounting().allowedLateness().toMillis();
    long late = 0;
    // Token and request counters per model and tenant, added once per batch.
    Map<String, Map<String, long[]>> tokens = new HashMap<>();
    for (int i = 0; i < events.size(); i++) {
      String reason = out.rejected().get(i);
      if (reason != null) {
        telemetry.writeFailure(Store.collection(type), "data", 1);
        b.deadLetter(recs.get(i), "store_rejected", reason);
        continue;
      }
      if (!out.newlyStored(i)) {
        continue;
      }
      Event e = events.get(i);
      long ts = e.ts().toEpochMilli();
      e2e.record(Math.max(0, now - ts), TimeUnit.MILLISECONDS);
      if ((gpuType ? b.gpuUnpriced : b.tokenUnpriced).get(i)) {
        telemetry.unpriced(
            gpuType
                ? e.text(EventFields.G_GPU_MODEL)
                : String.valueOf(
                    live.gpuModelOf(
                        Objects.requireNonNullElse(e.text(EventFields.T_GPU_UUID), ""))));
      }
      if (gpuType) {
        if (now - ts > lateness) {
          late++;
        }
        continue;
      }
      String model = e.text(EventFields.T_MODEL);
      long in = e.integer(EventFields.T_INPUT, 0);
      long outTok = e.integer(EventFields.T_OUTPUT, 0);
      long[] sum =
          tokens
              .computeIfAbsent(model, m -> new HashMap<>())
              .computeIfAbsent(e.text(EventFields.T_TENANT), t -> new long[3]);
      sum[0] += in;
      sum[1] += outTok;
      sum[2]++;
      stats.tokens.addAndGet(in + outTok);
      if (live.recordTokens(model, ts, in, outTok, now)) {
        late++;
      }
    }
    tokens.forEach(
        (model, byTenant) -> {
          registerModel(model);
          byTenant.forEach(
              (tenant, sum) -> telemetry.tokens(model, tenant, sum[0], sum[1], sum[2]));
        });
    if (late > 0) {
      telemetry.eventsLate(topic, late);
    }
    telemetry.eventsStored(topic, out.inserted());
    telemetry.eventsDuplicate(topic, out.duplicates().size());
    stats.stored.addAndGet(out.inserted());
    stats.duplicates.addAndGet(out.duplicates().size());
  }

  private void gauges(Event e) {
    telemetry.gpuSample(
        e.text(EventFields.G_GPU_UUID),
        e.text(EventFields.G_NODE),
        e.text(EventFields.G_GPU_MODEL),
        e.number(EventFields.G_UTILIZATION, 0),
        e.number(EventFields.G_MEMORY_USED, 0),
        e.number(EventFields.G_MEMORY_TOTAL, 0),
        e.number(EventFields.G_POWER, 0),
        e.number(EventFields.G_TEMPERATURE, 0),
        e.number(EventFields.G_SM_CLOCK, 0),
        e.number(EventFields.G_XID, 0),
        e.number(EventFields.G_ENERGY, 0),
        e.ts().toEpochMilli());
  }

  /**
   * The live estimate each stored event carries: for token events the model's cost per token in
   * force now (NaN when there is none); {@link Double#NEGATIVE_INFINITY} when the event is unpriced
   * (its GPU has no price in force).
   */
  private double estimate(Event e, Map<String, LiveRates.Rates> rates) {
    long ts = e.ts().toEpochMilli();
    if (e.type() == EventType.GPU_SAMPLE) {
      return prices.priceAt(e.text(EventFields.G_GPU_MODEL), ts) == null ? UNPRICED : Double.NaN;
    }
    String gpuUuid = e.text(EventFields.T_GPU_UUID);
    String gpuModel = gpuUuid == null ? null : live.gpuModelOf(gpuUuid);
    boolean unpriced = gpuModel != null && prices.priceAt(gpuModel, ts) == null;
    // One rate per model and batch: the window does not move within a batch.
    LiveRates.Rates r =
        rates.computeIfAbsent(
            e.text(EventFields.T_MODEL), m -> live.rates(m, System.currentTimeMillis()));
    if (r.unpriced() || unpriced) {
      return UNPRICED;
    }
    return r.gpus() > 0 ? r.costPerToken() : Double.NaN;
  }

  private void registerModel(String model) {
    if (modelGauges.add(model)) {
      telemetry.modelRates(
          model,
          () -> {
            LiveRates.Rates r = live.rates(model, System.currentTimeMillis());
            return new Telemetry.ModelRates(
                r.tokensPerSecond(), r.requestsPerSecond(), r.costPerToken(), r.energyPerToken());
          });
    }
  }

  private void refreshInventory() {
    store
        .gpus(null, null)
        .onSuccess(
            gpus -> {
              List<LiveRates.GpuState> states = new ArrayList<>(gpus.size());
              for (GpuRecord g : gpus) {
                Number energy = g.lastNumber("energy_mj");
                Number power = g.lastNumber("power_w");
                states.add(
                    new LiveRates.GpuState(
                        g.gpuUuid(),
                        g.model(),
                        g.gpuModel(),
                        g.seen().firstMillis(),
                        g.seen().lastMillis(),
                        energy == null ? null : energy.longValue(),
                        power == null ? 0 : power.doubleValue()));
              }
              live.updateInventory(states, System.currentTimeMillis());
              live.models().forEach(this::registerModel);
            })
        .onFailure(e -> LOG.debug("inventory refresh failed: {}", e.getMessage()));
  }

  /**
   * Runs a store write until it succeeds. Infrastructure failures (timeouts, lost connections, no
   * primary) are retried with capped exponential backoff and jitter; meanwhile the loop does not
   * poll, so consumption is paused, and readiness says why.
   */
  private <T> Future<T> write(String collection, int documents, Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    writeAttempt(collection, documents, op, p, 0);
    return p.future();
  }

  private <T> void writeAttempt(
      String collection, int documents, Supplier<Future<T>> op, Promise<T> p, int n) {
    Timer.Sample sample = Timer.start();
    op.get()
        .onSuccess(
            r -> {
              sample.stop(telemetry.batchWrite(collection));
              if (pausedSince != 0) {
                double paused = (System.nanoTime() - pausedSince) / 1e9;
                telemetry.addPausedSeconds(paused);
                telemetry.setPaused(false);
                pausedSince = 0;
                health.condition("store-writes", null);
                LOG.info(
                    "store writes succeed again after {} s; consumption resumed",
                    String.format("%.1f", paused));
              }
              p.complete(r);
            })
        .onFailure(
            err -> {
              telemetry.writeFailure(collection, "infrastructure", documents);
              if (pausedSince == 0) {
                pausedSince = System.nanoTime();
                telemetry.setPaused(true);
              }
              health.condition(
                  "store-writes", "writes to " + collection + " failing: " + err.getMessage());
              if (stopping) {
                p.fail(err);
                return;
              }
              long delay = backoff(n);
              telemetry.storeRetry();
              LOG.warn(
                  "write to {} failed ({}); consumption paused, retry {} in {} ms",
                  collection,
                  err.getMessage(),
                  n + 1,
                  delay);
              vertx.setTimer(delay, t -> writeAttempt(collection, documents, op, p, n + 1));
            });
  }

  private Future<Void> sendDeadLetters(Batch b) {
    if (b.deadLetters.isEmpty()) {
      return Future.succeededFuture();
    }
    return write(
        "dlq",
        b.deadLetters.size(),
        () -> {
          List<Future<?>> sends = new ArrayList<>();
          for (DeadLetter d : b.pendingDeadLetters()) {
            ConsumerRecord<String, byte[]> r = d.record;
            KafkaProducerRecord<String, byte[]> out =
                KafkaProducerRecord.create(config.kafka().dlqTopic(), r.key(), r.value());
            out.addHeader("dlq.reason", d.reason);
            out.addHeader(
                "dlq.error", d.detail.length() > 4000 ? d.detail.substring(0, 4000) : d.detail);
            out.addHeader("dlq.source.topic", r.topic());
            out.addHeader("dlq.source.partition", Integer.toString(r.partition()));
            out.addHeader("dlq.source.offset", Long.toString(r.offset()));
            out.addHeader("dlq.source.timestamp", Long.toString(r.timestamp()));
            sends.add(
                dlqProducer
                    .send(out)
                    .onSuccess(
                        md -> {
                          d.sent = true;
                          telemetry.eventsDlq(r.topic(), d.reason, 1);
                          stats.dlq.incrementAndGet();
                          LOG.debug(
                              "dead-lettered {}-{}@{}: {}",
                              r.topic(),
                              r.partition(),
                              r.offset(),
                              d.reason);
                        }));
          }
          return Future.all(sends).mapEmpty();
        });
  }

  private Future<Void> commit(Batch b) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    b.nextOffsets.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next, "")));
    return consumer
        .commit(offsets)
        .onSuccess(v -> telemetry.committed())
        .recover(
            err -> {
              // The group moved on (rebalance): the new owner re-reads these records; storing is
              // idempotent.
              telemetry.commitFailed();
              LOG.warn(
                  "offset commit failed ({}); the records will be re-read and stored once",
                  err.getMessage());
              return Future.succeededFuture();
            })
        .mapEmpty();
  }

  /**
   * Seeks every assigned partition back to its committed offset (the beginning where none is
   * committed yet).
   */
  private Future<Void> rewind() {
    return consumer
        .assignment()
        .compose(
            tps -> {
              List<Future<?>> seeks = new ArrayList<>();
              for (TopicPartition tp : tps) {
                seeks.add(
                    consumer
                        .committed(tp)
                        .compose(
                            c ->
                                c != null
                                    ? consumer.seek(tp, c.getOffset())
                                    : consumer.seekToBeginning(tp)));
              }
              return Future.join(seeks);
            })
        .<Void>mapEmpty()
        .recover(e -> Future.succeededFuture());
  }

  private void updateLag() {
    if (consumer == null) {
      return;
    }
    consumer
        .assignment()
        .compose(
            tps -> {
              if (tps.isEmpty()) {
                telemetry.retainLag(Set.of());
                stats.lag.set(0);
                return Future.succeededFuture();
              }
              return consumer
                  .endOffsets(tps)
                  .compose(
                      ends -> {
                        List<Future<?>> fs = new ArrayList<>();
                        Map<TopicPartition, Long> lag = new HashMap<>();
                        for (TopicPartition tp : tps) {
                          fs.add(
                              consumer
                                  .position(tp)
                                  .onSuccess(
                                      pos ->
                                          lag.put(
                                              tp, Math.max(0, ends.getOrDefault(tp, pos) - pos))));
                        }
                        return Future.join(fs)
                            .onComplete(
                                ar -> {
                                  Set<String> keys = new HashSet<>();
                                  lag.forEach(
                                      (tp, l) -> {
                                        telemetry.lag(tp.getTopic(), tp.getPartition(), l);
                                        keys.add(tp.getTopic() + "/" + tp.getPartition());
                                      });
                                  telemetry.retainLag(keys);
                                  stats.lag.set(
                                      lag.values().stream().mapToLong(Long::longValue).sum());
                                });
                      });
            })
        .onFailure(e -> LOG.debug("lag update failed: {}", e.getMessage()));
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (lagTimer >= 0) {
      vertx.cancelTimer(lagTimer);
    }
    if (refreshTimer >= 0) {
      vertx.cancelTimer(refreshTimer);
    }
    long timeout = config.processor().shutdownTimeout().toMillis();
    return loopDone
        .future()
        .timeout(timeout, TimeUnit.MILLISECONDS)
        .recover(
            e -> {
              LOG.warn(
                  "batch in flight did not finish within {} ms; its offsets stay uncommitted",
                  timeout);
              return Future.succeededFuture();
            })
        .eventually(() -> consumer.close())
        .eventually(() -> dlqProducer.close())
        .eventually(() -> admin.close())
        .onComplete(
            ar ->
                LOG.info(
                    "processor stopped: {} consumed, {} stored, {} duplicates, {} dead-lettered",
                    stats.consumed.get(),
                    stats.stored.get(),
                    stats.duplicates.get(),
                    stats.dlq.get()));
  }

  private static String names(Set<TopicPartition> tps) {
    return tps.stream()
        .map(tp -> tp.getTopic() + "-" + tp.getPartition())
        .sorted()
        .collect(Collectors.joining(","));
  }

  /** A record bound for the DLQ, with why. */
  private static final class DeadLetter {
    final ConsumerRecord<String, byte[]> record;
    final String reason;
    final String detail;
    boolean sent;

    DeadLetter(ConsumerRecord<String, byte[]> record, String reason, String detail) {
      this.record = record;
      this.reason = reason;
      this.detail = detail;
    }
  }

  /** One polled batch, sorted by destination. */
  private final class Batch {
    final long epoch;
    final List<Event> gpuEvents = new ArrayList<>();
    final List<StoredEvent> gpuDocs = new ArrayList<>();
    final BitSet gpuUnpriced = new BitSet();
    final List<ConsumerRecord<String, byte[]>> gpuRecords = new ArrayList<>();
    final List<Event> tokenEvents = new ArrayList<>();
    final List<StoredEvent> tokenDocs = new ArrayList<>();
    final BitSet tokenUnpriced = new BitSet();
    final List<ConsumerRecord<String, byte[]>> tokenRecords = new ArrayList<>();
    final List<DeadLetter> deadLetters = new ArrayList<>();
    final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
    final Map<String, Long> consumedByTopic = new HashMap<>();
    final long receivedAt;
    final Instant received;

    Batch(long epoch, long receivedAt) {
      this.epoch = epoch;
      this.receivedAt = receivedAt;
      this.received = Instant.ofEpochMilli(receivedAt);
    }

    void track(ConsumerRecord<String, byte[]> r) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      nextOffsets.merge(tp, r.offset() + 1, Math::max);
      consumedByTopic.merge(r.topic(), 1L, Long::sum);
    }

    void add(Event e, ConsumerRecord<String, byte[]> r, Map<String, LiveRates.Rates> rates) {
      double estimate = estimate(e, rates);
      boolean unpriced = estimate == UNPRICED;
      StoredEvent doc = new StoredEvent(e, receivedAt, unpriced, estimate);
      if (e.type() == EventType.GPU_SAMPLE) {
        gpuUnpriced.set(gpuEvents.size(), unpriced);
        gpuEvents.add(e);
        gpuDocs.add(doc);
        gpuRecords.add(r);
      } else {
        tokenUnpriced.set(tokenEvents.size(), unpriced);
        tokenEvents.add(e);
        tokenDocs.add(doc);
        tokenRecords.add(r);
      }
    }

    void deadLetter(ConsumerRecord<String, byte[]> r, String reason, String detail) {
      deadLetters.add(new DeadLetter(r, reason, detail));
    }

    List<DeadLetter> pendingDeadLetters() {
      return deadLetters.stream().filter(d -> !d.sent).collect(Collectors.toList());
    }
  }
}
