package io.gputelemetry.processor;

import io.vertx.core.Future;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The consume loop's source, and the lag monitor's offsets, on a Vert.x Kafka consumer of the
 * processor group.
 */
final class KafkaSource implements ConsumeLoop.Source, LagMonitor.Offsets {
  private final KafkaConsumer<String, byte[]> consumer;
  private final Duration pollTimeout;

  KafkaSource(KafkaConsumer<String, byte[]> consumer, Duration pollTimeout) {
    this.consumer = consumer;
    this.pollTimeout = pollTimeout;
  }

  @Override
  public Future<List<ConsumerRecord<String, byte[]>>> poll() {
    return consumer
        .poll(pollTimeout)
        .map(
            records -> {
              List<ConsumerRecord<String, byte[]>> out = new ArrayList<>(records.size());
              records.records().forEach(out::add);
              return out;
            });
  }

  @Override
  public Future<Void> commit(Map<org.apache.kafka.common.TopicPartition, Long> nextOffsets) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    nextOffsets.forEach(
        (tp, next) ->
            offsets.put(
                new TopicPartition(tp.topic(), tp.partition()), new OffsetAndMetadata(next, "")));
    return consumer.commit(offsets).mapEmpty();
  }

  @Override
  public Future<Void> rewind() {
    return consumer
        .assignment()
        .compose(
            tps -> {
              List<Future<?>> seeks = new ArrayList<>();
              for (TopicPartition tp : tps) {
                seeks.add(
                    consumer
                        .committed(tp)
                        .compose(
                            c ->
                                c != null
                                    ? consumer.seek(tp, c.getOffset())
                                    : consumer.seekToBeginning(tp)));
              }
              return Future.join(seeks);
            })
        .mapEmpty();
  }

  @Override
  public Future<Set<TopicPartition>> assignment() {
    return consumer.assignment();
  }

  @Override
  public Future<Map<TopicPartition, Long>> endOffsets(Set<TopicPartition> partitions) {
    return consumer.endOffsets(partitions);
  }

  @Override
  public Future<Long> position(TopicPartition partition) {
    return consumer.position(partition);
  }
}
