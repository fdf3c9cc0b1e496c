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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Processors of one group come and go mid-stream (two running, one stopped and another started,
 * twice): the partitions move between them, the exactly-once effect holds, and every partition ends
 * with its committed offset at the log end.
 */
@Tag("slow")
class RebalanceIT {

  @Test
  void processorsLeavingAndJoiningTheGroupMidStreamKeepTheExactlyOnceEffect() throws Exception {
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(mongo.uri(), sfx);
      conf.put("kafka.topic.partitions", "6");
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 6, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      String group = conf.get("processor.group-id");
      List<Application> all = new ArrayList<>();
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        Application a = start(conf, all);
        Application b = start(conf, all);
        FaultEvents gen = new FaultEvents("r" + sfx, 13);
        producer.startStream(gen, 2_000);
        awaitMore(audit, 8_000);
        List<Long> changes = new ArrayList<>();
        changes.add(gen.generated());
        a.close();
        Application c = start(conf, all);
        awaitMore(audit, 8_000);
        changes.add(gen.generated());
        b.close();
        Application d = start(conf, all);
        awaitMore(audit, 8_000);
        producer.stopStream();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> offsets.caughtUp(group, topics));
        Map<TopicPartition, Long> lag = offsets.lag(group, topics);
        long skipped = all.stream().mapToLong(x -> x.processor().stats().duplicates.get()).sum();
        long storedByProcessors =
            all.stream().mapToLong(x -> x.processor().stats().stored.get()).sum();
        c.close();
        d.close();

        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        List<String> gpuDiff = StoreAudit.diff(audit.gpus(), clean.gpus());
        System.out.println(
            t.line(
                "rebalance",
                "4 processors over time (2 at once), one stopped and another started at events "
                    + changes
                    + "; newly stored counted by the processors "
                    + storedByProcessors
                    + ", duplicate keys skipped "
                    + skipped
                    + "; lag per partition "
                    + lag.values()
                    + "; gpus differing from a clean pass "
                    + gpuDiff.size()));
        assertEquals(12, lag.size(), "6 partitions of each event topic");
        lag.forEach((tp, l) -> assertEquals(0L, l, tp + " lag"));
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        assertEquals(t.produced(), t.stored());
        assertEquals(
            t.stored(),
            storedByProcessors,
            "each event counted as newly stored exactly once, across processors");
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      } finally {
        all.forEach(Application::close);
      }
    }
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
