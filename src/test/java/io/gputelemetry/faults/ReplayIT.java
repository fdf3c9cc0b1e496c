package io.gputelemetry.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.support.AckedProducer;
import io.gputelemetry.support.CleanPass;
import io.gputelemetry.support.FaultEvents;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.StoreAudit;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.support.TestMongo;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Replays: whole topics read again from offset 0, more than once, while new events arrive (the
 * group rewound, and other groups writing into the same store). Every derived document must equal
 * that of one clean pass, and every raw event be stored once.
 */
@Tag("slow")
class ReplayIT {

  @Test
  void replayingWholeTopicsTwiceAmidNewEventsDerivesWhatOneCleanPassDerives() throws Exception {
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(mongo.uri(), sfx);
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      String group = conf.get("processor.group-id");
      List<Application> all = new ArrayList<>();
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        FaultEvents gen = new FaultEvents("y" + sfx, 23, 0.4, false);
        Application main = start(conf, all);
        producer.startStream(gen, 1_500);
        awaitMore(audit, 10_000);

        // Replay 1: the group itself rewound to offset 0 while events keep coming.
        main.close();
        Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
        offsets.partitions(topics).forEach(tp -> zero.put(tp, new OffsetAndMetadata(0)));
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(
                () -> {
                  offsets.admin().alterConsumerGroupOffsets(group, zero).all().get();
                  return true;
                });
        long rewoundAt = gen.generated();
        main = start(conf, all);
        awaitMore(audit, 5_000);

        // Replay 2: a second group from offset 0 into the same store, concurrently with the first.
        Map<String, String> other = new HashMap<>(conf);
        other.put("processor.group-id", group + "-replay");
        long secondAt = gen.generated();
        Application replay = start(other, all);
        awaitMore(audit, 5_000);
        producer.stopStream();
        for (String g : List.of(group, group + "-replay")) {
          await()
              .atMost(Duration.ofMinutes(2))
              .pollInterval(Duration.ofMillis(500))
              .until(() -> offsets.caughtUp(g, topics));
        }
        long skipped = all.stream().mapToLong(a -> a.processor().stats().duplicates.get()).sum();
        main.close();
        replay.close();

        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        Map<String, JsonObject> gpus = audit.gpus();
        List<String> gpuDiff = StoreAudit.diff(gpus, clean.gpus());
        System.out.println(
            t.line(
                "replay",
                "group rewound to 0 at event "
                    + rewoundAt
                    + ", second group from 0 at event "
                    + secondAt
                    + "; duplicate keys skipped "
                    + skipped
                    + "; gpus docs "
                    + gpus.size()
                    + ", differing from a clean pass "
                    + gpuDiff.size()));
        assertTrue(skipped >= 2L * 10_000, "the replays re-read the topics: " + skipped);
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        assertEquals(t.produced(), t.stored());
        assertEquals(producer.acked(), clean.storedIds());
        assertEquals(16, gpus.size(), "one inventory document per GPU");
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      } finally {
        all.forEach(Application::close);
      }
    }
  }

  /**
   * Two samples of one GPU in one batch, the newer at 10:00:01.500Z and the older exactly on the
   * second, 10:00:01Z. The inventory's last state and last_seen must be the newer one.
   */
  @Test
  void inventoryTakesTheNewestSampleWhenAnOlderOneFallsOnAWholeSecond() throws Exception {
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(mongo.uri(), sfx);
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      Instant second = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(120);
      Instant newer = second.plusMillis(500);
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        // Both before the processor starts, same key: one partition, one batch.
        producer.sendRaw(topics.get(0), "GPU-ws", sample("ws-newer", newer, 90));
        producer.sendRaw(topics.get(0), "GPU-ws", sample("ws-older", second, 10));
      }
      Application processor = new Application(TestConfigs.of(conf)).start();
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(300))
            .until(() -> offsets.caughtUp(conf.get("processor.group-id"), topics));
      } finally {
        processor.close();
      }
      JsonObject gpu = audit.gpus().get("GPU-ws");
      System.out.println(
          "FAULT whole-second-timestamp: gpus GPU-ws last.event_id "
              + gpu.getJsonObject("last").getString("event_id")
              + ", last_seen "
              + gpu.getValue("last_seen")
              + " (newest sample ws-newer at "
              + newer
              + ")");
      assertEquals(
          "ws-newer",
          gpu.getJsonObject("last").getString("event_id"),
          "last state is the newest sample: " + gpu);
      assertEquals(newer, date(gpu.getValue("last_seen")), "last_seen is the newest sample's time");
      assertEquals(second, date(gpu.getValue("first_seen")));
    }
  }

  private static Instant date(Object v) {
    return v instanceof JsonObject j
        ? Instant.parse(j.getString("$date"))
        : Instant.parse(v.toString());
  }

  private static byte[] sample(String id, Instant ts, double util) {
    return new JsonObject()
        .put("event_id", id)
        .put("ts", ts.toString())
        .put("node", "node-ws")
        .put("gpu_uuid", "GPU-ws")
        .put("gpu_model", "H100-SXM-80GB")
        .put("utilization_pct", util)
        .put("memory_used_mib", 1000)
        .put("memory_total_mib", 81559)
        .put("power_w", 300.5)
        .put("temperature_c", 60)
        .encode()
        .getBytes(StandardCharsets.UTF_8);
  }

  private static Application start(Map<String, String> conf, List<Application> all)
      throws Exception {
    Application app = new Application(TestConfigs.of(conf)).start();
    all.add(app);
    return app;
  }

  private static void awaitMore(StoreAudit audit, long n) {
    long from = audit.rawCount();
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> audit.rawCount() >= from + n);
  }
}
