package io.gputelemetry.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The shipped OpenTelemetry Collector configuration, checked for structure (no Collector can run
 * here): every component a pipeline names is defined, the otlphttp exporter uses only keys the
 * Collector's otlphttp exporter has, points at the base URL (it appends /v1/traces and
 * /v1/metrics), and the batches fit ingest.max-events; token metrics become delta first.
 */
class CollectorConfigTest {
  static final Path CONFIG = Path.of("deploy/otel-collector/otlphttp-gpu-telemetry.yaml");

  /** The otlphttp exporter's settings (its README and confighttp / exporterhelper). */
  static final Set<String> OTLPHTTP_KEYS =
      Set.of(
          "endpoint",
          "traces_endpoint",
          "metrics_endpoint",
          "logs_endpoint",
          "encoding",
          "compression",
          "timeout",
          "headers",
          "tls",
          "auth",
          "read_buffer_size",
          "write_buffer_size",
          "retry_on_failure",
          "sending_queue",
          "proxy_url",
          "max_idle_conns",
          "idle_conn_timeout");

  @Test
  void everyPipelineNamesDefinedComponentsAndTheExporterFitsTheReceiver() throws Exception {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(CONFIG.toFile());
    JsonNode pipelines = root.path("service").path("pipelines");
    assertEquals(List.of("traces", "metrics"), names(pipelines));
    for (JsonNode p : pipelines) {
      for (String section : List.of("receivers", "processors", "exporters")) {
        for (JsonNode c : p.path(section)) {
          assertTrue(root.path(section).has(c.asText()), section + " lacks " + c.asText());
        }
      }
      assertEquals("otlphttp/gpu-telemetry", p.path("exporters").get(0).asText());
    }
    JsonNode metrics = pipelines.path("metrics").path("processors");
    assertEquals("cumulativetodelta", metrics.get(0).asText(), "delta before batching");
    assertTrue(
        root.path("processors")
            .path("cumulativetodelta")
            .path("include")
            .path("metrics")
            .toString()
            .contains("gen_ai.client.token.usage"));

    JsonNode exporter = root.path("exporters").path("otlphttp/gpu-telemetry");
    for (String key : names(exporter)) {
      assertTrue(OTLPHTTP_KEYS.contains(key), "otlphttp has no setting " + key);
    }
    String endpoint = exporter.path("endpoint").asText();
    assertTrue(endpoint.matches("https?://[^/]+"), "a base URL without a path: " + endpoint);
    assertTrue(Set.of("proto", "json").contains(exporter.path("encoding").asText()));
    assertEquals("gzip", exporter.path("compression").asText());
    assertTrue(exporter.path("headers").path("Authorization").asText().startsWith("Bearer "));

    AppConfig defaults = AppConfig.from(Settings.defaults());
    int maxBatch = root.path("processors").path("batch").path("send_batch_max_size").asInt();
    assertTrue(
        maxBatch > 0 && maxBatch <= defaults.ingest().maxEvents(),
        "batches of at most ingest.max-events: " + maxBatch);
  }

  private static List<String> names(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
