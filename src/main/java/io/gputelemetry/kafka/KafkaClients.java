package io.gputelemetry.kafka;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.EventType;
import java.util.HashMap;
import java.util.Map;

/**
 * Kafka client settings: the delivery guarantees this pipeline rests on, then whatever the user
 * passes under kafka.client.* / kafka.producer.* / kafka.consumer.* (which wins, except where a
 * guarantee would break).
 */
public final class KafkaClients {
  private KafkaClients() {}

  public static Map<String, String> common(AppConfig.Kafka k) {
    Map<String, String> m = new HashMap<>();
    m.put("bootstrap.servers", k.bootstrapServers());
    m.put("request.timeout.ms", Long.toString(k.requestTimeout().toMillis()));
    m.put("default.api.timeout.ms", Long.toString(Math.max(k.requestTimeout().toMillis(), 1000)));
    m.putAll(k.passthrough().client());
    return m;
  }

  public static Map<String, String> producer(AppConfig.Kafka k, String clientId) {
    Map<String, String> m = common(k);
    m.put("client.id", clientId);
    m.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    m.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    m.put("linger.ms", "5");
    m.put("batch.size", "131072");
    m.put("compression.type", "lz4");
    m.put(
        "delivery.timeout.ms", Long.toString(Math.max(120_000, k.requestTimeout().toMillis() * 2)));
    m.putAll(k.passthrough().producer());
    // Non-negotiable: an event is acknowledged only once all in-sync replicas have it, and a retry
    // never writes it twice.
    m.put("acks", "all");
    m.put("enable.idempotence", "true");
    return m;
  }

  public static Map<String, String> consumer(
      AppConfig.Kafka k, AppConfig.Processor p, String clientId) {
    Map<String, String> m = common(k);
    m.put("client.id", clientId);
    m.put("group.id", p.groupId());
    m.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    m.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    m.put("auto.offset.reset", "earliest");
    m.put("max.poll.records", Integer.toString(p.maxBatchRecords()));
    m.put(
        "partition.assignment.strategy",
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
    m.put("isolation.level", "read_committed");
    m.putAll(k.passthrough().consumer());
    // Offsets are committed by the processor after MongoDB acknowledged the batch, never before.
    m.put("enable.auto.commit", "false");
    return m;
  }

  public static Map<String, String> admin(AppConfig.Kafka k, String clientId) {
    Map<String, String> m = common(k);
    m.put("client.id", clientId);
    return m;
  }

  /** The topic of an event type. */
  public static String topic(AppConfig.Topics topics, EventType t) {
    return t == EventType.GPU_SAMPLE ? topics.gpuMetrics() : topics.tokenUsage();
  }
}
