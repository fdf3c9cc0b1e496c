package io.gputelemetry.producer;

import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.health.Health;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.kafka.TopicManager;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.retry.Retry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.admin.KafkaAdminClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The producer role: ensures the topics, then runs the fleet simulator (when enabled) into Kafka.
 * Its {@link EventPublisher} is shared with the HTTP ingest routes.
 */
public class ProducerVerticle extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(ProducerVerticle.class);
  private static final long TICK_MS = 100;
  private static final Backoff TOPIC_BACKOFF =
      new Backoff(Duration.ofMillis(250), Duration.ofSeconds(10));

  private final AppConfig config;
  private final Telemetry telemetry;
  private final Health health;
  private final Promise<Void> simulationDone = Promise.promise();
  private final Promise<Void> topicsReady = Promise.promise();
  private KafkaAdminClient admin;
  private EventPublisher publisher;
  private FleetSimulator simulator;
  private long timer = -1;
  private Instant started;
  private Instant last;
  private long lastSkipWarning;
  private volatile boolean stopping;
  private final List<java.util.function.Consumer<Event>> ackListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public ProducerVerticle(AppConfig config, Telemetry telemetry, Health health) {
    this.config = config;
    this.telemetry = telemetry;
    this.health = health;
  }

  /** Registers a listener for every event Kafka acknowledges; call before deployment. */
  public ProducerVerticle onAck(java.util.function.Consumer<Event> listener) {
    ackListeners.add(listener);
    return this;
  }

  public EventPublisher publisher() {
    return publisher;
  }

  /**
   * Completes when a bounded simulation (--duration / --count) has emitted everything and Kafka
   * acknowledged it.
   */
  public Future<Void> simulationDone() {
    return simulationDone.future();
  }

  public Future<Void> topicsReady() {
    return topicsReady.future();
  }

  public FleetSimulator simulator() {
    return simulator;
  }

  @Override
  public Future<?> start() {
    AppConfig.Kafka k = config.kafka();
    String id = "producer-" + ProcessHandle.current().pid();
    admin = KafkaAdminClient.create(vertx, KafkaClients.admin(k, id + "-admin"));
    publisher = new EventPublisher(vertx, k, telemetry, id);
    ackListeners.forEach(publisher::onAck);
    telemetry.initProducer(
        List.of(k.gpuMetricsTopic(), k.tokenUsageTopic()),
        config.ingest().enabled() ? List.of("/v1/gpu-metrics", "/v1/token-usage") : List.of());
    health.register("kafka", () -> admin.describeCluster());
    health.condition("topics", "topics not ensured yet");
    if (config.simulator().enabled()) {
      EventParser parser =
          new EventParser(config.events().maxFutureSkew(), config.events().maxAge());
      started = Instant.now();
      simulator =
          new FleetSimulator(
              config.simulator(),
              GpuProfiles.load(),
              parser,
              RunIds.next(config.dataDir()),
              started);
    } else {
      simulationDone.tryComplete();
    }
    ensureTopics();
    topicsReady
        .future()
        .onSuccess(
            v -> {
              health.condition("topics", null);
              if (simulator != null && !stopping) {
                LOG.info(
                    "simulating {} GPUs on {} nodes at {} requests/s (seed {}, run {})",
                    simulator.gpuCount(),
                    config.simulator().nodes(),
                    config.simulator().rate(),
                    config.simulator().seed(),
                    simulator.runId());
                started = Instant.now();
                last = started;
                timer = vertx.setPeriodic(TICK_MS, t -> tick());
              }
            });
    return Future.succeededFuture();
  }

  private void ensureTopics() {
    Retry.until(
            vertx,
            TOPIC_BACKOFF,
            () -> TopicManager.ensureTopics(admin, config.kafka()),
            (attempt, e, delay) ->
                LOG.warn("cannot ensure topics ({}); retrying in {} ms", e.getMessage(), delay),
            () -> stopping)
        .onSuccess(topicsReady::tryComplete);
  }

  private void tick() {
    Instant now = Instant.now();
    AppConfig.Simulator s = config.simulator();
    boolean outOfTime = s.duration() != null && !now.isBefore(started.plus(s.duration()));
    long remaining = s.count() == null ? Long.MAX_VALUE : s.count() - simulator.requestsGenerated();
    if (outOfTime || remaining <= 0) {
      finish();
      return;
    }
    if (publisher.inFlight() > s.maxInFlight()) {
      // Kafka is behind: wait instead of queueing without bound.
      if (now.toEpochMilli() - lastSkipWarning > 10_000) {
        LOG.warn(
            "{} events await Kafka's acknowledgement; the simulator waits", publisher.inFlight());
        lastSkipWarning = now.toEpochMilli();
      }
      return;
    }
    List<Event> events = simulator.advance(now, Duration.between(last, now), remaining);
    last = now;
    publisher
        .publishAll(events, "simulator")
        .onSuccess(
            o -> {
              if (o.failed() > 0) {
                LOG.warn(
                    "Kafka did not acknowledge {} of {} events: {}",
                    o.failed(),
                    events.size(),
                    o.firstError().getMessage());
              }
            });
  }

  private void finish() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    publisher.flush().onComplete(ar -> awaitAcks());
  }

  private void awaitAcks() {
    if (publisher.inFlight() == 0) {
      LOG.info(
          "simulation finished: {} requests, {} events acknowledged by Kafka",
          simulator.requestsGenerated(),
          publisher.acked());
      simulationDone.tryComplete();
    } else {
      vertx.setTimer(50, t -> awaitAcks());
    }
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return publisher
        .flush()
        .timeout(config.kafka().requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .eventually(() -> publisher.close())
        .eventually(() -> admin.close());
  }
}
