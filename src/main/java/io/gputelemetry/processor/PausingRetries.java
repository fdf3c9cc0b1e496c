package io.gputelemetry.processor;

import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.retry.Retry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.logging.log4j.CloseableThreadContext;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs the processor's writes (to the store and the DLQ) until they succeed. Infrastructure
 * failures (timeouts, lost connections, no primary) are retried with backoff; meanwhile the loop
 * does not poll, so consumption is paused, readiness says why, and the pause is measured.
 *
 * <p>Logs are for people and the Loki rules, so an outage is one incident, not one line per retry:
 * a WARN when writes start failing, one ERROR once they have failed for {@code errorAfter} (again
 * every {@link #REMIND} while it lasts), an INFO when they succeed again. Retries log at DEBUG. The
 * lines carry {@code collection} (or {@code topic} for the DLQ), {@code error_type} and {@code
 * documents} as JSON fields.
 */
final class PausingRetries {
  private static final Logger LOG = LogManager.getLogger(PausingRetries.class);
  static final String CONDITION = "store-writes";
  static final Duration REMIND = Duration.ofMinutes(5);

  private final Vertx vertx;
  private final Backoff backoff;
  private final Telemetry telemetry;
  private final Health health;
  private final BooleanSupplier stopping;
  private final long errorAfterNanos;
  private final String dlqTopic;
  private final LongSupplier nanoClock;
  private long pausedSince;
  private long failedAttempts;
  private long nextErrorAt;

  /** {@code nanoClock} times the pause and the reminders ({@code System::nanoTime}). */
  PausingRetries(
      Vertx vertx,
      Backoff backoff,
      Telemetry telemetry,
      Health health,
      BooleanSupplier stopping,
      Duration errorAfter,
      String dlqTopic,
      LongSupplier nanoClock) {
    this.vertx = vertx;
    this.backoff = backoff;
    this.telemetry = telemetry;
    this.health = health;
    this.stopping = stopping;
    this.errorAfterNanos = errorAfter.toNanos();
    this.dlqTopic = dlqTopic;
    this.nanoClock = nanoClock;
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
              LOG.debug(
                  "write to {} failed ({}); retry {} in {} ms",
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
              failedAttempts++;
              long now = nanoClock.getAsLong();
              if (pausedSince == 0) {
                pausedSince = now;
                nextErrorAt = now + errorAfterNanos;
                telemetry.setPaused(true);
                log(
                    Level.WARN,
                    target,
                    documents,
                    err,
                    "writes to {} failing ({}); consumption paused, retrying",
                    target,
                    err.getMessage());
              } else if (now - nextErrorAt >= 0) {
                nextErrorAt = now + REMIND.toNanos();
                log(
                    Level.ERROR,
                    target,
                    documents,
                    err,
                    "writes to {} failing for {} s ({} attempts: {}); consumption paused",
                    target,
                    (now - pausedSince) / 1_000_000_000L,
                    failedAttempts,
                    err.getMessage());
              }
              health.condition(CONDITION, "writes to " + target + " failing: " + err.getMessage());
            });
  }

  /** A line with the incident's fields (for the JSON layout and the Loki rules). */
  @SuppressWarnings("try") // the context is the point of the try, not a resource used in it
  private void log(
      Level level, String target, int documents, Throwable err, String message, Object... args) {
    Map<String, String> fields =
        Map.of(
            target.equals(DeadLetters.TARGET) ? "topic" : "collection",
            target.equals(DeadLetters.TARGET) ? dlqTopic : target,
            "error_type",
            err.getClass().getName(),
            "documents",
            Integer.toString(documents));
    try (CloseableThreadContext.Instance ctx = CloseableThreadContext.putAll(fields)) {
      LOG.log(level, message, args);
    }
  }

  private void resumed() {
    if (pausedSince == 0) {
      return;
    }
    double paused = (nanoClock.getAsLong() - pausedSince) / 1e9;
    telemetry.setPaused(false);
    pausedSince = 0;
    long attempts = failedAttempts;
    failedAttempts = 0;
    health.condition(CONDITION, null);
    LOG.info(
        "writes succeed again after {} s ({} failed attempts); consumption resumed",
        String.format("%.1f", paused),
        attempts);
  }
}
