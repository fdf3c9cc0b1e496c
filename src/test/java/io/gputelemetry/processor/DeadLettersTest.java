package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.support.CapturedLogs;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
  void theLoggedErrorIsCutAtFiveHundredCharacters() {
    String fits = "y".repeat(499) + "z";
    String cut = "y".repeat(500) + "z";
    try (CapturedLogs logs = new CapturedLogs(DeadLetters.class)) {
      DeadLetters.logIncidents(
          List.of(
              new Batch.DeadLetter(record(0, 1), "parse_error", fits, null),
              new Batch.DeadLetter(record(1, 1), "parse_error", cut, null)));
      List<CapturedLogs.Line> errors = logs.at(Level.ERROR);
      assertTrue(errors.get(0).message().endsWith(": " + fits), errors.get(0).message());
      assertTrue(errors.get(1).message().endsWith(": " + "y".repeat(500)), errors.get(1).message());
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
    assertEquals("x".repeat(4000), headers.get("dlq.error"), "the error is bounded");
    String fits = "y".repeat(3999) + "z";
    assertEquals(
        fits,
        header(dl.record(new Batch.DeadLetter(r, "parse_error", fits, null)), "dlq.error"),
        "an error of exactly 4000 characters is kept whole");
    assertEquals("token.usage.v1", headers.get("dlq.source.topic"));
    assertEquals("2", headers.get("dlq.source.partition"));
    assertEquals("41", headers.get("dlq.source.offset"));
    assertEquals("1700000000000", headers.get("dlq.source.timestamp"));
  }

  private static String header(KafkaProducerRecord<String, byte[]> r, String key) {
    for (KafkaHeader h : r.headers()) {
      if (h.key().equals(key)) {
        return h.value().toString(StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static double dlqRecords(Telemetry telemetry, String reason) {
    return Scrapes.settled(
        telemetry, "telemetry_events_dlq_total", "topic", "token.usage.v1", "reason", reason);
  }

  @Test
  void aRetryResendsOnlyWhatTheDlqHasNotAcknowledgedAndEachRecordCountsOnce() throws Exception {
    Vertx vertx = Vertx.vertx();
    Telemetry telemetry = new Telemetry("test", "0");
    ProcessorStats stats = new ProcessorStats();
    PausingRetries retries =
        new PausingRetries(
            vertx,
            new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)),
            telemetry,
            new Health(vertx),
            () -> false,
            Duration.ofSeconds(30),
            "telemetry.dlq.v1",
            System::nanoTime);
    // The DLQ refuses the record from offset 9 the first time.
    List<String> sent = Collections.synchronizedList(new ArrayList<>());
    DeadLetters dl =
        new DeadLetters(
            r -> {
              String offset = header(r, "dlq.source.offset");
              sent.add(offset);
              return offset.equals("9") && Collections.frequency(sent, "9") == 1
                  ? Future.failedFuture("not enough replicas")
                  : Future.succeededFuture();
            },
            "telemetry.dlq.v1",
            retries,
            telemetry,
            stats);
    Batch b = new Batch();
    b.deadLetter(record(0, 7), "parse_error", "invalid JSON");
    b.deadLetter(record(0, 9), "parse_error", "invalid JSON");
    b.deadLetter(record(1, 3), "empty_record", "record has no value");
    try (CapturedLogs logs = new CapturedLogs(DeadLetters.class)) {
      dl.send(b).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(List.of("7", "9", "3", "9"), sent, "the retry sends offset 9 alone");
      assertEquals(List.of(), b.pendingDeadLetters());
      assertEquals(2.0, dlqRecords(telemetry, "parse_error"));
      assertEquals(1.0, dlqRecords(telemetry, "empty_record"));
      assertEquals(3, stats.dlq.get());
      assertEquals(
          2, logs.at(Level.ERROR).size(), "logged once sent, not per attempt: " + logs.lines());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      telemetry.close();
    }
  }

  @Test
  void aBatchWithoutDeadLettersSendsNothing() {
    List<KafkaProducerRecord<String, byte[]>> sent = new ArrayList<>();
    DeadLetters dl =
        new DeadLetters(
            r -> {
              sent.add(r);
              return Future.succeededFuture();
            },
            "telemetry.dlq.v1",
            null,
            null,
            null);
    assertTrue(dl.send(new Batch()).succeeded());
    assertEquals(List.of(), sent);
  }
}
