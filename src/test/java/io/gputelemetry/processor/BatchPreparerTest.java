package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.LiveRates;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.store.StoredEvent;
import io.gputelemetry.support.Scrapes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BatchPreparerTest {
  private static final String GPU_TOPIC = "gpu";
  private static final String TOKEN_TOPIC = "tok";
  private final Telemetry telemetry = new Telemetry("test", "0");
  private final PriceBook prices =
      new PriceBook(Map.of("H100-SXM-80GB", List.of(new PriceBook.Price(0, 2.5))), Map.of());
  private final BatchPreparer preparer =
      new BatchPreparer(
          Map.of(GPU_TOPIC, EventType.GPU_SAMPLE, TOKEN_TOPIC, EventType.TOKEN_USAGE),
          new EventParser(Duration.ofMinutes(5), Duration.ofDays(7)),
          new LivePricing(prices, new LiveRates(60_000, 5_000, prices), telemetry),
          2048,
          telemetry);

  @AfterEach
  void close() {
    telemetry.close();
  }

  private static final Instant NOW = Instant.now();

  private static ConsumerRecord<String, byte[]> record(
      String topic, int partition, long offset, Instant timestamp, String value) {
    return new ConsumerRecord<>(
        topic,
        partition,
        offset,
        timestamp.toEpochMilli(),
        TimestampType.CREATE_TIME,
        0,
        0,
        "key",
        value == null ? null : value.getBytes(StandardCharsets.UTF_8),
        new RecordHeaders(),
        Optional.empty());
  }

  private static String tokens(Instant ts) {
    return "{\"event_id\":\"r-1\",\"ts\":\""
        + ts
        + "\",\"tenant\":\"acme\",\"model\":\"llama\",\"input_tokens\":10,\"output_tokens\":5}";
  }

  private static String sample(String gpuModel) {
    return "{\"event_id\":\"s-1\",\"ts\":\""
        + NOW
        + "\",\"node\":\"n1\",\"gpu_uuid\":\"GPU-1\",\"gpu_model\":\""
        + gpuModel
        + "\",\"utilization_pct\":50,\"memory_used_mib\":1,\"memory_total_mib\":2,"
        + "\"power_w\":300,\"temperature_c\":60}";
  }

  @Test
  void validEventsBecomeOneItemEachWithTheirRecordAndEstimate() {
    var r1 = record(TOKEN_TOPIC, 0, 7, NOW, tokens(NOW));
    var r2 = record(GPU_TOPIC, 1, 3, NOW, sample("H100-SXM-80GB"));
    Batch b = preparer.prepare(List.of(r1, r2));
    assertEquals(1, b.items(EventType.TOKEN_USAGE).size());
    Batch.Item item = b.items(EventType.TOKEN_USAGE).get(0);
    assertEquals(r1, item.record());
    StoredEvent stored = item.stored();
    assertEquals("acme/r-1", stored.event().storeId());
    assertFalse(stored.unpriced());
    assertTrue(Double.isNaN(stored.costPerToken()), "no GPU of the model seen: no estimate");
    assertFalse(b.items(EventType.GPU_SAMPLE).get(0).stored().unpriced(), "H100 has a price");
    assertEquals(List.of(), b.deadLetters());
  }

  @Test
  void aSampleOfAGpuModelWithoutAPriceIsMarkedUnpriced() {
    Batch b = preparer.prepare(List.of(record(GPU_TOPIC, 0, 0, NOW, sample("Mystery-GPU"))));
    assertTrue(b.items(EventType.GPU_SAMPLE).get(0).stored().unpriced());
  }

  @Test
  void whatCannotBeStoredGoesToTheDeadLettersWithTheReason() {
    String missingTenant = tokens(NOW).replace("\"tenant\":\"acme\",", "");
    Batch b =
        preparer.prepare(
            List.of(
                record(TOKEN_TOPIC, 0, 0, NOW, "{not json"),
                record(TOKEN_TOPIC, 0, 1, NOW, missingTenant),
                record(TOKEN_TOPIC, 0, 2, NOW, null),
                record(TOKEN_TOPIC, 0, 3, NOW, "{\"x\":\"" + "y".repeat(3000) + "\"}"),
                record("elsewhere", 0, 4, NOW, tokens(NOW)),
                record(TOKEN_TOPIC, 0, 5, NOW, tokens(NOW))));
    List<String> reasons = b.deadLetters().stream().map(Batch.DeadLetter::reason).toList();
    assertEquals(
        List.of("parse_error", "missing_field", "empty_record", "too_large", "unknown_topic"),
        reasons);
    assertTrue(b.deadLetters().get(1).detail().contains("tenant"), b.deadLetters().get(1).detail());
    assertTrue(b.deadLetters().get(3).detail().contains("2048"), "names the limit");
    assertEquals(1, b.items(EventType.TOKEN_USAGE).size(), "the valid record is kept");
    assertEquals(List.of(0, 1, 2, 3, 4), b.pendingDeadLetters());
  }

  @Test
  void theOffsetsToCommitAreTheNextOnePerPartition() {
    Batch b =
        preparer.prepare(
            List.of(
                record(TOKEN_TOPIC, 0, 41, NOW, tokens(NOW)),
                record(TOKEN_TOPIC, 0, 42, NOW, "bad"),
                record(TOKEN_TOPIC, 2, 9, NOW, tokens(NOW))));
    assertEquals(
        Map.of(new TopicPartition(TOKEN_TOPIC, 0), 43L, new TopicPartition(TOKEN_TOPIC, 2), 10L),
        b.nextOffsets());
    assertEquals(Map.of(TOKEN_TOPIC, 3L), b.consumedByTopic());
    assertEquals(
        3.0, Scrapes.settled(telemetry, "telemetry_events_consumed_total", "topic", "tok"));
    assertEquals(1.0, Scrapes.settled(telemetry, "telemetry_consumer_batch_records_count"));
    assertEquals(3.0, Scrapes.settled(telemetry, "telemetry_consumer_batch_records_sum"));
  }

  @Test
  void aRecordOfExactlyTheLimitIsReadAndOneByteMoreIsNot() {
    String atLimit = "x".repeat(2048); // read, and refused for what it is: not JSON
    Batch b =
        preparer.prepare(
            List.of(
                record(TOKEN_TOPIC, 0, 0, NOW, atLimit),
                record(TOKEN_TOPIC, 0, 1, NOW, atLimit + "x")));
    assertEquals(
        List.of("parse_error", "too_large"),
        b.deadLetters().stream().map(Batch.DeadLetter::reason).toList());
  }

  @Test
  void anEventIsJudgedByItsRecordsTimestampSoAReplayAcceptsWhatIngestDid() {
    Instant longAgo = NOW.minus(Duration.ofDays(30));
    Batch b = preparer.prepare(List.of(record(TOKEN_TOPIC, 0, 0, longAgo, tokens(longAgo))));
    assertEquals(1, b.items(EventType.TOKEN_USAGE).size(), () -> b.deadLetters().toString());
  }
}
