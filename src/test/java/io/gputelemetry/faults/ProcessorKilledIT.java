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
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The processor jar killed with SIGKILL at random moments while events flow: after the last restart
 * the store holds exactly the events Kafka acknowledged, once each, and the derived GPU inventory
 * equals that of a clean pass.
 */
@Tag("slow")
class ProcessorKilledIT {
  private static final int KILLS = 5;
  private static final long MIN_EVENTS = 100_000;
  private static final int RATE = 2_500;

  @Test
  void sigkillAtRandomMomentsLosesNothingAndStoresNothingTwice() throws Exception {
    String sfx = TestConfigs.unique();
    long seed = System.nanoTime();
    Random random = new Random(seed);
    try (StoreProcess store = new StoreProcess();
        StoreAudit audit = new StoreAudit(store.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf = FaultSettings.processor(store.uri(), sfx);
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      String group = conf.get("processor.group-id");
      FaultEvents gen = new FaultEvents("k" + sfx, seed);
      StringBuilder killedAt = new StringBuilder();
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        producer.startStream(gen, RATE);
        ProcessorJar p = ProcessorJar.start(conf);
        try {
          int kills = 0;
          while (kills < KILLS || gen.generated() < MIN_EVENTS) {
            ProcessorJar current = p;
            // Mid-stream: this incarnation has written at least one batch.
            await().atMost(Duration.ofSeconds(90)).until(() -> writes(current) > 0);
            Thread.sleep(200 + random.nextInt(2500));
            p.kill();
            kills++;
            killedAt.append(killedAt.length() == 0 ? "" : ",").append(gen.generated());
            p = ProcessorJar.start(conf);
          }
          producer.stopStream();
          await()
              .atMost(Duration.ofMinutes(3))
              .pollInterval(Duration.ofMillis(500))
              .until(() -> offsets.caughtUp(group, topics));
        } finally {
          p.close();
        }
        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        List<String> gpuDiff = StoreAudit.diff(audit.gpus(), clean.gpus());
        System.out.println(
            t.line(
                "processor-killed",
                KILLS
                    + "+ SIGKILLs at events "
                    + killedAt
                    + "; seed "
                    + seed
                    + "; sends not acknowledged "
                    + producer.failed().size()
                    + (producer.failed().isEmpty()
                        ? ""
                        : " (first error " + producer.firstError() + ")")
                    + "; gpus docs "
                    + clean.gpus().size()
                    + ", differing from a clean pass "
                    + gpuDiff.size()));
        assertTrue(t.produced() >= MIN_EVENTS, "events produced: " + t.produced());
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but never acknowledged, e.g. " + t.unexpectedSample());
        assertEquals(t.produced(), t.stored());
        assertEquals(
            producer.acked(), clean.storedIds(), "the clean pass stores the acknowledged set too");
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      }
    }
  }

  private static double writes(ProcessorJar p) {
    if (!p.alive()) {
      throw new IllegalStateException("processor exited:\n" + p.output());
    }
    try {
      String m = p.metrics();
      return Prom.sum(m, "telemetry_events_stored_total")
          + Prom.sum(m, "telemetry_events_duplicate_total");
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
