package io.gputelemetry.processor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.retry.Backoff;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The consume loop against a fake partition log that behaves as a consumer does (a position, a
 * committed offset, rewind to it): order, two batches in flight, re-reading a failed batch,
 * stopping, and failed polls and commits.
 */
class ConsumeLoopTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final Vertx vertx = Vertx.vertx();
  private final Context ctx = vertx.getOrCreateContext();
  private final Telemetry telemetry = new Telemetry("test", "0").bindStandardMeters(() -> true);
  private final Backoff backoff = new Backoff(Duration.ofMillis(1), Duration.ofMillis(5));

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    telemetry.close();
  }

  /** One partition of {@code size} records, read {@code maxPoll} at a time. */
  final class FakeLog implements ConsumeLoop.Source {
    final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    final int maxPoll;
    final Queue<String> pollFailures = new ArrayDeque<>();
    final Queue<String> commitFailures = new ArrayDeque<>();
    final Queue<String> rewindFailures = new ArrayDeque<>();
    final List<Long> commits = Collections.synchronizedList(new ArrayList<>());
    volatile int polls;
    volatile int rewinds;
    private long position;
    private Long committed;

    FakeLog(int size, int maxPoll) {
      for (int i = 0; i < size; i++) {
        records.add(new ConsumerRecord<>(TP.topic(), TP.partition(), i, "k", new byte[] {1}));
      }
      this.maxPoll = maxPoll;
    }

    @Override
    public Future<List<ConsumerRecord<String, byte[]>>> poll() {
      polls++;
      if (!pollFailures.isEmpty()) {
        return Future.failedFuture(pollFailures.poll());
      }
      int from = (int) position;
      int to = Math.min(records.size(), from + maxPoll);
      if (from >= to) {
        // Like a real poll: nothing arrived within the poll timeout.
        return vertx.timer(5).map(t -> List.of());
      }
      position = to;
      return Future.succeededFuture(List.copyOf(records.subList(from, to)));
    }

    @Override
    public Future<Void> commit(Map<TopicPartition, Long> nextOffsets) {
      if (!commitFailures.isEmpty()) {
        return Future.failedFuture(commitFailures.poll());
      }
      committed = nextOffsets.get(TP);
      commits.add(committed);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> rewind() {
      rewinds++;
      if (!rewindFailures.isEmpty()) {
        return Future.failedFuture(rewindFailures.poll());
      }
      position = committed == null ? 0 : committed;
      return Future.succeededFuture();
    }
  }

  /** The first offset of each batch the loop asked to persist, in order. */
  private final List<Long> persisted = Collections.synchronizedList(new ArrayList<>());

  private static Batch batchOf(List<ConsumerRecord<String, byte[]>> records) {
    Batch b = new Batch();
    records.forEach(b::track);
    return b;
  }

  private static long firstOffset(Batch b) {
    return b.nextOffsets().get(TP) - b.size();
  }

  /** The delays the loop waited before a poll (its timer runs the action after 1 ms). */
  private final List<Long> delays = Collections.synchronizedList(new ArrayList<>());

  private ConsumeLoop loop(FakeLog log, Function<Batch, Future<Void>> persist) {
    ConsumeLoop loop =
        new ConsumeLoop(
            (delay, action) -> {
              delays.add(delay);
              vertx.setTimer(1, t -> action.run());
            },
            log,
            ConsumeLoopTest::batchOf,
            b -> {
              persisted.add(firstOffset(b));
              return persist.apply(b);
            },
            backoff,
            telemetry);
    ctx.runOnContext(v -> loop.start());
    return loop;
  }

  /** Runs nothing on the loop's context: once it ran, every callback queued before it has run. */
  private void settle() throws Exception {
    CompletableFuture<Void> f = new CompletableFuture<>();
    ctx.runOnContext(v -> f.complete(null));
    f.get(10, TimeUnit.SECONDS);
  }

  /** Persists the test completes by hand, on the loop's context. */
  private final LinkedBlockingQueue<Promise<Void>> pending = new LinkedBlockingQueue<>();

  private Future<Void> held(Batch b) {
    Promise<Void> p = Promise.promise();
    pending.add(p);
    return p.future();
  }

  private void succeedNext() throws Exception {
    Promise<Void> p = pending.poll(10, TimeUnit.SECONDS);
    ctx.runOnContext(v -> p.complete());
  }

  private void failNext(String why) throws Exception {
    Promise<Void> p = pending.poll(10, TimeUnit.SECONDS);
    ctx.runOnContext(v -> p.fail(why));
  }

  @Test
  void everyRecordIsPersistedOnceAndCommittedInOrder() {
    long before = System.currentTimeMillis();
    FakeLog log = new FakeLog(10, 3);
    loop(log, b -> Future.succeededFuture());
    await().atMost(WAIT).until(() -> log.commits.contains(10L));
    assertEquals(List.of(0L, 3L, 6L, 9L), persisted);
    assertEquals(List.of(3L, 6L, 9L, 10L), log.commits);
    assertEquals(List.of(), delays, "no back-off while polls and batches succeed");
    double lastCommit =
        Scrapes.settled(telemetry, "telemetry_consumer_last_commit_timestamp_seconds");
    assertTrue(
        lastCommit >= before / 1000.0 && lastCommit <= System.currentTimeMillis() / 1000.0,
        "the time of the last commit: " + lastCommit);
  }

  @Test
  void theNextPollWaitsForTheBatchBeforeTheOneJustPrepared() throws Exception {
    FakeLog log = new FakeLog(9, 3);
    loop(log, this::held);
    await().atMost(WAIT).until(() -> log.polls == 2);
    settle();
    assertEquals(2, log.polls, "a second batch is prepared while the first is stored, no third");
    assertEquals(List.of(0L), persisted, "the second waits for the first to be committed");
    assertEquals(List.of(), log.commits);

    succeedNext();
    await().atMost(WAIT).until(() -> log.polls == 3);
    settle();
    assertEquals(List.of(0L, 3L), persisted);
    assertEquals(List.of(3L), log.commits);
  }

  @Test
  void aFailedBatchIsReReadFromTheCommittedOffsetAndTheBatchPreparedBehindItIsDropped()
      throws Exception {
    FakeLog log = new FakeLog(9, 3);
    loop(log, this::held);
    succeedNext(); // records 0-2
    await().atMost(WAIT).until(() -> log.polls == 3); // 6-8 prepared behind 3-5
    failNext("a bug, not an outage"); // records 3-5
    succeedNext(); // 3-5 again
    succeedNext(); // 6-8
    await().atMost(WAIT).until(() -> log.commits.contains(9L));
    assertEquals(
        List.of(0L, 3L, 3L, 6L),
        persisted,
        "3-5 re-read; 6-8, prepared before the failure, persisted only once, after 3-5");
    assertEquals(1, log.rewinds);
    assertEquals(List.of(3L, 6L, 9L), log.commits, "nothing committed past the failed batch");
    assertEquals(1, delays.size(), "one back-off before re-reading: " + delays);
  }

  @Test
  void aRewindThatFailsIsRetriedBeforeAnythingElseIsReadOrCommitted() throws Exception {
    FakeLog log = new FakeLog(9, 3);
    log.rewindFailures.add("broker unreachable");
    log.rewindFailures.add("still unreachable");
    loop(log, this::held);
    succeedNext(); // records 0-2
    await().atMost(WAIT).until(() -> log.polls == 3); // 6-8 prepared behind 3-5
    failNext("a bug, not an outage"); // records 3-5; its rewind fails twice
    succeedNext(); // 3-5 again, read only after the third rewind
    succeedNext(); // 6-8
    await().atMost(WAIT).until(() -> log.commits.contains(9L));
    assertEquals(3, log.rewinds, "the failed rewind retried until it succeeded");
    assertEquals(List.of(0L, 3L, 3L, 6L), persisted, "3-5 re-read, not skipped");
    assertEquals(List.of(3L, 6L, 9L), log.commits, "nothing committed past the failed batch");
    assertEquals(2, delays.size(), "a back-off before each retried rewind: " + delays);
  }

  @Test
  void stopWaitsForTheBatchInFlightAndCommitsIt() throws Exception {
    FakeLog log = new FakeLog(9, 3);
    ConsumeLoop loop = loop(log, this::held);
    await().atMost(WAIT).until(() -> log.polls == 2);
    assertFalse(loop.stopping());
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    ctx.runOnContext(v -> loop.stop().onComplete(ar -> stopped.complete(null)));
    settle();
    assertTrue(loop.stopping(), "retries inside persist give up from now on");
    assertFalse(stopped.isDone(), "the batch in flight is not abandoned");
    succeedNext(); // 0-2
    succeedNext(); // 3-5, polled before the stop
    stopped.get(10, TimeUnit.SECONDS);
    assertEquals(List.of(3L, 6L), log.commits);
    assertEquals(2, log.polls, "nothing polled after the stop");
  }

  @Test
  void aBatchThatFailsWhileStoppingIsNeitherCommittedNorReRead() throws Exception {
    FakeLog log = new FakeLog(3, 3);
    ConsumeLoop loop = loop(log, this::held);
    await().atMost(WAIT).until(() -> pending.size() == 1);
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    ctx.runOnContext(v -> loop.stop().onComplete(ar -> stopped.complete(null)));
    failNext("store down, retries given up");
    stopped.get(10, TimeUnit.SECONDS);
    assertEquals(List.of(), log.commits);
    assertEquals(0, log.rewinds, "the next owner reads it from the committed offset");
  }

  @Test
  void aFailedPollBacksOffAndPollsAgain() {
    FakeLog log = new FakeLog(6, 3);
    log.pollFailures.add("broker away");
    loop(log, b -> Future.succeededFuture());
    await().atMost(WAIT).until(() -> log.commits.contains(6L));
    assertEquals(List.of(0L, 3L), persisted);
    // Backoff 1-5 ms: the fourth attempt's ceiling is 5 ms, the delay between half and all of it.
    assertEquals(1, delays.size(), "one back-off, before the poll after the failed one");
    assertTrue(delays.get(0) >= 2 && delays.get(0) <= 5, "delay " + delays.get(0));
  }

  @Test
  void aFailedCommitIsCountedAndTheLoopGoesOn() {
    FakeLog log = new FakeLog(6, 3);
    log.commitFailures.add("rebalance in progress");
    loop(log, b -> Future.succeededFuture());
    await().atMost(WAIT).until(() -> log.commits.contains(6L));
    assertEquals(List.of(0L, 3L), persisted, "not re-read: a new owner would re-read it");
    assertEquals(1.0, Scrapes.settled(telemetry, "telemetry_consumer_commit_failures_total"));
    assertTrue(log.rewinds == 0);
  }
}
