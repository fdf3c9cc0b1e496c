package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DcgmMappingTest {
  static final Path FIXTURES = Path.of("src/test/resources/dcgm-exporter");
  static final String A100 = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660";
  static final Instant AT = Instant.parse("2026-11-28T12:00:00Z");

  private final DcgmMapping mapping =
      new DcgmMapping(
          Map.of(), ModelMap.parse(List.of("llm/vllm-llama-.*/vllm=llama-3.1-70b-instruct")), 3);

  static AppConfig.Target target(Map<String, String> labels) {
    return new AppConfig.Target(
        "dcgm",
        "http://10.0.0.5:9400/metrics",
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        labels);
  }

  static PromText.Exposition fixture(String name) throws Exception {
    return PromText.parse(Files.readString(FIXTURES.resolve(name), StandardCharsets.UTF_8), 65536);
  }

  @Test
  void theMigOutputOfNvidiasDocsGivesTheWholeGpuWithUtilisationFromTheEngineActivity()
      throws Exception {
    DcgmMapping.Result r =
        mapping.map(
            fixture("cloud-native-docs-mig.prom"),
            target(Map.of("gpu_model", "A100-SXM-40GB")),
            AT);
    assertEquals(1, r.samples().size());
    ObjectNode s = r.samples().get(0);
    assertEquals("2026-11-28T12:00:00Z", s.get("ts").asText());
    assertEquals("ub20-a100-k8s", s.get("node").asText());
    assertEquals(A100, s.get("gpu_uuid").asText());
    assertEquals(0, s.get("gpu_index").asInt());
    assertEquals("A100-SXM-40GB", s.get("gpu_model").asText());
    assertEquals(99.563, s.get("utilization_pct").asDouble(), 1e-9);
    assertEquals(4845, s.get("memory_used_mib").asDouble());
    assertEquals(4845 + 35690, s.get("memory_total_mib").asDouble());
    assertEquals(409.692, s.get("power_w").asDouble());
    assertEquals(319159391L, s.get("energy_mj").asLong());
    assertEquals(61, s.get("temperature_c").asDouble());
    assertEquals(1215, s.get("sm_clock_mhz").asInt());
    assertEquals(0, s.get("last_xid").asInt());
    assertFalse(s.has("xid_errors"));
    assertEquals(30.0, s.get("interval_s").asDouble());
    assertEquals(90.0, s.get("max_gap_s").asDouble());
    assertFalse(s.has("model"));
    // The instance shows only engine activity and XID there: no memory figures, so no sample.
    assertEquals(
        List.of(
            new DcgmMapping.Problem(
                "missing_field", A100 + " instance 13: no DCGM_FI_DEV_FB_USED")),
        r.problems());
    ParseResult parsed =
        new EventParser(Duration.ofMinutes(5), Duration.ofDays(7))
            .parse(EventType.GPU_SAMPLE, s, AT, null);
    assertTrue(parsed.ok(), () -> parsed.violations().toString());
  }

  @Test
  void aMigInstanceWithItsOwnMemoryIsASampleOfItsParent() throws Exception {
    // The label order of dcgm-exporter's template (internal/pkg/rendermetrics/render_metrics.go).
    String l =
        "{gpu=\"0\",UUID=\"GPU-a\",pci_bus_id=\"00000000:07:00.0\",device=\"nvidia0\","
            + "modelName=\"NVIDIA A100-SXM4-80GB\"";
    String mig = l + ",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"2\",Hostname=\"gpu-node-7\"";
    l = l + ",Hostname=\"gpu-node-7\"";
    String text =
        "DCGM_FI_DEV_GPU_TEMP"
            + l
            + "} 44\n"
            + "DCGM_FI_DEV_POWER_USAGE"
            + l
            + "} 250.5\n"
            + "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
            + l
            + "} 1000000\n"
            + "DCGM_FI_DEV_FB_USED"
            + l
            + "} 20000\n"
            + "DCGM_FI_DEV_FB_FREE"
            + l
            + "} 60000\n"
            + "DCGM_FI_DEV_FB_RESERVED"
            + l
            + "} 1920\n"
            + "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
            + l
            + "} 0.5\n"
            + "DCGM_FI_DEV_FB_USED"
            + mig
            + "} 12000\n"
            + "DCGM_FI_DEV_FB_FREE"
            + mig
            + "} 28000\n"
            + "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
            + mig
            + "} 0.25\n"
            + "DCGM_FI_DEV_XID_ERRORS"
            + mig
            + "} 43";
    DcgmMapping.Result r = mapping.map(PromText.parse(text, 4096), target(Map.of()), AT);
    assertEquals(List.of(), r.problems());
    assertEquals(2, r.samples().size());
    ObjectNode gpu = r.samples().get(0);
    assertEquals("A100-SXM-80GB", gpu.get("gpu_model").asText());
    assertEquals(81920, gpu.get("memory_total_mib").asDouble());
    assertEquals(50.0, gpu.get("utilization_pct").asDouble());
    ObjectNode slice = r.samples().get(1);
    assertEquals("GPU-a:gi2", slice.get("gpu_uuid").asText());
    assertEquals("GPU-a", slice.get("mig_parent_uuid").asText());
    assertEquals("3g.40gb", slice.get("mig_profile").asText());
    assertEquals(2, slice.get("mig_instance_id").asInt());
    assertEquals(25.0, slice.get("utilization_pct").asDouble());
    assertEquals(40000, slice.get("memory_total_mib").asDouble());
    // Board power and energy stay with the parent; the slice has its parent's temperature.
    assertEquals(0.0, slice.get("power_w").asDouble());
    assertFalse(slice.has("energy_mj"));
    assertEquals(44, slice.get("temperature_c").asDouble());
    assertEquals(43, slice.get("last_xid").asInt());
  }

  @Test
  void theKubernetesReadmeOutputParsesButLacksTheFieldsOfASample() throws Exception {
    PromText.Exposition e = fixture("readme-kubernetes.prom");
    assertEquals(3, e.samples().size());
    assertEquals("", e.samples().get(0).label("pod"));
    DcgmMapping.Result r = mapping.map(e, target(Map.of("gpu_model", "H100-SXM-80GB")), AT);
    assertEquals(List.of(), r.samples());
    assertEquals(
        List.of(
            new DcgmMapping.Problem(
                "missing_field",
                "GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52: no DCGM_FI_DEV_GPU_UTIL (or"
                    + " DCGM_FI_PROF_GR_ENGINE_ACTIVE)")),
        r.problems());
  }

  @Test
  void theModelComesFromThePodAndNaNPowerLosesOnlyItsGpu() throws Exception {
    String a =
        "{gpu=\"0\",UUID=\"GPU-a\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"n1\","
            + "container=\"vllm\",namespace=\"llm\",pod=\"vllm-llama-7f9c\"}";
    String b =
        "{gpu=\"1\",UUID=\"GPU-b\",modelName=\"Some New GPU\",Hostname=\"n1\","
            + "container=\"\",namespace=\"\",pod=\"\"}";
    StringBuilder text = new StringBuilder();
    for (String l : List.of(a, b)) {
      text.append("DCGM_FI_DEV_GPU_UTIL")
          .append(l)
          .append(" 80\n")
          .append("DCGM_FI_DEV_FB_USED")
          .append(l)
          .append(" 1000\n")
          .append("DCGM_FI_DEV_FB_FREE")
          .append(l)
          .append(" 1000\n")
          .append("DCGM_FI_DEV_GPU_TEMP")
          .append(l)
          .append(" 50\n");
    }
    text.append("DCGM_FI_DEV_POWER_USAGE").append(a).append(" 300\n");
    text.append("DCGM_FI_DEV_POWER_USAGE").append(b).append(" NaN\n");
    DcgmMapping.Result r = mapping.map(PromText.parse(text, 4096), target(Map.of()), AT);
    assertEquals(1, r.samples().size());
    assertEquals("llama-3.1-70b-instruct", r.samples().get(0).get("model").asText());
    assertEquals("H100-SXM-80GB", r.samples().get(0).get("gpu_model").asText());
    assertEquals(
        List.of(new DcgmMapping.Problem("bad_value", "DCGM_FI_DEV_POWER_USAGE of GPU-b is NaN")),
        r.problems());
  }
}
