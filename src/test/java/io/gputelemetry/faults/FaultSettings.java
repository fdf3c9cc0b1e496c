package io.gputelemetry.faults;

import io.gputelemetry.support.TestConfigs;
import java.util.Map;

/**
 * Processor settings shared by the fault tests: quick failure detection, unique topics and group.
 */
final class FaultSettings {
  private FaultSettings() {}

  static Map<String, String> processor(String mongoUri, String suffix) {
    Map<String, String> m = TestConfigs.base("processor", mongoUri, suffix);
    m.put("kafka.consumer.session.timeout.ms", "6000");
    m.put("kafka.consumer.heartbeat.interval.ms", "1000");
    m.put("mongo.timeout", "2s");
    m.put("log.level", "info");
    return m;
  }
}
