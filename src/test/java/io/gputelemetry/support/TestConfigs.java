package io.gputelemetry.support;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Configurations for tests: loopback services, unique topics and group per test, quick timeouts.
 */
public final class TestConfigs {
  private TestConfigs() {}

  /** A base map; {@code suffix} makes the topics and group unique to one test. */
  public static Map<String, String> base(String role, String mongoUri, String suffix) {
    Map<String, String> m = new HashMap<>();
    m.put("role", role);
    m.put("http.port", "0");
    m.put("http.host", "127.0.0.1");
    m.put("kafka.bootstrap.servers", TestKafka.bootstrapServers());
    m.put("kafka.topic.gpu-metrics", "gpu.metrics.v1." + suffix);
    m.put("kafka.topic.token-usage", "token.usage.v1." + suffix);
    m.put("kafka.topic.dlq", "telemetry.dlq.v1." + suffix);
    m.put("kafka.topic.partitions", "3");
    m.put("processor.group-id", "processor-" + suffix);
    m.put("mongo.connection-string", mongoUri);
    m.put("mongo.database", "telemetry");
    m.put("mongo.timeout", "3s");
    m.put("processor.retry.initial-backoff", "50ms");
    m.put("processor.retry.max-backoff", "1s");
    m.put("kafka.consumer.session.timeout.ms", "10000");
    m.put("kafka.consumer.heartbeat.interval.ms", "1000");
    m.put("standalone.progress-interval", "0s");
    return m;
  }

  public static String unique() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  public static AppConfig of(Map<String, String> overrides) {
    return AppConfig.from(Settings.load(null, Map.of(), overrides));
  }
}
