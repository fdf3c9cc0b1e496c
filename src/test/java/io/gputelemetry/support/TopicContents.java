package io.gputelemetry.support;

import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What the event topics hold, read back from Kafka: every record a producer wrote there was
 * acknowledged by Kafka, so this is what the store must hold. Blocking, for test threads.
 */
public final class TopicContents {
  private TopicContents() {}

  /** "collection|_id" of every event on the two topics (read_committed, to the end). */
  public static Set<String> storeIds(String bootstrap, String gpuTopic, String tokenTopic) {
    EventParser parser = new EventParser(Duration.ofDays(3650), Duration.ofDays(3650));
    Map<String, EventType> types =
        Map.of(gpuTopic, EventType.GPU_SAMPLE, tokenTopic, EventType.TOKEN_USAGE);
    Set<String> ids = new HashSet<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                "bootstrap.servers", bootstrap,
                "isolation.level", "read_committed",
                "enable.auto.commit", "false"),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (String t : types.keySet()) {
        c.partitionsFor(t).forEach(p -> tps.add(new TopicPartition(t, p.partition())));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read the topics to their end");
        }
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          EventType type = types.get(r.topic());
          ParseResult pr = parser.parse(type, r.value(), Instant.ofEpochMilli(r.timestamp()), null);
          if (!pr.ok()) {
            throw new IllegalStateException(
                "an invalid record on " + r.topic() + ": " + pr.violations());
          }
          String collection = type == EventType.GPU_SAMPLE ? "gpu_metrics" : "token_usage";
          ids.add(collection + "|" + pr.event().storeId());
        }
      }
    }
    return ids;
  }
}
