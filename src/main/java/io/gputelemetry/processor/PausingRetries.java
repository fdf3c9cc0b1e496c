package io.gputelemetry.processor;

import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.retry.Retry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs the processor's writes (to the store and the DLQ) until they succeed. Infrastructure
 * failures (timeouts, lost connections, no primary) are retried with backoff; meanwhile the loop
 * does not poll, so consumption is paused, readiness says why, and the pause is measured.
 */
final class PausingRetries {
  private static final Logger LOG = LogManager.getLogger(PausingRetries.class);
  static final String CONDITION = "store-writes";

  private final Vertx vertx;
  private final Backoff backoff;
  private final Telemetry telemetry;
  private final Health health;
  private final BooleanSupplier stopping;
  private long pausedSince;

  PausingRetries(
      Vertx vertx, Backoff backoff, Telemetry telemetry, Health health, BooleanSupplier stopping) {
    this.vertx = vertx;
    this.backoff = backoff;
    this.telemetry = telemetry;
    this.health = health;
    this.stopping = stopping;
  }

  /**
   * Runs {@code write} until it succeeds; fails only when stopping mid-retry. {@code target} (a
   * collection, or "dlq") and {@code documents} label the metrics.
   */
  <T> Future<T> run(String target, int documents, Supplier<Future<T>> write) {
    return Retry.until(
            vertx,
            backoff,
            () -> attempt(target, documents, write),
            (attempt, err, delay) -> {
              telemetry.storeRetry();
              LOG.warn(
                  "write to {} failed ({}); consumption paused, retry {} in {} ms",
                  target,
                  err.getMessage(),
                  attempt,
                  delay);
            },
            stopping)
        .onSuccess(r -> resumed());
  }

  private <T> Future<T> attempt(String target, int documents, Supplier<Future<T>> write) {
    Timer.Sample sample = Timer.start();
    return write
        .get()
        .onSuccess(r -> sample.stop(telemetry.batchWrite(target)))
        .onFailure(
            err -> {
              telemetry.writeFailure(target, "infrastructure", documents);
              if (pausedSince == 0) {
                pausedSince = System.nanoTime();
                telemetry.setPaused(true);
              }
              health.condition(CONDITION, "writes to " + target + " failing: " + err.getMessage());
            });
  }

  private void resumed() {
    if (pausedSince == 0) {
      return;
    }
    double paused = (System.nanoTime() - pausedSince) / 1e9;
    telemetry.setPaused(false);
    pausedSince = 0;
    health.condition(CONDITION, null);
    LOG.info(
        "store writes succeed again after {} s; consumption resumed",
        String.format("%.1f", paused));
  }
}
