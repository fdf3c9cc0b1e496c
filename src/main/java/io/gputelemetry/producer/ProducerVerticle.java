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
import java.nio.file.Path;
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

  private final AppConfig.Kafka kafka;
  private final AppConfig.Simulator simulation;
  private final EventParser parser;
  private final Path dataDir;
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

  /**
   * @param parser validates what the simulator emits, as ingest validates what it receives
   * @param dataDir where the simulator's run counter is kept (null: none, ids from the clock)
   */
  public ProducerVerticle(
      AppConfig.Kafka kafka,
      AppConfig.Simulator simulation,
      EventParser parser,
      Path dataDir,
      Telemetry telemetry,
      Health health) {
    this.kafka = kafka;
    this.simulation = simulation;
    this.parser = parser;
    this.dataDir = dataDir;
    this.telemetry = telemetry;
    this.health = health;
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
    AppConfig.Kafka k = kafka;
    String id = "producer-" + ProcessHandle.current().pid();
    admin = KafkaAdminClient.create(vertx, KafkaClients.admin(k, id + "-admin"));
    publisher = new EventPublisher(vertx, k, telemetry, id);
    telemetry.initProducer(
        List.of(k.topics().gpuMetrics(), k.topics().tokenUsage()),
        simulation.enabled()
            ? List.of(EventPublisher.HTTP, EventPublisher.SIMULATOR)
            : List.of(EventPublisher.HTTP));
    health.register("kafka", () -> admin.describeCluster());
    health.condition("topics", "topics not ensured yet");
    if (simulation.enabled()) {
      started = Instant.now();
      simulator =
          new FleetSimulator(simulation, GpuProfiles.load(), parser, RunIds.next(dataDir), started);
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
                    simulation.fleet().nodes(),
                    simulation.load().rate(),
                    simulation.seed(),
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
            () -> TopicManager.ensureTopics(admin, kafka),
            (attempt, e, delay) ->
                LOG.warn("cannot ensure topics ({}); retrying in {} ms", e.getMessage(), delay),
            () -> stopping)
        .onSuccess(topicsReady::tryComplete);
  }

  private void tick() {
    Instant now = Instant.now();
    AppConfig.Simulator s = simulation;
    boolean outOfTime =
        s.bounds().duration() != null && !now.isBefore(started.plus(s.bounds().duration()));
    long remaining =
        s.bounds().count() == null
            ? Long.MAX_VALUE
            : s.bounds().count() - simulator.requestsGenerated();
    if (outOfTime || remaining <= 0) {
      finish();
      return;
    }
    if (publisher.inFlight() > s.load().maxInFlight()) {
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
        .publishAll(events, EventPublisher.SIMULATOR)
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
        .timeout(kafka.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .eventually(() -> publisher.close())
        .eventually(() -> admin.close());
  }
}
