package io.gputelemetry.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sources.nvidia-smi.*, sources.litellm.* and sources.cloudevents.* sections. */
class PushSettingsTest {
  private static AppConfig config(Map<String, String> overrides) {
    return AppConfig.from(Settings.load(null, Map.of(), overrides));
  }

  private static AppConfig.NvidiaSmi smi(String... kv) {
    Map<String, String> m = new HashMap<>();
    m.put("sources.nvidia-smi.enabled", "true");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return config(m).sources().nvidiaSmi();
  }

  private static void refused(String key, String expected, String... kv) {
    Map<String, String> m = new HashMap<>();
    m.put("sources.nvidia-smi.enabled", "true");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    String msg = assertThrows(ConfigException.class, () -> config(m)).getMessage();
    assertTrue(msg.contains("'" + key + "'") && msg.contains(expected), msg);
  }

  @Test
  void nvidiaSmiIsOffByDefaultAndOnWithItsDefaults() {
    assertNull(config(Map.of()).sources().nvidiaSmi());
    assertEquals(
        new AppConfig.NvidiaSmi(
            "nvidia-smi",
            Duration.ofSeconds(10),
            List.of(),
            null,
            null,
            Duration.ofSeconds(1),
            Duration.ofSeconds(60)),
        smi());
  }

  @Test
  void nvidiaSmiTakesEveryOneOfItsSettings() {
    assertEquals(
        new AppConfig.NvidiaSmi(
            "/usr/bin/nvidia-smi",
            Duration.ofMillis(100),
            List.of("-i", "0,1"),
            "gpu-node-01",
            "meta-llama/Llama-3.1-8B",
            Duration.ofSeconds(2),
            Duration.ofSeconds(2)),
        smi(
            "sources.nvidia-smi.path", "/usr/bin/nvidia-smi",
            "sources.nvidia-smi.interval", "100ms",
            "sources.nvidia-smi.extra-args", "  -i   0,1 ",
            "sources.nvidia-smi.node", "gpu-node-01",
            "sources.nvidia-smi.model", "meta-llama/Llama-3.1-8B",
            "sources.nvidia-smi.restart-backoff", "2s",
            "sources.nvidia-smi.max-restart-backoff", "2s"));
    assertEquals("m".repeat(256), smi("sources.nvidia-smi.model", "m".repeat(256)).model());
  }

  @Test
  void nvidiaSmiRefusesWhatWouldBreakTheChild() {
    refused("sources.nvidia-smi.interval", "at least 100ms", "sources.nvidia-smi.interval", "99ms");
    for (String a : new String[] {"--query-gpu=name", "--format=csv", "-lms", "-l"}) {
      refused(
          "sources.nvidia-smi.extra-args",
          "the source sets those",
          "sources.nvidia-smi.extra-args",
          "-i 0 " + a);
    }
    refused("sources.nvidia-smi.node", "a node name", "sources.nvidia-smi.node", "-not a node");
    refused(
        "sources.nvidia-smi.max-restart-backoff",
        "at least sources.nvidia-smi.restart-backoff",
        "sources.nvidia-smi.restart-backoff",
        "2s",
        "sources.nvidia-smi.max-restart-backoff",
        "1999ms");
    refused("sources.nvidia-smi.model", "an LLM name", "sources.nvidia-smi.model", "m".repeat(257));
    refused("sources.nvidia-smi.model", "an LLM name", "sources.nvidia-smi.model", "a\u0001b");
    refused("sources.nvidia-smi.model", "an LLM name", "sources.nvidia-smi.model", "a\u007fb");
  }

  @Test
  void liteLlmDefaultsReadTheTenantFromTheTeamFirst() {
    AppConfig.LiteLlm l = config(Map.of()).liteLlm();
    assertTrue(l.enabled());
    assertEquals("metadata.user_api_key_team_alias", l.tenantFrom().get(0));
    assertNull(l.defaultTenant());
    assertEquals(ZoneId.of("UTC"), l.naiveTimezone());
    assertEquals(Map.of(), l.deployments());
  }

