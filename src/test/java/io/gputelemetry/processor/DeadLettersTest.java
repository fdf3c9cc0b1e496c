package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.CapturedLogs;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  private static ConsumerRecord<String, byte[]> record(int partition, long offset) {
    return new ConsumerRecord<>(
        "token.usage.v1",
        partition,
        offset,
        1_700_000_000_000L,
        TimestampType.CREATE_TIME,
        0,
        0,
        "k",
        "{bad".getBytes(StandardCharsets.UTF_8),
        new RecordHeaders(),
        Optional.empty());
  }

  @Test
  void deadLettersAreLoggedAsOneErrorPerPartitionAndReasonWithWhereTheyCameFrom() {
    try (CapturedLogs logs = new CapturedLogs(DeadLetters.class)) {
      DeadLetters.logIncidents(
          List.of(
              new Batch.DeadLetter(record(0, 7), "parse_error", "invalid JSON", null),
              new Batch.DeadLetter(record(0, 9), "parse_error", "invalid JSON", null),
              new Batch.DeadLetter(record(1, 3), "store_rejected", "too big", "evt-1")));
      List<CapturedLogs.Line> errors = logs.at(Level.ERROR);
      assertEquals(2, errors.size(), logs.lines().toString());
      Map<String, String> a = errors.get(0).fields();
      assertEquals("token.usage.v1", a.get("topic"));
      assertEquals("0", a.get("partition"));
      assertEquals("7", a.get("offset"), "the first record of the group");
      assertEquals("2", a.get("records"));
      assertEquals("parse_error", a.get("reason"));
      assertFalse(a.containsKey("event_id"), "unknown for a record that is not an event");
      Map<String, String> b = errors.get(1).fields();
      assertEquals("1", b.get("partition"));
      assertEquals("evt-1", b.get("event_id"));
      assertTrue(errors.get(1).message().contains("too big"), errors.get(1).message());
    }
  }

  @Test
  void aDeadLetterKeepsTheRecordAndSaysWhyAndWhereItCameFrom() {
    byte[] value = "{bad".getBytes(StandardCharsets.UTF_8);
    ConsumerRecord<String, byte[]> r =
        new ConsumerRecord<>(
            "token.usage.v1",
            2,
            41,
            1_700_000_000_000L,
            TimestampType.CREATE_TIME,
            0,
            0,
            "llama",
            value,
            new RecordHeaders(),
            Optional.empty());
    DeadLetters dl = new DeadLetters(null, "telemetry.dlq.v1", null, null, null);
    KafkaProducerRecord<String, byte[]> out =
        dl.record(new Batch.DeadLetter(r, "parse_error", "x".repeat(5000), null));

    assertEquals("telemetry.dlq.v1", out.topic());
    assertEquals("llama", out.key());
    assertArrayEquals(value, out.value());
    Map<String, String> headers = new LinkedHashMap<>();
    for (KafkaHeader h : out.headers()) {
      headers.put(h.key(), h.value().toString(StandardCharsets.UTF_8));
    }
    assertEquals("parse_error", headers.get("dlq.reason"));
    assertEquals(4000, headers.get("dlq.error").length(), "the error is bounded");
    assertEquals("token.usage.v1", headers.get("dlq.source.topic"));
    assertEquals("2", headers.get("dlq.source.partition"));
    assertEquals("41", headers.get("dlq.source.offset"));
    assertEquals("1700000000000", headers.get("dlq.source.timestamp"));
  }
}
