package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
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
        dl.record(new Batch.DeadLetter(r, "parse_error", "x".repeat(5000)));

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
