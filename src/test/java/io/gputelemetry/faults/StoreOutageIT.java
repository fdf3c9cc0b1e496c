package io.gputelemetry.faults;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.Application;
import io.gputelemetry.support.AckedProducer;
import io.gputelemetry.support.CleanPass;
import io.gputelemetry.support.FaultEvents;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.Prom;
import io.gputelemetry.support.StoreAudit;
import io.gputelemetry.support.TcpProxy;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.support.TestMongo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The store unreachable for 20 s mid-stream (connections cut and refused by a proxy): the processor
 * reports not ready, pauses and retries, then resumes by itself with nothing lost or doubled.
 */
@Tag("slow")
class StoreOutageIT {
  private static final Duration OUTAGE = Duration.ofSeconds(20);

  @Test
  void twentySecondStoreOutageIsRiddenOutWithNothingLostOrDoubled() throws Exception {
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        TcpProxy proxy = new TcpProxy(port(mongo.uri()));
        StoreAudit audit = new StoreAudit(mongo.uri());
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers())) {
      Map<String, String> conf =
          FaultSettings.processor("mongodb://127.0.0.1:" + proxy.port(), sfx);
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      List<String> topics = KafkaOffsets.eventTopicsOf(conf);
      Application processor = new Application(TestConfigs.of(conf)).start();
      int port = processor.httpPort();
      FaultEvents gen = new FaultEvents("o" + sfx, 7);
      try (AckedProducer producer =
          new AckedProducer(TestKafka.bootstrapServers(), topics.get(0), topics.get(1))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Prom.ready(port) == 200);
        producer.startStream(gen, 1_500);
        await().atMost(Duration.ofSeconds(60)).until(() -> audit.rawCount() > 5_000);

        proxy.cut();
        long cutAt = System.nanoTime();
        long producedAtCut = gen.generated();
        await().atMost(Duration.ofSeconds(15)).until(() -> Prom.ready(port) == 503);
        long notReadyAfterMs = (System.nanoTime() - cutAt) / 1_000_000;
        String body = Prom.get(port, "/health/ready").body();
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> Prom.sum(Prom.scrape(port), "telemetry_consumer_paused") == 1);
        long storedDuring = audit.rawCount();
        // The rest of the outage: nothing to await but time.
        Duration rest = OUTAGE.minusNanos(System.nanoTime() - cutAt);
        if (!rest.isNegative()) {
          await().pollDelay(rest).atMost(rest.plusSeconds(5)).until(() -> true);
        }
        assertEquals(
            storedDuring, audit.rawCount(), "nothing reaches the store through a cut proxy");
        assertEquals(503, Prom.ready(port), "still not ready at the end of the outage");
        proxy.restore();
        long restoredAt = System.nanoTime();

        await().atMost(Duration.ofSeconds(30)).until(() -> Prom.ready(port) == 200);
        long readyAfterMs = (System.nanoTime() - restoredAt) / 1_000_000;
        await().atMost(Duration.ofSeconds(30)).until(() -> audit.rawCount() > storedDuring);
        await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
        producer.stopStream();
        await()
            .atMost(Duration.ofMinutes(2))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> offsets.caughtUp(conf.get("processor.group-id"), topics));

        String metrics = Prom.scrape(port);
        double infraFailures =
            Prom.sum(metrics, "telemetry_store_write_failures_total", "kind=\"infrastructure\"");
        double retries = Prom.sum(metrics, "telemetry_store_retries_total");
        double paused = Prom.sum(metrics, "telemetry_consumer_paused_seconds_total");
        double dupMetric = Prom.sum(metrics, "telemetry_events_duplicate_total");
        processor.close();

        StoreAudit.Tally t = audit.compare(producer.acked(), producer.failed());
        CleanPass.Result clean = CleanPass.run(conf);
        List<String> gpuDiff = StoreAudit.diff(audit.gpus(), clean.gpus());
        System.out.println(
            t.line(
                "store-outage",
                String.format(
                    "outage %d s from event %d; /health/ready 503 after %d ms, 200 %d ms after"
                        + " restore; write failures (infrastructure) %.0f, retries %.0f, paused"
                        + " %.1f s, duplicate keys skipped %.0f; gpus differing from a clean pass"
                        + " %d",
                    OUTAGE.toSeconds(),
                    producedAtCut,
                    notReadyAfterMs,
                    readyAfterMs,
                    infraFailures,
                    retries,
                    paused,
                    dupMetric,
                    gpuDiff.size())));
        assertTrue(body.contains("DOWN"), body);
        assertEquals(0, t.lost(), "lost, e.g. " + t.lostSample());
        assertEquals(0, t.duplicates(), "stored twice");
        assertEquals(
            0, t.unexpected(), "stored but not acknowledged, e.g. " + t.unexpectedSample());
        assertEquals(t.produced(), t.stored());
        assertTrue(
            infraFailures > 0, "telemetry_store_write_failures_total{kind=infrastructure} > 0");
        assertTrue(retries > 0, "telemetry_store_retries_total > 0");
        assertTrue(paused > 0, "telemetry_consumer_paused_seconds_total > 0");
        assertTrue(
            gpuDiff.isEmpty(), "gpus differ from a clean pass:\n" + String.join("\n", gpuDiff));
      } finally {
        processor.close();
      }
    }
  }

  private static int port(String uri) {
    return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1));
  }
}
