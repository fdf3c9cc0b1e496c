package io.gputelemetry.producer;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Publishes canonical events to their topics (key: GPU for samples, model for token events) and
 * completes each future only once Kafka acknowledged it (acks=all, idempotent producer).
 */
public final class EventPublisher {
  private final KafkaProducer<String, byte[]> producer;
  private final AppConfig.Kafka config;
  private final Telemetry telemetry;
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong acked = new AtomicLong();
  private final List<Consumer<Event>> ackListeners = new CopyOnWriteArrayList<>();

  public EventPublisher(Vertx vertx, AppConfig.Kafka config, Telemetry telemetry, String clientId) {
    this.config = config;
    this.telemetry = telemetry;
    this.producer = KafkaProducer.create(vertx, KafkaClients.producer(config, clientId));
  }

  /** Called with every event Kafka acknowledged (tests record the acknowledged ids with it). */
  public void onAck(Consumer<Event> listener) {
    ackListeners.add(listener);
  }

  public Future<RecordMetadata> publish(Event e, String source) {
    String topic = KafkaClients.topic(config, e.type());
    inFlight.incrementAndGet();
    return producer.send(KafkaProducerRecord.create(topic, e.kafkaKey(), EventParser.toBytes(e.body())))
        .onComplete(ar -> {
          inFlight.decrementAndGet();
          if (ar.succeeded()) {
            acked.incrementAndGet();
            telemetry.eventsProduced(topic, source, 1);
            for (Consumer<Event> l : ackListeners) {
              l.accept(e);
            }
          } else {
            telemetry.produceFailed(topic);
          }
        });
  }

  public long inFlight() {
    return inFlight.get();
  }

  public long acked() {
    return acked.get();
  }

  public Future<Void> flush() {
    return producer.flush();
  }

  public Future<Void> close() {
    return producer.close();
  }
}
