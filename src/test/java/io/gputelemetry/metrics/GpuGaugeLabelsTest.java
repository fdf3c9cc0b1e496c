package io.gputelemetry.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-GPU series carry the GPU's identity as labels: gpu_uuid, node, gpu_model and the GPU's
 * index on its node (gpu_index, what DCGM calls "gpu"), which is absent when the samples carry
 * none.
 */
class GpuGaugeLabelsTest {
  private static final Instant NOW = Instant.now();
  private final Telemetry telemetry = new Telemetry("test", "0");

  @AfterEach
  void close() {
    telemetry.close();
  }

  private static Event sample(String uuid, String node, String index) {
    String json =
        "{\"ts\":\""
            + NOW
            + "\",\"node\":\""
            + node
            + "\",\"gpu_uuid\":\""
            + uuid
            + "\",\"gpu_model\":\"H100-SXM-80GB\""
            + (index == null ? "" : ",\"gpu_index\":" + index)
            + ",\"utilization_pct\":50,\"memory_used_mib\":1,\"memory_total_mib\":2,"
            + "\"power_w\":300,\"temperature_c\":60,\"sm_clock_mhz\":1980,\"energy_mj\":5000,"
            + "\"xid_errors\":0}";
    ParseResult r =
        new EventParser(Duration.ofMinutes(5), Duration.ofDays(7))
            .parse(EventType.GPU_SAMPLE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
    assertTrue(r.ok(), () -> "sample rejected: " + r.violations());
    return r.event();
  }

  private List<String> seriesOf(String uuid) {
    return telemetry
        .registry()
        .scrape()
        .lines()
        .filter(l -> l.startsWith("telemetry_gpu_") && l.contains("gpu_uuid=\"" + uuid + "\""))
        .toList();
  }

  @Test
  void everyGpuSeriesCarriesTheGpusIndexOnItsNode() {
    telemetry.gpuSample(sample("GPU-3", "node-1", "3"));
    List<String> series = seriesOf("GPU-3");
    assertEquals(10, series.size(), () -> "one series per GPU meter: " + series);
    for (String line : series) {
      assertTrue(line.contains("gpu_index=\"3\""), line);
      assertTrue(line.contains("node=\"node-1\""), line);
      assertTrue(line.contains("gpu_model=\"H100-SXM-80GB\""), line);
    }
  }

  @Test
  void withoutAnIndexInTheSamplesTheLabelIsEmptyWhichPrometheusReadsAsAbsent() {
    telemetry.gpuSample(sample("GPU-x", "node-2", null));
    telemetry.gpuSample(sample("GPU-y", "node-2", "0"));
    List<String> series = seriesOf("GPU-x");
    assertEquals(10, series.size(), () -> "one series per GPU meter: " + series);
    for (String line : series) {
      assertTrue(line.contains("gpu_index=\"\""), line);
    }
  }
}
