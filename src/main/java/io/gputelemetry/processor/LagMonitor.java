package io.gputelemetry.processor;

import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.kafka.client.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** The records behind the end of each partition this processor owns: gauges and the total. */
final class LagMonitor {
  private static final Logger LOG = LogManager.getLogger(LagMonitor.class);

  /** What the lag is read from: the consumer's partitions, their ends and its positions. */
  interface Offsets {
    Future<Set<TopicPartition>> assignment();

    Future<Map<TopicPartition, Long>> endOffsets(Set<TopicPartition> partitions);

    Future<Long> position(TopicPartition partition);
  }

  private final Offsets consumer;
  private final Telemetry telemetry;
  private final ProcessorStats stats;

  LagMonitor(Offsets consumer, Telemetry telemetry, ProcessorStats stats) {
    this.consumer = consumer;
    this.telemetry = telemetry;
    this.stats = stats;
  }

  void update() {
    consumer
        .assignment()
        .compose(
            tps -> {
              if (tps.isEmpty()) {
                telemetry.retainLag(Set.of());
                stats.lag.set(0);
                return Future.succeededFuture();
              }
              return consumer.endOffsets(tps).compose(ends -> positions(tps, ends));
            })
        .onFailure(e -> LOG.debug("lag update failed: {}", e.getMessage()));
  }

  private Future<Void> positions(Set<TopicPartition> tps, Map<TopicPartition, Long> ends) {
    List<Future<?>> fs = new ArrayList<>();
    Map<TopicPartition, Long> lag = new HashMap<>();
    for (TopicPartition tp : tps) {
      fs.add(
          consumer
              .position(tp)
              .onSuccess(pos -> lag.put(tp, Math.max(0, ends.getOrDefault(tp, pos) - pos))));
    }
    return Future.join(fs)
        .onComplete(
            ar -> {
              Set<String> keys = new HashSet<>();
              lag.forEach(
                  (tp, l) -> {
                    telemetry.lag(tp.getTopic(), tp.getPartition(), l);
                    keys.add(tp.getTopic() + "/" + tp.getPartition());
                  });
              telemetry.retainLag(keys);
              stats.lag.set(lag.values().stream().mapToLong(Long::longValue).sum());
            })
        .mapEmpty();
  }
}
