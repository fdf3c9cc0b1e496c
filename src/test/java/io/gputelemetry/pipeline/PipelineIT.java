package io.gputelemetry.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.support.MongoQueries;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.support.TestMongo;
import io.gputelemetry.support.TopicContents;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Producer and processor roles against a real Kafka broker and a MongoDB-wire store. */
class PipelineIT {

  @Test
  void storesExactlyTheIdsKafkaAcknowledgedAndAReplayStoresTheSameSet() throws Exception {
    try (TestMongo mongo = new TestMongo();
        MongoQueries store = new MongoQueries(mongo.uri())) {
      String sfx = TestConfigs.unique();
      Map<String, String> producerConf = TestConfigs.base("producer", mongo.uri(), sfx);
      producerConf.put("simulator.count", "3000");
      producerConf.put("simulator.rate", "2000");
      producerConf.put("simulator.nodes", "3");
      producerConf.put("simulator.sample-interval", "200ms");
      Map<String, String> processorConf = TestConfigs.base("processor", mongo.uri(), sfx);
      AppConfig processorConfig = TestConfigs.of(processorConf);

      Application processor = new Application(processorConfig).start();
      Application producer = new Application(TestConfigs.of(producerConf)).start();
      producer
          .producer()
          .simulationDone()
          .toCompletionStage()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      // Everything on the topics was acknowledged by Kafka (a unique topic per test).
      Set<String> acked =
          TopicContents.storeIds(
              TestKafka.bootstrapServers(),
              processorConfig.kafka().topics().gpuMetrics(),
              processorConfig.kafka().topics().tokenUsage());
      assertEquals(
          producer.producer().publisher().acked(), acked.size(), "one record per acknowledgement");
      assertTrue(
          acked.size() > 3000, "the simulator emitted token events and samples: " + acked.size());

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> processor.processor().stats().stored.get() >= acked.size());
      assertEquals(acked, store.storedIds(), "stored ids = acknowledged ids");
      assertEquals(0, processor.processor().stats().dlq.get());
      processor.close();

      // Replay: the whole topics again from offset 0 under the same group.
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
        Map<TopicPartition, OffsetAndMetadata> zero = new HashMap<>();
        for (String t :
            List.of(
                processorConfig.kafka().topics().gpuMetrics(),
                processorConfig.kafka().topics().tokenUsage())) {
          for (int p = 0; p < 3; p++) {
            zero.put(new TopicPartition(t, p), new OffsetAndMetadata(0));
          }
        }
        admin
            .alterConsumerGroupOffsets(processorConfig.processor().groupId(), zero)
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      Application replay = new Application(processorConfig).start();
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> replay.processor().stats().duplicates.get() >= acked.size());
        assertEquals(0, replay.processor().stats().stored.get(), "a replay stores nothing new");
        assertEquals(acked, store.storedIds(), "the replay leaves the same set");
      } finally {
        replay.close();
        producer.close();
      }
    }
  }

  @Test
  void inventoryKeepsTheNewestStateWhenSamplesArriveOutOfOrder() throws Exception {
    try (TestMongo mongo = new TestMongo();
        MongoQueries store = new MongoQueries(mongo.uri())) {
      String sfx = TestConfigs.unique();
      AppConfig config = TestConfigs.of(TestConfigs.base("processor", mongo.uri(), sfx));
      Application processor = new Application(config).start();
      Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(60);
      try (KafkaProducer<String, byte[]> kafka =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", TestKafka.bootstrapServers(), "acks", "all"),
              new StringSerializer(),
              new ByteArraySerializer())) {
        // Newest first, then two older samples, each in its own batch.
        int n = 0;
        for (int[] s : new int[][] {{30, 90}, {10, 20}, {20, 40}}) {
          kafka
              .send(
                  new ProducerRecord<>(
                      config.kafka().topics().gpuMetrics(),
                      "GPU-1",
                      sample(t0.plusSeconds(s[0]), s[1])))
              .get(10, TimeUnit.SECONDS);
          int expected = ++n;
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> processor.processor().stats().stored.get() >= expected);
        }
      }
      List<JsonObject> gpus = store.find("gpus", new JsonObject());
      assertEquals(1, gpus.size());
      JsonObject gpu = gpus.get(0);
      assertEquals(
          t0.plusSeconds(30),
          date(gpu.getJsonObject("last").getValue("ts")),
          "last state is the newest sample");
      assertEquals(90.0, gpu.getJsonObject("last").getDouble("utilization_pct"));
      assertEquals(t0.plusSeconds(10), date(gpu.getValue("first_seen")));
      assertEquals(t0.plusSeconds(30), date(gpu.getValue("last_seen")));
      assertEquals("node-a", gpu.getString("node"));
      processor.close();
    }
  }

  private static Instant date(Object v) {
    return v instanceof JsonObject j
        ? Instant.parse(j.getString("$date"))
        : Instant.parse(v.toString());
  }

  private static byte[] sample(Instant ts, double util) {
    return new JsonObject()
        .put("ts", ts.toString())
        .put("node", "node-a")
        .put("gpu_uuid", "GPU-1")
        .put("gpu_model", "H100-SXM-80GB")
        .put("utilization_pct", util)
        .put("memory_used_mib", 1000)
        .put("memory_total_mib", 81559)
        .put("power_w", 300.5)
        .put("temperature_c", 60)
        .put("energy_mj", 1000 + (long) util)
        .encode()
        .getBytes(StandardCharsets.UTF_8);
  }
}
