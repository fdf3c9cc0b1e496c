package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PausingRetriesTest {
  private final Vertx vertx = Vertx.vertx();
  private final Telemetry telemetry = new Telemetry("test", "0");
  private final Health health = new Health(vertx);
  private final Backoff backoff = new Backoff(Duration.ofMillis(1), Duration.ofMillis(2));

  PausingRetriesTest() {
    telemetry.bindStandardMeters(health::isReady);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    telemetry.close();
  }

  private double count(String name, String... tags) {
    return Scrapes.settled(telemetry, name, tags);
  }

  @Test
  void anOutagePausesConsumptionRaisesNotReadyAndResumesWhenWritesSucceed() throws Exception {
    PausingRetries retries = new PausingRetries(vertx, backoff, telemetry, health, () -> false);
    AtomicInteger calls = new AtomicInteger();
    List<Boolean> readyAtEachAttempt = new ArrayList<>();
    String result =
        retries
            .run(
                "token_usage",
                50,
                () -> {
                  readyAtEachAttempt.add(health.isReady());
                  if (calls.incrementAndGet() <= 2) {
                    return Future.<String>failedFuture("no primary");
                  }
                  return Future.succeededFuture("ok");
                })
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals("ok", result);
    assertEquals(List.of(true, false, false), readyAtEachAttempt, "not ready while failing");
    assertTrue(health.isReady(), "ready again once writes succeed");
    assertEquals(
        100.0,
        count(
            "telemetry_store_write_failures_total",
            "collection",
            "token_usage",
            "kind",
            "infrastructure"),
        "documents per failed attempt");
    assertEquals(2.0, count("telemetry_store_retries_total"));
    assertEquals(0.0, telemetry.registry().get("telemetry.consumer.paused").gauge().value());
    assertTrue(
        telemetry.registry().get("telemetry.consumer.paused.seconds").functionCounter().count()
            > 0);
  }

  @Test
  void aStoppingProcessorGivesUpAndStaysNotReady() {
    PausingRetries retries = new PausingRetries(vertx, backoff, telemetry, health, () -> true);
    Future<Object> f = retries.run("gpus", 1, () -> Future.failedFuture("down"));
    assertTrue(f.failed());
    assertFalse(health.isReady());
    assertEquals(1.0, telemetry.registry().get("telemetry.consumer.paused").gauge().value());
  }
}
