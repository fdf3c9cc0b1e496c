package io.gputelemetry.processor;

import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.event.Violation;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.StoredEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns polled records into a {@link Batch}: each record is parsed and validated as its topic's
 * event type, priced with the live estimate, or set aside for the DLQ with the reason.
 */
final class BatchPreparer {
  private final Map<String, EventType> topicTypes;
  private final EventParser parser;
  private final LivePricing pricing;
  private final int maxRecordBytes;
  private final Telemetry telemetry;

  BatchPreparer(
      Map<String, EventType> topicTypes,
      EventParser parser,
      LivePricing pricing,
      int maxRecordBytes,
      Telemetry telemetry) {
    this.topicTypes = Map.copyOf(topicTypes);
    this.parser = parser;
    this.pricing = pricing;
    this.maxRecordBytes = maxRecordBytes;
    this.telemetry = telemetry;
  }

  Batch prepare(List<ConsumerRecord<String, byte[]>> records) {
    long now = System.currentTimeMillis();
    Batch batch = new Batch();
    for (ConsumerRecord<String, byte[]> r : records) {
      batch.track(r);
      byte[] value = r.value();
      EventType type = topicTypes.get(r.topic());
      if (type == null) {
        batch.deadLetter(
            r, DeadLetters.UNKNOWN_TOPIC, "no event type is read from topic " + r.topic());
      } else if (value == null || value.length == 0) {
        batch.deadLetter(r, DeadLetters.EMPTY_RECORD, "record has no value");
      } else if (value.length > maxRecordBytes) {
        batch.deadLetter(
            r,
            DeadLetters.TOO_LARGE,
            "record of "
                + value.length
                + " bytes exceeds processor.max-record-bytes ("
                + maxRecordBytes
                + ")");
      } else {
        // The record's own timestamp bounds the event's time, so a replay accepts what ingest did.
        ParseResult pr = parser.parse(type, value, Instant.ofEpochMilli(r.timestamp()), null);
        if (pr.ok()) {
          LivePricing.Estimate est = pricing.estimate(pr.event());
          batch.add(r, new StoredEvent(pr.event(), now, est.unpriced(), est.costPerToken()));
        } else {
          batch.deadLetter(
              r,
              pr.reasonCode(),
              pr.violations().stream().map(Violation::toString).collect(Collectors.joining("; ")));
        }
      }
    }
    telemetry.batchSize().record(records.size());
    batch.consumedByTopic().forEach(telemetry::eventsConsumed);
    return batch;
  }
}
