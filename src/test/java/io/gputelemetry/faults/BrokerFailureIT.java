package io.gputelemetry.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.support.AckedProducer;
import io.gputelemetry.support.CleanPass;
import io.gputelemetry.support.FaultEvents;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.KraftCluster;
import io.gputelemetry.support.StoreAudit;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestMongo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One broker of a 3-broker KRaft cluster killed mid-stream (SIGKILL) and restarted, topics at
 * replication 3 and min.insync.replicas 2: the producer and the processor carry on, and the store
 * holds exactly the acknowledged events, once each.
 */
@Tag("slow")
class BrokerFailureIT {

  @Test
  void brokerKilledAndRestartedMidStreamLosesNothingAndDoublesNothing() throws Exception {
    String sfx = TestConfigs.unique();
    try (KraftCluster cluster = new KraftCluster(3);
        TestMongo mongo = new TestMongo();
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(cluster.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(mongo.uri(), sfx);
      conf.put("kafka.bootstrap.servers", cluster.bootstrapServers());
      conf.put("kafka.topic.replication-factor", "3");
      conf.put("kafka.topic.min-insync-replicas", "2");
      conf.put("kafka.request-timeout", "10s");
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      // The processor creates the topics with the replication settings given.
      Application processor = new Application(TestConfigs.of(conf)).start();
      try (AckedProducer producer =
          new AckedProducer(cluster.bootstrapServers(), topics.get(0), topics.get(1))) {
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .until(
                () ->
                    offsets
                        .admin()
                        .listTopics()
                        .names()
                        .get()
                        .containsAll(KafkaOffsets.topicsOf(conf)));
        Map<String, TopicDescription> described =
            offsets.admin().describeTopics(topics).allTopicNames().get(20, TimeUnit.SECONDS);
        for (TopicDescription d : described.values()) {
          for (TopicPartitionInfo p : d.partitions()) {
            assertEquals(3, p.replicas().size(), d.name() + " replication factor");
          }
          Config c =
              offsets
                  .admin()
                  .describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, d.name())))
                  .all()
                  .get(20, TimeUnit.SECONDS)
                  .values()
                  .iterator()
                  .next();
          assertEquals(
              "2", c.get("min.insync.replicas").value(), d.name() + " min.insync.replicas");
        }
        // The broker leading the first token partition is the one to go.
        int victim = described.get(topics.get(1)).partitions().get(0).leader().id();

        FaultEvents gen = new FaultEvents("b" + sfx, 11);
        producer.startStream(gen, 2_000);
        await().atMost(Duration.ofSeconds(60)).until(() -> audit.rawCount() > 10_000);
        long killedAt = gen.generated();
        cluster.kill(KraftCluster.index(victim));
        long t0 = System.nanoTime();
        // Leadership moves and the in-sync sets shrink to the two survivors.
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(() -> isrSizes(offsets, topics).stream().allMatch(s -> s == 2));
        long isrShrunkMs = (System.nanoTime() - t0) / 1_000_000;
        long storedWhileDown = audit.rawCount();
        // Both sides carry on with one broker down.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> audit.rawCount() > storedWhileDown + 10_000);
        long restartedAt = gen.generated();
        cluster.start(KraftCluster.index(victim));
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptions()
            .until(() -> isrSizes(offsets, topics).stream().allMatch(s -> s == 3));
        long storedAfter = audit.rawCount();
        await().atMost(Duration.ofSeconds(60)).until(() -> audit.rawCount() > storedAfter + 5_000);
        producer.stopStream();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> offsets.caughtUp(conf.get("processor.group-id"), topics));
        long dupMetric = processor.processor().stats().duplicates.get();
        processor.close();

        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        List<String> gpuDiff = StoreAudit.diff(audit.gpus(), clean.gpus());
        System.out.println(
            t.line(
                "broker-failure",
                "broker "
                    + victim
                    + " of 3 killed at event "
                    + killedAt
                    + " (ISR 2 after "
                    + isrShrunkMs
                    + " ms), restarted at event "
                    + restartedAt
                    + "; sends not acknowledged "
                    + producer.failed().size()
                    + "; duplicate keys skipped by the processor "
                    + dupMetric
                    + "; gpus differing from a clean pass "
                    + gpuDiff.size()));
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        assertTrue(
            producer.failed().isEmpty(),
            "every send acknowledged despite the broker failure: "
                + producer.failed().size()
                + " failed, first "
                + producer.firstError());
        assertEquals(t.produced(), t.stored());
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      } finally {
        processor.close();
      }
    }
  }

  private static List<Integer> isrSizes(KafkaOffsets offsets, List<String> topics)
      throws Exception {
    return offsets
        .admin()
        .describeTopics(topics)
        .allTopicNames()
        .get(10, TimeUnit.SECONDS)
        .values()
        .stream()
        .flatMap(d -> d.partitions().stream())
        .map(p -> p.isr().size())
        .toList();
  }
}