  @Test
  void liteLlmDeploymentsMapAnApiBaseWithOrWithoutItsTrailingSlashToANodeAndGpu() {
    AppConfig.LiteLlm l =
        config(
                Map.of(
                    "sources.litellm.enabled", "false",
                    "sources.litellm.tenant-from", "end_user",
                    "sources.litellm.default-tenant", "shared",
                    "sources.litellm.naive-timezone", "Europe/Paris",
                    "sources.litellm.deployments",
                        "http://vllm-a:8000/v1/=gpu-node-01/GPU-1,http://vllm-b:8000=gpu-node-02"))
            .liteLlm();
    assertEquals(false, l.enabled());
    assertEquals(List.of("end_user"), l.tenantFrom());
    assertEquals("shared", l.defaultTenant());
    assertEquals(ZoneId.of("Europe/Paris"), l.naiveTimezone());
    assertEquals(
        new AppConfig.Deployment("gpu-node-01", "GPU-1"), l.deployment("http://vllm-a:8000/v1"));
    assertEquals(
        new AppConfig.Deployment("gpu-node-01", "GPU-1"), l.deployment("http://vllm-a:8000/v1//"));
    assertEquals(new AppConfig.Deployment("gpu-node-02", null), l.deployment("http://vllm-b:8000"));
    assertNull(l.deployment("http://elsewhere:8000"));
  }

  @Test
  void liteLlmRefusesBadTenantsZonesPathsAndDeployments() {
    for (String[] bad :
        new String[][] {
          {"sources.litellm.default-tenant", "team one", "a tenant name"},
          {"sources.litellm.naive-timezone", "Mars/Olympus", "a time zone"},
          {"sources.litellm.tenant-from", "metadata..team", "dotted field paths"},
          {"sources.litellm.deployments", "http://a:8000=-node", "API_BASE=NODE[/GPU_UUID]"},
          {"sources.litellm.deployments", "http://a:8000=node/-gpu", "API_BASE=NODE[/GPU_UUID]"}
        }) {
      String msg =
          assertThrows(ConfigException.class, () -> config(Map.of(bad[0], bad[1]))).getMessage();
      assertTrue(msg.contains("'" + bad[0] + "'") && msg.contains(bad[2]), msg);
    }
  }

  @Test
  void cloudEventsFieldsDefaultToOpenMetersExamplesAndRefuseABadPath() {
    assertEquals(
        new AppConfig.CloudEvents(
            "model",
            "provider",
            "tokens",
            "type",
            List.of("input", "prompt"),
            List.of("output", "completion"),
            "input_tokens",
            "output_tokens"),
        config(Map.of()).cloudEvents());
    assertEquals(
        "data.usage.model",
        config(Map.of("sources.cloudevents.model-field", "data.usage.model"))
            .cloudEvents()
            .modelField());
    String msg =
        assertThrows(
                ConfigException.class,
                () -> config(Map.of("sources.cloudevents.tokens-field", "usage tokens")))
            .getMessage();
    assertTrue(msg.contains("'sources.cloudevents.tokens-field'"), msg);
  }

  @Test
  void aModelNameMayHoldSpaces() {
    assertEquals("my model", smi("sources.nvidia-smi.model", "my model").model());
  }

  @Test
  void theNvidiaSmiIntervalCountsTowardsTheLongestGapASampleMayCover() {
    // 40 s samples, 3 intervals each: 120 s, beyond the simulator's and accounting.max-sample-gap.
    assertEquals(
        Duration.ofSeconds(120),
        config(Map.of("sources.nvidia-smi.enabled", "true", "sources.nvidia-smi.interval", "40s"))
            .longestSampleGap());
    // A discovered target's interval counts too: 50 s (the longest) x 3.
    assertEquals(
        Duration.ofSeconds(150),
        config(
                Map.of(
                    "sources.nvidia-smi.enabled", "true",
                    "sources.nvidia-smi.interval", "40s",
                    "sources.dcgm.dns.names", "dcgm.gpu.internal",
                    "sources.dcgm.dns.template", "interval=50s|timeout=5s"))
            .longestSampleGap());
  }

  @Test
  void otlpAndCounterReadingsSettingsHaveTheirDocumentedDefaults() {
    AppConfig c = config(Map.of());
    assertEquals(
        new AppConfig.Otlp(true, 10 * 1024 * 1024, List.of("tenant.id", "enduser.id")), c.otlp());
    assertEquals(Duration.ofHours(1), c.readingMaxGap());
    assertEquals(
        Duration.ofMinutes(10),
        config(Map.of("accounting.reading-max-gap", "10m")).readingMaxGap());
  }
}
