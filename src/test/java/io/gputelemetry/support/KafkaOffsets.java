package io.gputelemetry.support;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Committed offsets, log-end offsets and lag of a consumer group, through the Kafka Admin client.
 */
public final class KafkaOffsets implements AutoCloseable {
  private final Admin admin;

  public KafkaOffsets(String bootstrap) {
    admin =
        Admin.create(
            Map.of(
                "bootstrap.servers",
                bootstrap,
                "request.timeout.ms",
                "10000",
                "default.api.timeout.ms",
                "20000"));
  }

  public Admin admin() {
    return admin;
  }

  /** Creates the topics (when absent) so that producers need not wait for a processor to do it. */
  public void createTopics(
      Collection<String> topics, int partitions, int replication, int minInsync) throws Exception {
    Set<String> existing = admin.listTopics().names().get(20, TimeUnit.SECONDS);
    java.util.List<org.apache.kafka.clients.admin.NewTopic> missing = new java.util.ArrayList<>();
    for (String t : topics) {
      if (!existing.contains(t)) {
        org.apache.kafka.clients.admin.NewTopic nt =
            new org.apache.kafka.clients.admin.NewTopic(t, partitions, (short) replication);
        if (minInsync > 0) {
          nt.configs(Map.of("min.insync.replicas", Integer.toString(minInsync)));
        }
        missing.add(nt);
      }
    }
    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
  }

  /** The topics of a processor's settings: samples, tokens, DLQ. */
  public static java.util.List<String> topicsOf(Map<String, String> settings) {
    return java.util.List.of(
        settings.get("kafka.topic.gpu-metrics"),
        settings.get("kafka.topic.token-usage"),
        settings.get("kafka.topic.dlq"));
  }

  /** The two event topics of a processor's settings. */
  public static java.util.List<String> eventTopicsOf(Map<String, String> settings) {
    return java.util.List.of(
        settings.get("kafka.topic.gpu-metrics"), settings.get("kafka.topic.token-usage"));
  }

  public Set<TopicPartition> partitions(Collection<String> topics) throws Exception {
    Set<TopicPartition> out = new java.util.HashSet<>();
    for (TopicDescription d :
        admin.describeTopics(topics).allTopicNames().get(20, TimeUnit.SECONDS).values()) {
      d.partitions().forEach(p -> out.add(new TopicPartition(d.name(), p.partition())));
    }
    return out;
  }

  public Map<TopicPartition, Long> endOffsets(Collection<String> topics) throws Exception {
    Map<TopicPartition, OffsetSpec> q = new HashMap<>();
    partitions(topics).forEach(tp -> q.put(tp, OffsetSpec.latest()));
    Map<TopicPartition, Long> out =
        new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
    for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e :
        admin.listOffsets(q).all().get(20, TimeUnit.SECONDS).entrySet()) {
      out.put(e.getKey(), e.getValue().offset());
    }
    return out;
  }

  /** Committed offsets of the group; a partition with no commit is absent. */
  public Map<TopicPartition, Long> committed(String group) throws Exception {
    Map<TopicPartition, Long> out =
        new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e :
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(20, TimeUnit.SECONDS)
            .entrySet()) {
      if (e.getValue() != null) {
        out.put(e.getKey(), e.getValue().offset());
      }
    }
    return out;
  }

  /** Lag per partition (log end minus committed, the whole log when nothing is committed). */
  public Map<TopicPartition, Long> lag(String group, Collection<String> topics) throws Exception {
    Map<TopicPartition, Long> committed = committed(group);
    Map<TopicPartition, Long> lag =
        new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
    endOffsets(topics).forEach((tp, end) -> lag.put(tp, end - committed.getOrDefault(tp, 0L)));
    return lag;
  }

  public boolean caughtUp(String group, Collection<String> topics) throws Exception {
    return lag(group, topics).values().stream().allMatch(l -> l == 0);
  }

  public static long sum(Map<TopicPartition, Long> m) {
    return m.values().stream().mapToLong(Long::longValue).sum();
  }

  @Override
  public void close() {
    admin.close(java.time.Duration.ofSeconds(5));
  }
}
