package io.gputelemetry.processor;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.health.Health;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.kafka.TopicManager;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.retry.Retry;
import io.gputelemetry.store.InventoryUpdate;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.WriteOutcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The processor role: wires the {@link ConsumeLoop} to Kafka and the store. Persisting a batch is:
 * store its events (unordered, idempotent, retried while the store is down), account for them, fold
 * its samples into the inventory, send what cannot be stored to the DLQ; the loop then commits the
 * batch's offsets.
 */
public class ProcessorVerticle extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(ProcessorVerticle.class);
  private static final long LAG_INTERVAL_MS = 5000;

  private final Settings config;
  private final Telemetry telemetry;
  private final Health health;
  private final Store store;
  private final LivePricing pricing;
  private final ProcessorStats stats = new ProcessorStats();
  private final Map<EventType, String> topics = new EnumMap<>(EventType.class);

  private KafkaConsumer<String, byte[]> consumer;
  private KafkaProducer<String, byte[]> dlqProducer;
  private KafkaAdminClient admin;
  private ConsumeLoop loop;
  private PausingRetries writes;
  private BatchAccounting accounting;
  private DeadLetters deadLetters;
  private long lagTimer = -1;
  private long refreshTimer = -1;

  /**
   * What the processor is configured by: its own section, Kafka's, accounting's, the event bounds,
   * and how long the gauges of a GPU no longer heard from stay.
   */
  public record Settings(
      AppConfig.Kafka kafka,
      AppConfig.Processor processor,
      AppConfig.Accounting accounting,
      AppConfig.Events events,
      Duration gpuGaugeTtl) {}

  private final Set<String> pricedGpuModels;

  public ProcessorVerticle(
      Settings config, Telemetry telemetry, Health health, PriceBook prices, Store store) {
    this.config = config;
    this.telemetry = telemetry;
    this.health = health;
    this.store = store;
    this.pricedGpuModels = prices.gpuModels();
    AppConfig.Accounting a = config.accounting();
    this.pricing =
        new LivePricing(
            prices,
            new LiveRates(a.window().toMillis(), a.allowedLateness().toMillis(), prices),
            telemetry);
    topics.put(EventType.GPU_SAMPLE, config.kafka().topics().gpuMetrics());
    topics.put(EventType.TOKEN_USAGE, config.kafka().topics().tokenUsage());
  }

  /**
   * Re-opens the ledger's intervals that the stored events count in once the writer may have
   * written them ({@link LedgerMarks}); without it, no marks.
   */
  public ProcessorVerticle markingLedger(
      long lateness, long sampleGapMillis, long readingGapMillis) {
    this.ledgerMarks =
        new LedgerMarks(
            config.accounting().allocationInterval().toMillis(),
            lateness,
            sampleGapMillis,
            readingGapMillis);
    return this;
  }

  private LedgerMarks ledgerMarks;

  public ProcessorStats stats() {
    return stats;
  }

  @Override
  public Future<?> start() {
    AppConfig.Kafka k = config.kafka();
    AppConfig.Processor p = config.processor();
    Backoff backoff = new Backoff(p.retry().initial(), p.retry().max());
    String id = "processor-" + ProcessHandle.current().pid();
    admin = KafkaAdminClient.create(vertx, KafkaClients.admin(k, id + "-admin"));
    dlqProducer = KafkaProducer.create(vertx, KafkaClients.producer(k, id + "-dlq"));
    consumer = KafkaConsumer.create(vertx, KafkaClients.consumer(k, p, id));
    consumer.exceptionHandler(e -> LOG.warn("kafka consumer: {}", e.getMessage()));
    consumer.partitionsAssignedHandler(tps -> LOG.info("assigned {}", names(tps)));
    consumer.partitionsRevokedHandler(tps -> LOG.info("revoked {}", names(tps)));

    BatchPreparer preparer =
        new BatchPreparer(
            topics.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey)),
            new EventParser(config.events().maxFutureSkew(), config.events().maxAge()),
            pricing,
            p.maxRecordBytes(),
            telemetry);
    KafkaSource source = new KafkaSource(consumer, p.pollTimeout());
    loop =
        new ConsumeLoop(
            (delay, action) -> vertx.setTimer(delay, t -> action.run()),
            source,
            records -> {
              stats.consumed.addAndGet(records.size());
              stats.batches.incrementAndGet();
              return preparer.prepare(records);
            },
            this::persist,
            backoff,
            telemetry);
    writes =
        new PausingRetries(
            vertx,
            backoff,
            telemetry,
            health,
            loop::stopping,
            p.errorAfter(),
            k.topics().dlq(),
            System::nanoTime);
    accounting =
        new BatchAccounting(
            topics, pricing, telemetry, stats, config.accounting().allowedLateness().toMillis());
    deadLetters = new DeadLetters(dlqProducer::send, k.topics().dlq(), writes, telemetry, stats);

    telemetry.initProcessor(
        List.copyOf(topics.values()),
        List.of(
            Store.collection(EventType.GPU_SAMPLE),
            Store.collection(EventType.TOKEN_USAGE),
            Store.INVENTORY,
            DeadLetters.TARGET),
        DeadLetters.REASONS,
        pricedGpuModels);
    health.register("mongo", store::ping);
    health.register("kafka", () -> admin.describeCluster());
    health.condition("store-schema", "indexes not ensured yet");
    LagMonitor lag = new LagMonitor(source, telemetry, stats);
    lagTimer = vertx.setPeriodic(LAG_INTERVAL_MS, t -> lag.update());
    refreshTimer =
        vertx.setPeriodic(config.accounting().refreshInterval().toMillis(), t -> refresh());

    startUp("indexes", backoff, store::ensureSchema)
        .onSuccess(v -> health.condition("store-schema", null))
        .compose(v -> startUp("topics", backoff, () -> TopicManager.ensureTopics(admin, k)))
        .compose(v -> consumer.subscribe(Set.copyOf(topics.values())))
        .onSuccess(
            v -> {
              LOG.info(
                  "processor consuming {} and {} as group {}",
                  k.topics().gpuMetrics(),
                  k.topics().tokenUsage(),
                  p.groupId());
              loop.start();
            })
        .onFailure(e -> loop.abandon());
    return Future.succeededFuture();
  }

  /** Retries a start-up step until it succeeds or the verticle stops. */
  private <T> Future<T> startUp(String what, Backoff backoff, Supplier<Future<T>> step) {
    return Retry.until(
        vertx,
        backoff,
        step,
        (attempt, e, delay) ->
            LOG.warn("{} not ready ({}); retrying in {} ms", what, e.getMessage(), delay),
        loop::stopping);
  }

  /** Stores, accounts, folds into the inventory and dead-letters one batch. */
  private Future<Void> persist(Batch b) {
    Future<WriteOutcome> samples = insert(b, EventType.GPU_SAMPLE);
    Future<WriteOutcome> tokens = insert(b, EventType.TOKEN_USAGE);
    return Future.all(samples, tokens)
        .compose(v -> markLedger(b))
        .compose(
            written -> {
              long now = System.currentTimeMillis();
              List<Event> held = accounting.samples(b, samples.result(), now);
              accounting.tokens(b, tokens.result(), now);
              List<InventoryUpdate> inventory = InventoryUpdate.of(held);
              // The per-GPU gauges show the newest sample: set once per GPU and batch.
              inventory.forEach(u -> telemetry.gpuSample(u.newest()));
              return writes.run(
                  Store.INVENTORY, inventory.size(), () -> store.foldInventory(inventory));
            })
        .compose(v -> deadLetters.send(b));
  }

  /**
   * Re-opens the ledger intervals the batch counts in, after its events are stored and before its
   * offsets are committed (see {@link LedgerMarks}).
   */
  private Future<Void> markLedger(Batch b) {
    if (ledgerMarks == null) {
      return Future.succeededFuture();
    }
    Set<Long> starts = ledgerMarks.intervals(b, System.currentTimeMillis());
    if (starts.isEmpty()) {
      return Future.succeededFuture();
    }
    return writes.run(
        LedgerGrain.MINUTE.collection(),
        starts.size(),
        () -> store.markDirty(LedgerGrain.MINUTE, starts));
  }

  private Future<WriteOutcome> insert(Batch b, EventType type) {
    List<Batch.Item> items = b.items(type);
    return writes.run(
        Store.collection(type),
        items.size(),
        () -> store.insert(type, items.stream().map(Batch.Item::stored).toList()));
  }

  /**
   * The live rates' view of the fleet (recomputed on a worker: it is work proportional to the fleet
   * and the models), and the per-GPU gauges of GPUs no longer heard from.
   */
  private void refresh() {
    store
        .gpus(null, null)
        .compose(
            gpus ->
                vertx.executeBlocking(
                    () -> {
                      pricing.refresh(gpus, System.currentTimeMillis());
                      return null;
                    },
                    false))
        .onFailure(e -> LOG.debug("inventory refresh failed: {}", e.getMessage()));
    telemetry.sweepGpus(config.gpuGaugeTtl());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(lagTimer);
    vertx.cancelTimer(refreshTimer);
    long timeout = config.processor().shutdownTimeout().toMillis();
    return loop.stop()
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
}
