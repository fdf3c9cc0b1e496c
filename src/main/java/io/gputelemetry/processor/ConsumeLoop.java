package io.gputelemetry.processor;

import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The consume loop: poll, prepare, persist, commit, with two batches in flight. While one batch is
 * being persisted (and its offsets committed), the next is polled and prepared; batches are
 * persisted and committed strictly in order, and the next poll waits for the batch before the one
 * just prepared, so at most two batches are in memory whatever the backlog. While a persist retries
 * (store down), nothing is polled: consumption is paused.
 *
 * <p>A batch that fails for any reason other than stopping (a bug, not an outage: outages are
 * retried inside persist) is re-read: every partition goes back to its committed offset before the
 * next poll, and the batch prepared behind it is dropped (its records come again), so nothing is
 * skipped and, the store being idempotent, nothing is stored twice.
 */
public final class ConsumeLoop {
  private static final Logger LOG = LogManager.getLogger(ConsumeLoop.class);

  /** Where records come from, and where their progress is committed. */
  public interface Source {
    /** The next records; empty when none arrived within the poll timeout. */
    Future<List<ConsumerRecord<String, byte[]>>> poll();

    /** Commits the offset of the next record to read, per partition. */
    Future<Void> commit(Map<TopicPartition, Long> nextOffsets);

    /** Moves every assigned partition back to its committed offset (the start if none). */
    Future<Void> rewind();
  }

  /** Runs an action after a delay, on the loop's context ({@code vertx.setTimer}). */
  @FunctionalInterface
  public interface Timer {
    void after(long delayMillis, Runnable action);
  }

  private final Timer timer;
  private final Source source;
  private final Function<List<ConsumerRecord<String, byte[]>>, Batch> prepare;
  private final Function<Batch, Future<Void>> persist;
  private final Backoff backoff;
  private final Telemetry telemetry;
  private final Promise<Void> done = Promise.promise();

  /** The batch being persisted (completes when it is committed or dropped). */
  private Future<Void> persisting = Future.succeededFuture();

  /** Incremented when a batch is re-read: batches polled before that are dropped and re-read. */
  private long epoch;

  private boolean backoffBeforePoll;

  /**
   * A failed batch's rewind has not succeeded yet: nothing is polled until it has, or records after
   * the failed batch would be stored and their offsets committed past it.
   */
  private boolean rewindPending;

  private volatile boolean stopping;

  public ConsumeLoop(
      Timer timer,
      Source source,
      Function<List<ConsumerRecord<String, byte[]>>, Batch> prepare,
      Function<Batch, Future<Void>> persist,
      Backoff backoff,
      Telemetry telemetry) {
    this.timer = timer;
    this.source = source;
    this.prepare = prepare;
    this.persist = persist;
    this.backoff = backoff;
    this.telemetry = telemetry;
  }

  /** Starts polling; call on the context the loop is to run on. */
  public void start() {
    loop();
  }

  /** True once {@link #stop} was called: retries inside persist give up then. */
  public boolean stopping() {
    return stopping;
  }

  /**
   * Stops polling; completes once the batch in flight is committed, or has failed (its offsets then
   * stay uncommitted and it is read again by whoever consumes next).
   */
  public Future<Void> stop() {
    stopping = true;
    return done.future();
  }

  /** Completes like {@link #stop}'s future, for a loop that never started. */
  public void abandon() {
    stopping = true;
    done.tryComplete();
  }

  private void loop() {
    if (stopping) {
      persisting.onComplete(ar -> done.tryComplete());
      return;
    }
    if (rewindPending) {
      source
          .rewind()
          .onComplete(
              ar -> {
                if (ar.succeeded()) {
                  rewindPending = false;
                  loop();
                } else {
                  LOG.warn(
                      "rewind to the committed offsets failed again ({}); nothing is read until it"
                          + " succeeds",
                      ar.cause().toString());
                  next(true);
                }
              });
      return;
    }
    long pollEpoch = epoch;
    source
        .poll()
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn("poll failed: {}", ar.cause().toString());
                persisting.onComplete(x -> next(true));
                return;
              }
              Future<Void> prior = persisting;
              if (!ar.result().isEmpty()) {
                Batch batch = prepare.apply(ar.result());
                persisting = prior.transform(x -> persist(batch, pollEpoch));
              }
              prior.onComplete(x -> next(false));
            });
  }

  private void next(boolean failedPoll) {
    if (stopping) {
      persisting.onComplete(ar -> done.tryComplete());
    } else if (failedPoll || backoffBeforePoll) {
      backoffBeforePoll = false;
      timer.after(backoff.delayMillis(3), this::loop);
    } else {
      loop();
    }
  }

  private Future<Void> persist(Batch batch, long batchEpoch) {
    if (batchEpoch != epoch) {
      return Future.succeededFuture();
    }
    return persist
        .apply(batch)
        .compose(v -> commit(batch))
        .recover(
            err -> {
              if (stopping) {
                return Future.failedFuture(err);
              }
              LOG.error("batch failed unexpectedly, re-reading it", err);
              epoch++;
              backoffBeforePoll = true;
              return source
                  .rewind()
                  .recover(
                      e -> {
                        // Retried before the next poll (see loop): reading on from here would
                        // commit past the failed records.
                        LOG.warn(
                            "rewind to the committed offsets failed ({}); retrying before reading"
                                + " on",
                            e.toString());
                        rewindPending = true;
                        return Future.succeededFuture();
                      });
            });
  }

  private Future<Void> commit(Batch batch) {
    return source
        .commit(batch.nextOffsets())
        .onSuccess(v -> telemetry.committed())
        .recover(
            err -> {
              // The group moved on (rebalance): the new owner re-reads these records; storing is
              // idempotent.
              telemetry.commitFailed();
              LOG.warn(
                  "offset commit failed ({}); the records will be re-read and stored once",
                  err.getMessage());
              return Future.succeededFuture();
            });
  }
}
