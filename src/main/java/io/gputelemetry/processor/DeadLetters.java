package io.gputelemetry.processor;

import io.gputelemetry.event.Violation;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.logging.log4j.CloseableThreadContext;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Sends a batch's dead letters: the original key and value, with the reason, the error and the
 * source topic, partition, offset and timestamp as headers. A retry resends only what the DLQ has
 * not acknowledged.
 */
final class DeadLetters {
  private static final Logger LOG = LogManager.getLogger(DeadLetters.class);
  static final String TARGET = "dlq";
  static final String UNKNOWN_TOPIC = "unknown_topic";
  static final String EMPTY_RECORD = "empty_record";
  static final String TOO_LARGE = "too_large";
  static final String STORE_REJECTED = "store_rejected";

  /**
   * Every reason a record is dead-lettered: the processor's own, then the parser's violation codes
   * (the DLQ counter exists at zero for each).
   */
  static final List<String> REASONS =
      Stream.concat(
              Stream.of(UNKNOWN_TOPIC, EMPTY_RECORD, TOO_LARGE, STORE_REJECTED),
              Violation.CODES.stream())
          .toList();

  private static final int MAX_ERROR_CHARS = 4000;
  private static final int MAX_LOGGED_CHARS = 500;

  private final Function<KafkaProducerRecord<String, byte[]>, Future<?>> producer;
  private final String topic;
  private final PausingRetries retries;
  private final Telemetry telemetry;
  private final ProcessorStats stats;

  /** {@code producer} sends one record to the DLQ ({@code KafkaProducer::send}). */
  DeadLetters(
      Function<KafkaProducerRecord<String, byte[]>, Future<?>> producer,
      String topic,
      PausingRetries retries,
      Telemetry telemetry,
      ProcessorStats stats) {
    this.producer = producer;
    this.topic = topic;
    this.retries = retries;
    this.telemetry = telemetry;
    this.stats = stats;
  }

  Future<Void> send(Batch b) {
    if (b.deadLetters().isEmpty()) {
      return Future.succeededFuture();
    }
    return retries
        .run(TARGET, b.deadLetters().size(), () -> sendPending(b))
        .onSuccess(v -> logIncidents(b.deadLetters()));
  }

  /**
   * One ERROR line per source partition and reason in a batch (a record that cannot be stored is an
   * incident a person looks at; a flood of them stays a line per partition, reason and batch), with
   * the first record's topic, partition, offset and event id as JSON fields for the Loki rules.
   */
  @SuppressWarnings("try") // the context is the point of the try, not a resource used in it
  static void logIncidents(List<Batch.DeadLetter> letters) {
    Map<String, List<Batch.DeadLetter>> groups = new LinkedHashMap<>();
    for (Batch.DeadLetter d : letters) {
      ConsumerRecord<String, byte[]> r = d.record();
      groups
          .computeIfAbsent(
              r.topic() + '\u0000' + r.partition() + '\u0000' + d.reason(), k -> new ArrayList<>())
          .add(d);
    }
    for (List<Batch.DeadLetter> g : groups.values()) {
      Batch.DeadLetter first = g.get(0);
      ConsumerRecord<String, byte[]> r = first.record();
      Map<String, String> fields = new HashMap<>();
      fields.put("topic", r.topic());
      fields.put("partition", Integer.toString(r.partition()));
      fields.put("offset", Long.toString(r.offset()));
      fields.put("reason", first.reason());
      fields.put("records", Integer.toString(g.size()));
      if (first.eventId() != null) {
        fields.put("event_id", first.eventId());
      }
      String detail = first.detail();
      try (CloseableThreadContext.Instance ctx = CloseableThreadContext.putAll(fields)) {
        LOG.error(
            "{} record(s) of {}-{} sent to the dead-letter topic ({}), the first at offset {}: {}",
            g.size(),
            r.topic(),
            r.partition(),
            first.reason(),
            r.offset(),
            detail.length() > MAX_LOGGED_CHARS ? detail.substring(0, MAX_LOGGED_CHARS) : detail);
      }
    }
  }

  private Future<Void> sendPending(Batch b) {
    List<Future<?>> sends = new ArrayList<>();
    for (int i : b.pendingDeadLetters()) {
      Batch.DeadLetter d = b.deadLetters().get(i);
      ConsumerRecord<String, byte[]> r = d.record();
      sends.add(
          producer
              .apply(record(d))
              .onSuccess(
                  md -> {
                    b.deadLetterSent(i);
                    telemetry.eventsDlq(r.topic(), d.reason(), 1);
                    stats.deadLettered(
                        new ProcessorStats.DeadLetterNote(
                            System.currentTimeMillis(),
                            r.topic(),
                            r.partition(),
                            r.offset(),
                            d.reason()));
                  }));
    }
    return Future.all(sends).mapEmpty();
  }

  KafkaProducerRecord<String, byte[]> record(Batch.DeadLetter d) {
    ConsumerRecord<String, byte[]> r = d.record();
    KafkaProducerRecord<String, byte[]> out = KafkaProducerRecord.create(topic, r.key(), r.value());
    String detail = d.detail();
    out.addHeader("dlq.reason", d.reason());
    out.addHeader(
        "dlq.error",
        detail.length() > MAX_ERROR_CHARS ? detail.substring(0, MAX_ERROR_CHARS) : detail);
    out.addHeader("dlq.source.topic", r.topic());
    out.addHeader("dlq.source.partition", Integer.toString(r.partition()));
    out.addHeader("dlq.source.offset", Long.toString(r.offset()));
    out.addHeader("dlq.source.timestamp", Long.toString(r.timestamp()));
    return out;
  }
}
