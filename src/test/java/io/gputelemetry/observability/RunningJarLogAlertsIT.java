package io.gputelemetry.observability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.gputelemetry.support.Events;
import io.gputelemetry.support.KafkaOffsets;
import io.gputelemetry.support.LogQl;
import io.gputelemetry.support.ProcessorJar;
import io.gputelemetry.support.Prom;
import io.gputelemetry.support.TcpProxy;
import io.gputelemetry.support.TestConfigs;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.support.TestMongo;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Loki rules against what the processor really logs. The built jar runs as a processor with
 * JSON logs through a healthy start, a store outage (connections cut by a proxy) and poison
 * records; each alert's log query, read from the shipped rule file, is run on the lines of each
 * phase by {@link LogQl} (no Loki binary exists here), with the stream labels Promtail gives the
 * processor's pods. The example lines in docs/observability.md are checked against real ones.
 */
class RunningJarLogAlertsIT {
  private static final Path RULES =
      Path.of("charts/gpu-telemetry/files/loki/gpu-telemetry.loki-rules.yaml");
  private static final Map<String, String> STREAM =
      Map.of("app", "gpu-telemetry", "component", "processor", "namespace", "ci");

  private static List<String> healthy;
  private static List<String> outage;
  private static List<String> poison;
  private static String tokenTopic;
  private static Map<String, LogQl> alerts;

  @BeforeAll
  static void runTheJarThroughAnOutageAndPoisonRecords() throws Exception {
    alerts = alerts();
    String sfx = TestConfigs.unique();
    try (TestMongo mongo = new TestMongo();
        TcpProxy proxy = new TcpProxy(port(mongo.uri()));
        KafkaOffsets offsets = new KafkaOffsets(TestKafka.bootstrapServers());
        KafkaProducer<String, String> kafka =
            new KafkaProducer<>(
                Map.of("bootstrap.servers", TestKafka.bootstrapServers(), "acks", "all"),
                new StringSerializer(),
                new StringSerializer())) {
      Map<String, String> conf =
          TestConfigs.base("processor", "mongodb://127.0.0.1:" + proxy.port(), sfx);
      conf.put("log.format", "json");
      conf.put("log.level", "info");
      conf.put("mongo.timeout", "1s");
      conf.put("processor.error-after", "2s");
      conf.put("processor.retry.max-backoff", "500ms");
      offsets.createTopics(KafkaOffsets.topicsOf(conf), 3, 1, 0);
      tokenTopic = conf.get("kafka.topic.token-usage");
      String gpuTopic = conf.get("kafka.topic.gpu-metrics");
      try (ProcessorJar jar = ProcessorJar.start(conf).awaitConsuming()) {
        for (int i = 0; i < 20; i++) {
          kafka.send(new ProducerRecord<>(tokenTopic, "k" + i, Events.token("acme").encode()));
          kafka.send(new ProducerRecord<>(gpuTopic, "g" + i, Events.sample("GPU-" + i).encode()));
        }
        kafka.flush();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> Prom.sum(jar.metrics(), "telemetry_events_stored_total") >= 40);
        int healthyEnd = jar.lines().size();

        proxy.cut();
        for (int i = 0; i < 10; i++) {
          kafka.send(new ProducerRecord<>(tokenTopic, "o" + i, Events.token("acme").encode()));
        }
        kafka.flush();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> contains(jar.lines(), healthyEnd, "\"level\":\"ERROR\""));
        proxy.restore();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> contains(jar.lines(), healthyEnd, "succeed again"));
        int outageEnd = jar.lines().size();

