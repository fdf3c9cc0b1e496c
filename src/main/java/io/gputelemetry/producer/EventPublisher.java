package io.gputelemetry.producer;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes canonical events to their topics (key: GPU for samples, model for token events) and
 * completes once Kafka acknowledged them (acks=all, idempotent producer).
 *
 * <p>A batch of events costs one hop to a worker thread (where Kafka's {@code send} may block on
 * metadata or a full buffer, never on the event loop) and one hop back to the caller's context when
 * the last acknowledgement arrives: not a promise and two context switches per event.
 */
public final class EventPublisher {
  /** The source of events posted to the HTTP ingest routes (the produced counter's label). */
  public static final String HTTP = "http";

  /** The source of events received by the OTLP/HTTP receiver (the produced counter's label). */
  public static final String OTLP = "otlp";

  /** The source of events the fleet simulator makes. */
  public static final String SIMULATOR = "simulator";

  private final Vertx vertx;
  private final KafkaProducer<String, byte[]> producer;
  private final AppConfig.Kafka config;
  private final Telemetry telemetry;
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();

  /**
   * What Kafka answered for a batch: how many were acknowledged, and the first error if any failed.
   */
  public record Outcome(int acknowledged, int failed, Throwable firstError) {}

  public EventPublisher(Vertx vertx, AppConfig.Kafka config, Telemetry telemetry, String clientId) {
    this.vertx = vertx;
    this.config = config;
    this.telemetry = telemetry;
    Map<String, Object> props = new HashMap<>(KafkaClients.producer(config, clientId));
    this.producer = new KafkaProducer<>(props);
  }

  /**
   * Publishes events and completes, on the caller's context, once Kafka has answered for every one
   * of them. Never fails: the outcome says how many were not acknowledged.
   */
  public Future<Outcome> publishAll(List<Event> events, String source) {
    Context ctx = vertx.getOrCreateContext();
    Promise<Outcome> done = Promise.promise();
    int n = events.size();
    if (n == 0) {
      return Future.succeededFuture(new Outcome(0, 0, null));
    }
    inFlight.addAndGet(n);
    Throwable[] errors = new Throwable[n];
    AtomicInteger remaining = new AtomicInteger(n);
    Runnable answered =
        () -> {
          if (remaining.decrementAndGet() == 0) {
            ctx.runOnContext(v -> done.tryComplete(settle(events, errors, source)));
          }
        };
    ctx.executeBlocking(
            () -> {
              for (int i = 0; i < n; i++) {
                Event e = events.get(i);
                int index = i;
                try {
                  // The callback reports the outcome; the returned future adds nothing.
                  var unused =
                      producer.send(
                          new ProducerRecord<>(
                              KafkaClients.topic(config.topics(), e.type()),
                              e.kafkaKey(),
                              e.json()),
                          (md, err) -> {
                            errors[index] = err;
                            answered.run();
                          });
                } catch (RuntimeException err) {
                  errors[index] = err;
                  answered.run();
                }
              }
              return null;
            },
            false)
        .onFailure(
            err -> {
              // The worker refused the task (Vert.x closing): nothing was sent.
              for (int i = 0; i < n; i++) {
                if (errors[i] == null) {
                  errors[i] = err;
                }
              }
              inFlight.addAndGet(-n);
              done.tryComplete(new Outcome(0, n, err));
            });
    return done.future();
  }

  private Outcome settle(List<Event> events, Throwable[] errors, String source) {
    inFlight.addAndGet(-events.size());
    int failed = 0;
    Throwable first = null;
    Map<String, Integer> producedByTopic = new HashMap<>(2);
    for (int i = 0; i < errors.length; i++) {
      String topic = KafkaClients.topic(config.topics(), events.get(i).type());
      if (errors[i] != null) {
        failed++;
        first = first == null ? errors[i] : first;
        telemetry.produceFailed(topic);
        continue;
      }
      producedByTopic.merge(topic, 1, Integer::sum);
    }
    producedByTopic.forEach((topic, count) -> telemetry.eventsProduced(topic, source, count));
    acked.addAndGet(events.size() - failed);
    return new Outcome(events.size() - failed, failed, first);
  }

  public long inFlight() {
    return inFlight.get();
  }

  public long acked() {
    return acked.get();
  }

  /** Sends whatever is buffered now (on a worker: flush blocks until the broker answered). */
  public Future<Void> flush() {
    return vertx
        .getOrCreateContext()
        .executeBlocking(
            () -> {
              producer.flush();
              return null;
            },
            false);
  }

  public Future<Void> close() {
    return vertx
        .getOrCreateContext()
        .executeBlocking(
            () -> {
              producer.close(Duration.ofMillis(config.requestTimeout().toMillis()));
              return null;
            },
            false);
  }
}
