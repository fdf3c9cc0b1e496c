package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.support.Scrapes;
import io.vertx.core.Future;
import io.vertx.kafka.client.common.TopicPartition;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lag of each owned partition is its end offset less the consumer's position, never below 0.
 */
class LagMonitorTest {
  private static final TopicPartition GPU_0 = new TopicPartition("gpu", 0);
  private static final TopicPartition GPU_1 = new TopicPartition("gpu", 1);
  private static final TopicPartition TOK_0 = new TopicPartition("tok", 0);

  private final Telemetry telemetry = new Telemetry("test", "0");
  private final ProcessorStats stats = new ProcessorStats();

  @AfterEach
  void close() {
    telemetry.close();
  }

  /** Partitions, end offsets and positions as a consumer reports them; no entry: the call fails. */
  private static final class FakeOffsets implements LagMonitor.Offsets {
    Set<TopicPartition> assigned = Set.of();
    final Map<TopicPartition, Long> ends = new HashMap<>();
    final Map<TopicPartition, Long> positions = new HashMap<>();
    boolean endsFail;

    @Override
    public Future<Set<TopicPartition>> assignment() {
      return Future.succeededFuture(assigned);
    }

    @Override
    public Future<Map<TopicPartition, Long>> endOffsets(Set<TopicPartition> partitions) {
      return endsFail ? Future.failedFuture("coordinator moving") : Future.succeededFuture(ends);
    }

    @Override
    public Future<Long> position(TopicPartition partition) {
      Long p = positions.get(partition);
      return p == null ? Future.failedFuture("not assigned any more") : Future.succeededFuture(p);
    }
  }

  private double lag(TopicPartition tp) {
    return Scrapes.value(
        telemetry.registry().scrape(),
        "telemetry_consumer_lag_records",
        "topic",
        tp.getTopic(),
        "partition",
        Integer.toString(tp.getPartition()));
  }

  @Test
  void eachPartitionShowsTheRecordsBehindItsEndAndTheTotalIsTheirSum() {
    FakeOffsets offsets = new FakeOffsets();
    offsets.assigned = Set.of(GPU_0, GPU_1, TOK_0);
    offsets.ends.putAll(Map.of(GPU_0, 100L, GPU_1, 50L, TOK_0, 10L));
    offsets.positions.putAll(Map.of(GPU_0, 40L, GPU_1, 47L, TOK_0, 10L));
    new LagMonitor(offsets, telemetry, stats).update();
    assertEquals(60.0, lag(GPU_0));
    assertEquals(3.0, lag(GPU_1));
    assertEquals(0.0, lag(TOK_0));
    assertEquals(63, stats.lag.get());
  }

  @Test
  void aPositionPastAKnownEndOrWithoutAnEndIsNoLag() {
    // The end offsets were read before records arrived (position 55 past end 50); TOK_0's end
    // is not known.
    FakeOffsets offsets = new FakeOffsets();
    offsets.assigned = Set.of(GPU_1, TOK_0);
    offsets.ends.put(GPU_1, 50L);
    offsets.positions.putAll(Map.of(GPU_1, 55L, TOK_0, 7L));
    new LagMonitor(offsets, telemetry, stats).update();
    assertEquals(0.0, lag(GPU_1));
    assertEquals(0.0, lag(TOK_0));
    assertEquals(0, stats.lag.get());
  }

  @Test
  void partitionsNoLongerOwnedLoseTheirGaugeAndTheirShareOfTheTotal() {
    FakeOffsets offsets = new FakeOffsets();
    offsets.assigned = Set.of(GPU_0, GPU_1);
    offsets.ends.putAll(Map.of(GPU_0, 100L, GPU_1, 50L));
    offsets.positions.putAll(Map.of(GPU_0, 90L, GPU_1, 45L));
    LagMonitor monitor = new LagMonitor(offsets, telemetry, stats);
    monitor.update();
    assertEquals(15, stats.lag.get());

    offsets.assigned = Set.of(GPU_1); // rebalanced: GPU_0 went to another processor
    monitor.update();
    assertThrows(AssertionError.class, () -> lag(GPU_0));
    assertEquals(5.0, lag(GPU_1));
    assertEquals(5, stats.lag.get());

    offsets.assigned = Set.of(); // all revoked
    monitor.update();
    assertThrows(AssertionError.class, () -> lag(GPU_1));
    assertEquals(0, stats.lag.get());
  }

  @Test
  void aPartitionWhosePositionCannotBeReadIsLeftOutNotCountedAsZero() {
    FakeOffsets offsets = new FakeOffsets();
    offsets.assigned = Set.of(GPU_0, GPU_1);
    offsets.ends.putAll(Map.of(GPU_0, 100L, GPU_1, 50L));
    offsets.positions.put(GPU_0, 90L);
    new LagMonitor(offsets, telemetry, stats).update();
    assertEquals(10.0, lag(GPU_0));
    assertThrows(AssertionError.class, () -> lag(GPU_1));
    assertEquals(10, stats.lag.get());
  }

  @Test
  void whenTheEndOffsetsCannotBeReadTheLastFiguresStay() {
    FakeOffsets offsets = new FakeOffsets();
    offsets.assigned = Set.of(GPU_0);
    offsets.ends.put(GPU_0, 100L);
    offsets.positions.put(GPU_0, 90L);
    LagMonitor monitor = new LagMonitor(offsets, telemetry, stats);
    monitor.update();
    offsets.positions.put(GPU_0, 95L);
    offsets.endsFail = true;
    monitor.update();
    assertEquals(10.0, lag(GPU_0));
    assertEquals(10, stats.lag.get());
  }
}
