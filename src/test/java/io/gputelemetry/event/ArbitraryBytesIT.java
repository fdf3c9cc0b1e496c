package io.gputelemetry.event;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.web.IngestRoutes;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Whatever bytes arrive, over HTTP or on the topics, no role crashes or stops storing: after each
 * try both roles still answer and the next valid event is stored.
 */
class ArbitraryBytesIT {
  private static RunningPipeline pipeline;
  private static KafkaProducer<String, byte[]> kafka;

  private static synchronized RunningPipeline pipeline() throws Exception {
    if (pipeline == null) {
      pipeline = new RunningPipeline(Map.of());
      kafka =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", TestKafka.bootstrapServers(), "acks", "all"),
              new StringSerializer(),
              new ByteArraySerializer());
    }
    return pipeline;
  }

  @AfterContainer
  static void stop() {
    if (pipeline != null) {
      kafka.close();
      pipeline.close();
    }
  }

  @Provide
  Arbitrary<byte[]> garbage() {
    Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
    Arbitrary<byte[]> jsonish =
        Arbitraries.strings()
            .withChars("{}[]\":,0123456789.eE-+truefalsnu \\\n\u00e9")
            .ofMaxLength(400)
            .map(s -> s.getBytes(StandardCharsets.UTF_8));
    Arbitrary<byte[]> mutated =
        Arbitraries.integers()
            .between(0, 200)
            .flatMap(
                cut ->
                    Arbitraries.strings()
                        .ofMaxLength(20)
                        .map(
                            junk -> {
                              String e = Events.token("acme").encode();
                              int at = Math.min(cut, e.length());
                              return (e.substring(0, at) + junk + e.substring(at))
                                  .getBytes(StandardCharsets.UTF_8);
                            }));
    return Arbitraries.oneOf(bytes, jsonish, mutated);
  }

  @Property(tries = 60)
  void arbitraryBytesNeverStopValidEventsFromBeingStored(
      @ForAll("garbage") byte[] body, @ForAll boolean gpuRoute, @ForAll boolean ndjson)
      throws Exception {
    RunningPipeline p = pipeline();
    HttpResponse<String> r =
        p.post(
            gpuRoute ? IngestRoutes.GPU_ROUTE : IngestRoutes.TOKEN_ROUTE,
            ndjson ? "application/x-ndjson" : "application/json",
            body,
            null);
    assertTrue(
        Set.of(202, 207, 400, 413).contains(r.statusCode()), r.statusCode() + " " + r.body());
    new JsonObject(r.body());
    kafka
        .send(
            new ProducerRecord<>(
                gpuRoute
                    ? p.config().kafka().topics().gpuMetrics()
                    : p.config().kafka().topics().tokenUsage(),
                "garbage",
                body))
        .get(10, TimeUnit.SECONDS);

    JsonObject valid = Events.token("acme");
    assertEquals(
        202,
        p.post(
                IngestRoutes.TOKEN_ROUTE,
                "application/json",
                valid.encode().getBytes(StandardCharsets.UTF_8),
                null)
            .statusCode());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                !p.store()
                    .find(
                        "token_usage",
                        new JsonObject().put("_id", "acme/" + valid.getString("event_id")))
                    .isEmpty());
    assertEquals(200, p.get(p.processorUrl() + "/health/live").statusCode());
  }
}
