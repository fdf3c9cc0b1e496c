package io.gputelemetry.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.AckedProducer;
import io.gputelemetry.support.CleanPass;
import io.gputelemetry.support.FaultEvents;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.ProcessorJar;
import io.gputelemetry.support.Prom;
import io.gputelemetry.support.StoreAudit;
import io.gputelemetry.support.StoreProcess;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM to the processor jar mid-stream: it finishes the batch in flight, commits it and exits
 * promptly; its successor re-reads nothing that was committed as stored.
 */
@Tag("slow")
class GracefulStopIT {
  private static final long STOP_LIMIT_S = 30;
  private static final int MAX_BATCH = 2_000;

  @Test
  void sigtermStopsPromptlyAndTheRestartReReadsAtMostOneBatch() throws Exception {
    String sfx = TestConfigs.unique();
    try (StoreProcess store = new StoreProcess();
        StoreAudit audit = new StoreAudit(store.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(store.uri(), sfx);
      conf.put("processor.max-batch-records", Integer.toString(MAX_BATCH));
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      String group = conf.get("processor.group-id");
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        FaultEvents gen = new FaultEvents("g" + sfx, 17);
        producer.startStream(gen, 3_000);
        StringBuilder stops = new StringBuilder();
        long maxRestartDuplicates = 0;
        long maxUncommitted = 0;
        ProcessorJar p = ProcessorJar.start(conf);
        try {
          for (int round = 1; round <= 3; round++) {
            ProcessorJar current = p;
            long from = audit.rawCount();
            await()
                .atMost(Duration.ofSeconds(90))
                .until(() -> audit.rawCount() > from + 10_000 || !current.alive());
            long t0 = System.nanoTime();
            int rc = p.terminate(STOP_LIMIT_S);
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(rc == 0 || rc == 143, "exit code after SIGTERM: " + rc + "\n" + p.output());
            long stored = audit.rawCount();
            Map<TopicPartition, Long> committedAtStop = offsets.committed(group);
            long committed = KafkaOffsets.sum(committedAtStop);
            // Everything stored was committed: a successor has nothing of it to re-read.
            long uncommitted = stored - committed;
            maxUncommitted = Math.max(maxUncommitted, uncommitted);
            assertTrue(
                uncommitted >= 0,
                "committed offsets beyond what is stored: " + committed + " > " + stored);
            assertTrue(
                uncommitted <= MAX_BATCH,
                "stored but uncommitted after a graceful stop: " + uncommitted);
            p = ProcessorJar.start(conf);
            ProcessorJar next = p;
            // Once the successor has committed past the stop's commit on every partition, whatever
            // it
            // re-read shows as duplicate keys.
            await()
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(300))
                .until(
                    () -> {
                      Map<TopicPartition, Long> now = offsets.committed(group);
                      return now.keySet().containsAll(committedAtStop.keySet())
                          && committedAtStop.entrySet().stream()
                              .allMatch(e -> now.get(e.getKey()) > e.getValue());
                    });
            long dups = (long) Prom.sum(next.metrics(), "telemetry_events_duplicate_total");
            maxRestartDuplicates = Math.max(maxRestartDuplicates, dups);
            stops.append(
                String.format(
                    "%s[stop %d: exit %d in %d ms, stored-uncommitted %d, re-read by successor %d]",
                    round == 1 ? "" : " ", round, rc, stopMs, uncommitted, dups));
            assertTrue(dups <= MAX_BATCH, "the successor re-read more than one batch: " + dups);
          }
          producer.stopStream();
          await()
              .atMost(Duration.ofMinutes(2))
              .pollInterval(Duration.ofMillis(500))
              .until(() -> offsets.caughtUp(group, topics));
          int rc = p.terminate(STOP_LIMIT_S);
          assertTrue(rc == 0 || rc == 143, "exit code " + rc);
        } finally {
          p.close();
        }
        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        List<String> gpuDiff = StoreAudit.diff(audit.gpus(), clean.gpus());
        System.out.println(
            t.line(
                "graceful-stop", stops + "; gpus differing from a clean pass " + gpuDiff.size()));
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        assertEquals(t.produced(), t.stored());
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      }
    }
  }
}