        kafka.send(new ProducerRecord<>(tokenTopic, 1, "p1", "not json"));
        kafka.send(new ProducerRecord<>(tokenTopic, 1, "p2", "{\"also\": \"not an event\"}"));
        kafka.flush();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> contains(jar.lines(), outageEnd, "dead-letter"));
        jar.stopAndDrain(30);
        List<String> all = jar.lines();
        healthy = all.subList(0, healthyEnd);
        outage = all.subList(healthyEnd, outageEnd);
        poison = all.subList(outageEnd, all.size());
      }
    }
  }

  @Test
  void noAlertMatchesAHealthyStart() {
    assertFalse(healthy.isEmpty());
    alerts.forEach(
        (name, q) -> assertEquals(List.of(), q.run(STREAM, healthy), name + " on healthy lines"));
  }

  @Test
  void aStoreOutageIsOneErrorLineThatTheStoreAlertMatchesByCollection() {
    List<LogQl.Match> store = alerts.get("TelemetryProcessorStoreErrorLogs").run(STREAM, outage);
    assertEquals(1, store.size(), "one ERROR per outage, not per retry:\n" + join(outage));
    LogQl.Match m = store.get(0);
    assertTrue(Set.of("gpu_metrics", "token_usage", "gpus").contains(m.labels().get("collection")));
    JsonObject line = new JsonObject(m.line());
    assertTrue(line.getString("error_type").startsWith("com.mongodb."), m.line());
    assertTrue(line.getString("message").contains("failing for"), m.line());
    assertEquals(
        List.of(),
        alerts.get("TelemetryProcessorPartitionErrors").run(STREAM, outage),
        "a store outage names no partition");
    assertEquals(
        1, alerts.get("TelemetryProcessorErrorLogs").run(STREAM, outage).size(), join(outage));
    assertEquals(
        1,
        outage.stream()
            .filter(l -> l.contains("\"level\":\"WARN\"") && l.contains("PausingRetries"))
            .count(),
        "one WARN when writes start failing");
  }

  @Test
  void poisonRecordsAreErrorLinesThatThePartitionAlertMatchesByTopicAndPartition() {
    List<LogQl.Match> partition =
        alerts.get("TelemetryProcessorPartitionErrors").run(STREAM, poison);
    assertFalse(partition.isEmpty(), join(poison));
    int records = 0;
    for (LogQl.Match m : partition) {
      assertEquals(tokenTopic, m.labels().get("topic"), m.line());
      assertEquals("1", m.labels().get("partition"), m.line());
      JsonObject line = new JsonObject(m.line());
      assertTrue(line.containsKey("offset") && line.containsKey("reason"), m.line());
      records += Integer.parseInt(line.getString("records"));
    }
    assertEquals(2, records, "both poison records are named");
    assertEquals(
        List.of(),
        alerts.get("TelemetryProcessorStoreErrorLogs").run(STREAM, poison),
        "dead letters are not a store failure");
  }

  @Test
  void theDocumentedExampleLinesHaveTheShapeOfRealOnes() throws Exception {
    String doc = Files.readString(Path.of("docs/observability.md"));
    Matcher block = Pattern.compile("(?s)## Logs.*?```json\\n(.*?)```").matcher(doc);
    assertTrue(block.find(), "docs/observability.md has example log lines");
    List<String> real = new ArrayList<>(outage);
    real.addAll(poison);
    for (String example : block.group(1).strip().split("\n")) {
      JsonObject e = new JsonObject(example);
      boolean found =
          real.stream()
              .filter(l -> l.startsWith("{"))
              .map(JsonObject::new)
              .anyMatch(
                  r ->
                      r.getString("level").equals(e.getString("level"))
                          && r.getString("logger").equals(e.getString("logger"))
                          && new TreeSet<>(r.fieldNames()).equals(new TreeSet<>(e.fieldNames())));
      assertTrue(found, "no real line has the shape of the documented " + example);
    }
  }

  /** The shipped LogQL alerts by name, each parsed (a rule beyond the evaluated subset fails). */
  private static Map<String, LogQl> alerts() throws Exception {
    JsonNode root = new YAMLMapper().readTree(RULES.toFile());
    Map<String, LogQl> out = new LinkedHashMap<>();
    for (JsonNode group : root.get("groups")) {
      for (JsonNode rule : group.get("rules")) {
        LogQl q = LogQl.ofMetricQuery(rule.get("expr").asText());
        if (rule.has("alert")) {
          out.put(rule.get("alert").asText(), q);
        }
      }
    }
    assertEquals(
        Set.of(
            "TelemetryProcessorErrorLogs",
            "TelemetryProcessorPartitionErrors",
            "TelemetryProcessorStoreErrorLogs"),
        out.keySet(),
        "every Loki alert is checked here");
    return out;
  }

  private static boolean contains(List<String> lines, int from, String text) {
    return count(lines.subList(from, lines.size()), text) > 0;
  }

  private static long count(List<String> lines, String text) {
    return lines.stream().filter(l -> l.contains(text)).count();
  }

  private static String join(List<String> lines) {
    return String.join("\n", lines);
  }

  private static int port(String uri) {
    return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1));
  }
}
