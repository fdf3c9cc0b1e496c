package io.gputelemetry.support;

import static org.awaitility.Awaitility.await;

import io.gputelemetry.Application;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference for a fault test: the same topics read once, from offset 0, by a fresh processor
 * (its own group) into an empty store, with no fault.
 */
public final class CleanPass {
  /** What the clean pass derived. */
  public record Result(Set<String> storedIds, Map<String, JsonObject> gpus) {}

  private CleanPass() {}

  /**
   * {@code settings}: the fault run's processor settings (broker and topics); group and store are
   * replaced.
   */
  public static Result run(Map<String, String> settings) throws Exception {
    Map<String, String> c = new HashMap<>(settings);
    String group = "clean-" + TestConfigs.unique();
    c.put("role", "processor");
    c.put("processor.group-id", group);
    c.put("http.port", "0");
    c.put("http.host", "127.0.0.1");
    List<String> topics =
        List.of(c.get("kafka.topic.gpu-metrics"), c.get("kafka.topic.token-usage"));
    try (TestMongo mongo = new TestMongo();
        KafkaOffsets offsets = new KafkaOffsets(c.get("kafka.bootstrap.servers"))) {
      c.put("mongo.connection-string", mongo.uri());
      Application app = new Application(TestConfigs.of(c)).start();
      try {
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> offsets.caughtUp(group, topics));
      } finally {
        app.close();
      }
      try (StoreAudit audit = new StoreAudit(mongo.uri())) {
        return new Result(audit.storedIds(), audit.gpus());
      }
    }
  }
}
