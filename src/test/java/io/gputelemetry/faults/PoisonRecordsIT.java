package io.gputelemetry.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.support.AckedProducer;
import io.gputelemetry.support.FaultEvents;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.Prom;
import io.gputelemetry.support.StoreAudit;
import io.gputelemetry.support.TcpProxy;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.support.TestMongo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Records that can never be stored go to the DLQ with their provenance while the valid records of
 * the same batch are stored; a store outage during a write is retried and sends nothing to the DLQ.
 */
@Tag("slow")
class PoisonRecordsIT {
  /** The DLQ reason each kind of poison must carry. */
  private static final Map<String, String> EXPECTED_REASON =
      Map.of(
          "too_large", "too_large",
          "not_json", "parse_error",
          "missing_field", "missing_field",
          "wrong_type", "wrong_type",
          "empty", "empty_record",
          "binary", "parse_error");

  private static final int MAX_RECORD_BYTES = 4096;

  @Test
  void poisonRecordsAreDeadLetteredWithProvenanceAndAStoreFailureIsRetriedNotDeadLettered()
      throws Exception {
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        TcpProxy proxy = new TcpProxy(port(mongo.uri()));
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf =
          FaultSettings.processor("mongodb://127.0.0.1:" + proxy.port(), sfx);
      conf.put("processor.max-record-bytes", Integer.toString(MAX_RECORD_BYTES));
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      String tokenTopic = topics.get(1);
      String gpuTopic = topics.get(0);
      String dlqTopic = conf.get("kafka.topic.dlq");
      String group = conf.get("processor.group-id");
      FaultEvents gen = new FaultEvents("p" + sfx, 19);
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), gpuTopic, tokenTopic)) {
        // One partition (one key), valid records around every kind of poison: all in the first
        // batch.
        String key = "poison-key";
        Map<String, byte[]> poison = new java.util.LinkedHashMap<>();
        poison.put("too_large", pad(tokenEvent(gen).value(), MAX_RECORD_BYTES + 1000));
        poison.put("not_json", "{\"event_id\": \"x\", \"ts\": ".getBytes(StandardCharsets.UTF_8));
        poison.put(
            "missing_field",
            ("{\"event_id\":\"p"
                    + sfx
                    + "-missing\",\"ts\":\"2026-01-01T00:00:00.5Z\",\"model\":\"m\","
                    + "\"input_tokens\":1,\"output_tokens\":1}")
                .getBytes(StandardCharsets.UTF_8));
        poison.put(
            "wrong_type",
            ("{\"event_id\":\"p"
                    + sfx
                    + "-type\",\"ts\":\""
                    + java.time.Instant.now().minusSeconds(5)
                    + "\",\"tenant\":\"acme\",\"model\":\"m\",\"input_tokens\":\"many\",\"output_tokens\":1}")
                .getBytes(StandardCharsets.UTF_8));
        poison.put("empty", new byte[0]);
        poison.put("binary", new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        assertEquals(EXPECTED_REASON.keySet(), poison.keySet(), "a reason expected for each kind");
        Map<Long, String> poisonAt = new TreeMap<>();
        List<String> validIds = new ArrayList<>();
        int partition = -1;
        for (Map.Entry<String, byte[]> e : poison.entrySet()) {
          for (int i = 0; i < 5; i++) {
            validIds.add(sendValid(producer, gen, tokenTopic, key));
          }
          RecordMetadata md = producer.sendRaw(tokenTopic, key, e.getValue());
          poisonAt.put(md.offset(), e.getKey());
          partition = md.partition();
        }
        for (int i = 0; i < 5; i++) {
          validIds.add(sendValid(producer, gen, tokenTopic, key));
        }
        String sourcePartition = Integer.toString(partition);

        Application processor = new Application(TestConfigs.of(conf)).start();
        try {
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(300))
              .until(() -> offsets.caughtUp(group, topics));
          assertEquals(
              new java.util.HashSet<>(validIds),
              audit.storedIds(),
              "the valid records of the batch are stored");
          List<ConsumerRecord<String, byte[]>> dlq = readAll(dlqTopic, poison.size());
          assertEquals(poison.size(), dlq.size(), "one DLQ record per poison record");
          Map<String, Integer> reasons = new TreeMap<>();
          for (ConsumerRecord<String, byte[]> r : dlq) {
            assertEquals(tokenTopic, header(r, "dlq.source.topic"));
            assertEquals(sourcePartition, header(r, "dlq.source.partition"));
            long offset = Long.parseLong(header(r, "dlq.source.offset"));
            String kind = poisonAt.get(offset);
            assertNotNull(kind, "the DLQ record points at a poison record's offset: " + offset);
            assertArrayEquals(
                poison.get(kind),
                r.value() == null ? new byte[0] : r.value(),
                "original value kept: " + kind);
            assertEquals(key, r.key());
            String reason = header(r, "dlq.reason");
            assertEquals(EXPECTED_REASON.get(kind), reason, "the reason for " + kind);
            reasons.merge(kind + "=" + reason, 1, Integer::sum);
          }

          // An infrastructure failure during writes: retried, never dead-lettered.
          producer.startStream(gen, 1_500);
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> audit.rawCount() > validIds.size() + 3_000);
          proxy.cut();
          int port = processor.httpPort();
          await()
              .atMost(Duration.ofSeconds(20))
              .until(
                  () ->
                      Prom.sum(
                              Prom.scrape(port),
                              "telemetry_store_write_failures_total",
                              "kind=\"infrastructure\"")
                          > 0);
          await().pollDelay(Duration.ofSeconds(6)).until(() -> true);
          proxy.restore();
          long storedAtRestore = audit.rawCount();
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> audit.rawCount() > storedAtRestore + 3_000);
          producer.stopStream();
          await()
              .atMost(Duration.ofMinutes(2))
              .pollInterval(Duration.ofMillis(500))
              .until(() -> offsets.caughtUp(group, topics));
          String metrics = Prom.scrape(port);
          List<ConsumerRecord<String, byte[]>> dlqAfter = readAll(dlqTopic, poison.size());
          java.util.Set<String> expected = new java.util.HashSet<>(producer.acked());
          expected.addAll(validIds);
          StoreAudit.Tally t = audit.compare(expected, producer.failed());
          System.out.println(
              t.line(
                  "poison-records",
                  "poison "
                      + poison.size()
                      + " -> DLQ "
                      + dlq.size()
                      + " "
                      + reasons
                      + "; after a 6 s store outage during writes DLQ holds "
                      + dlqAfter.size()
                      + ", infrastructure write failures "
                      + (long)
                          Prom.sum(
                              metrics,
                              "telemetry_store_write_failures_total",
                              "kind=\"infrastructure\"")
                      + ", data write failures "
                      + (long)
                          Prom.sum(metrics, "telemetry_store_write_failures_total", "kind=\"data\"")
                      + ", retries "
                      + (long) Prom.sum(metrics, "telemetry_store_retries_total")));
          assertEquals(
              poison.size(), dlqAfter.size(), "nothing from the store outage reached the DLQ");
          assertEquals(poison.size(), (long) Prom.sum(metrics, "telemetry_events_dlq_total"));
          assertEquals(
              0, (long) Prom.sum(metrics, "telemetry_store_write_failures_total", "kind=\"data\""));
          assertTrue(
              Prom.sum(metrics, "telemetry_store_retries_total") > 0,
              "the failed writes were retried");
          assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
          assertEquals(0, t.duplicates(), "stored twice");
          assertEquals(
              0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        } finally {
          processor.close();
        }
      }
    }
  }

  private static String sendValid(AckedProducer producer, FaultEvents gen, String topic, String key)
      throws Exception {
    FaultEvents.Rec r = tokenEvent(gen);
    producer.sendRaw(topic, key, r.value());
    return r.id();
  }

  private static FaultEvents.Rec tokenEvent(FaultEvents gen) {
    FaultEvents.Rec r;
    do {
      r = gen.next();
    } while (r.sample());
    return r;
  }

  /**
   * A valid event padded with whitespace past the record limit: too large, whatever its content.
   */
  private static byte[] pad(byte[] json, int size) {
    String s = new String(json, StandardCharsets.UTF_8);
    return (s.substring(0, s.length() - 1) + " ".repeat(Math.max(0, size - s.length())) + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String header(ConsumerRecord<String, byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /**
   * Every record of the DLQ topic, waiting until at least {@code atLeast} or a few quiet seconds.
   */
  private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int atLeast) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", TestKafka.bootstrapServers());
    c.put("auto.offset.reset", "earliest");
    c.put("enable.auto.commit", "false");
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> tps =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long deadline = System.nanoTime() + 15_000_000_000L;
      long quietUntil = 0;
      while (System.nanoTime() < deadline) {
        int before = out.size();
        consumer.poll(Duration.ofMillis(500)).forEach(out::add);
        if (out.size() >= atLeast) {
          if (quietUntil == 0) {
            quietUntil = System.nanoTime() + 2_000_000_000L;
          }
          if (out.size() == before && System.nanoTime() > quietUntil) {
            break;
          }
        }
      }
    }
    return out;
  }

  private static int port(String uri) {
    return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1));
  }
}
