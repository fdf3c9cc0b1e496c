package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.support.CapturedLogs;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.logging.log4j.Level;
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

  private PausingRetries retries(BooleanSupplier stopping, Duration errorAfter) {
    return new PausingRetries(
        vertx,
        backoff,
        telemetry,
        health,
        stopping,
        errorAfter,
        "telemetry.dlq.v1",
        System::nanoTime);
  }

  @Test
  void theErrorComesAtErrorAfterAndThenEveryFiveMinutesWithHowLongAndHowManyAttempts()
      throws Exception {
    // The clock (seconds since the first failure) at each attempt; error-after is 30 s. The last
    // attempt succeeds.
    double[] at = {0, 29.999, 30, 329.999, 330, 345.5};
    long start = 7_000_000_000L;
    AtomicInteger calls = new AtomicInteger();
    try (CapturedLogs logs = new CapturedLogs(PausingRetries.class)) {
      PausingRetries retries =
          new PausingRetries(
              vertx,
              backoff,
              telemetry,
              health,
              () -> false,
              Duration.ofSeconds(30),
              "telemetry.dlq.v1",
              () -> start + Math.round(at[Math.max(0, calls.get() - 1)] * 1e9));
      retries
          .run(
              "gpu_metrics",
              3,
              () ->
                  calls.incrementAndGet() < at.length
                      ? Future.<String>failedFuture(new ConnectException("refused"))
                      : Future.succeededFuture("ok"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      assertEquals(
          List.of("writes to gpu_metrics failing (refused); consumption paused, retrying"),
          logs.at(Level.WARN).stream().map(CapturedLogs.Line::message).toList());
      assertEquals(
          List.of(
              "writes to gpu_metrics failing for 30 s (3 attempts: refused); consumption paused",
              "writes to gpu_metrics failing for 330 s (5 attempts: refused); consumption paused"),
          logs.at(Level.ERROR).stream().map(CapturedLogs.Line::message).toList(),
          "at error-after exactly, not before; then once per five minutes");
      assertEquals(
          List.of("writes succeed again after 345.5 s (5 failed attempts); consumption resumed"),
          logs.at(Level.INFO).stream().map(CapturedLogs.Line::message).toList());
    }
  }

  @Test
  void anOutageIsOneIncidentInTheLogNotOneLinePerRetry() throws Exception {
    try (CapturedLogs logs = new CapturedLogs(PausingRetries.class)) {
      PausingRetries retries = retries(() -> false, Duration.ZERO);
      AtomicInteger calls = new AtomicInteger();
      retries
          .run(
              "gpu_metrics",
              40,
              () ->
                  calls.incrementAndGet() <= 6
                      ? Future.<String>failedFuture(new ConnectException("refused"))
                      : Future.succeededFuture("ok"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      assertEquals(7, calls.get());
      List<CapturedLogs.Line> warn = logs.at(Level.WARN);
      List<CapturedLogs.Line> error = logs.at(Level.ERROR);
      assertEquals(1, warn.size(), "one WARN when writes start failing: " + logs.lines());
      assertEquals(
          1, error.size(), "one ERROR past error-after, not one per retry: " + logs.lines());
      assertEquals(6, logs.at(Level.DEBUG).size(), "each retry at DEBUG");
      assertEquals(1, logs.at(Level.INFO).size(), "recovery: " + logs.lines());
      Map<String, String> f = error.get(0).fields();
      assertEquals("gpu_metrics", f.get("collection"));
      assertEquals("java.net.ConnectException", f.get("error_type"));
      assertEquals("40", f.get("documents"));
      assertTrue(error.get(0).message().contains("failing for"), error.get(0).message());
      assertTrue(logs.at(Level.INFO).get(0).message().contains("6 failed attempts"));
    }
  }

  @Test
  void deadLetterWritesNameTheDlqTopicNotACollection() throws Exception {
    try (CapturedLogs logs = new CapturedLogs(PausingRetries.class)) {
      AtomicInteger calls = new AtomicInteger();
      retries(() -> false, Duration.ofSeconds(30))
          .run(
              DeadLetters.TARGET,
              2,
              () ->
                  calls.incrementAndGet() <= 1
                      ? Future.<String>failedFuture("broker down")
                      : Future.succeededFuture("ok"))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      Map<String, String> f = logs.at(Level.WARN).get(0).fields();
      assertEquals("telemetry.dlq.v1", f.get("topic"));
      assertFalse(f.containsKey("collection"));
      assertTrue(logs.at(Level.ERROR).isEmpty(), "a blip shorter than error-after is no ERROR");
    }
  }

  private double count(String name, String... tags) {
    return Scrapes.settled(telemetry, name, tags);
  }

  @Test
  void anOutagePausesConsumptionRaisesNotReadyAndResumesWhenWritesSucceed() throws Exception {
    PausingRetries retries = retries(() -> false, Duration.ofSeconds(30));
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
    PausingRetries retries = retries(() -> true, Duration.ofSeconds(30));
    Future<Object> f = retries.run("gpus", 1, () -> Future.failedFuture("down"));
    assertTrue(f.failed());
    assertFalse(health.isReady());
    assertEquals(1.0, telemetry.registry().get("telemetry.consumer.paused").gauge().value());
  }
}
