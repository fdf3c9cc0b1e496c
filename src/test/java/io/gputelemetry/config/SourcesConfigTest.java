package io.gputelemetry.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sources.*, auth.*, http.* limits and metrics.* caps sections, read from settings. */
class SourcesConfigTest {
  private static AppConfig config(Map<String, String> overrides) {
    return AppConfig.from(Settings.load(null, Map.of(), overrides));
  }

  private static String error(Map<String, String> overrides) {
    return assertThrows(ConfigException.class, () -> config(overrides)).getMessage();
  }

  private static final String TARGETS = "sources.dcgm.targets";

  @Test
  void targetsTakeTheKindsDefaultsAndTheirOwnIntervalTimeoutAndLabels() {
    AppConfig c =
        config(
            Map.of(
                TARGETS,
                " http://a:9400/metrics , ,https://b:9400/metrics|interval=10s|timeout=10s"
                    + "|node=n1|gpu_model=H100-SXM-80GB"));
    List<AppConfig.Target> t = c.sources().targets();
    assertEquals(2, t.size(), "blank entries are skipped");
    assertEquals(
        new AppConfig.Target(
            "dcgm",
            "http://a:9400/metrics",
            Duration.ofSeconds(30),
            Duration.ofSeconds(10),
            Map.of()),
        t.get(0));
    AppConfig.Target b = t.get(1);
    assertEquals("https://b:9400/metrics", b.url());
    assertEquals(Duration.ofSeconds(10), b.interval());
    assertEquals(Duration.ofSeconds(10), b.timeout(), "a timeout equal to the interval is allowed");
    assertEquals(List.of("node", "gpu_model"), List.copyOf(b.labels().keySet()), "in order");
    assertEquals("H100-SXM-80GB", b.labels().get("gpu_model"));
    assertThrows(UnsupportedOperationException.class, () -> b.labels().put("x", "y"));
    assertThrows(UnsupportedOperationException.class, () -> t.add(b));
  }

  @Test
  void noTargetsByDefault() {
    AppConfig c = config(Map.of());
    assertTrue(c.sources().targets().isEmpty());
    assertTrue(c.sources().gpuModels().isEmpty());
    assertTrue(c.sources().modelMap().isEmpty());
    assertEquals(16 * 1024 * 1024, c.sources().maxBodyBytes());
    assertEquals(65536, c.sources().maxLineChars());
    assertEquals(Duration.ofMinutes(10), c.sources().warnEvery());
  }

  @Test
  void badTargetsNameTheSettingAndTheEntry() {
    String env = "GPUTEL_SOURCES_DCGM_TARGETS";
    assertEquals(
        "setting 'sources.dcgm.targets' (env "
            + env
            + "): expected http:// or https:// URLs, got 'ftp://a/metrics'",
        error(Map.of(TARGETS, "ftp://a/metrics")));
    assertTrue(error(Map.of(TARGETS, "http:///metrics")).contains("http:// or https:// URLs"));
    assertTrue(error(Map.of(TARGETS, "http://a b/")).contains("http:// or https:// URLs"));
    assertTrue(
        error(Map.of(TARGETS, "http://a/m,http://a/m"))
            .contains("each URL once, got 'http://a/m'"));
    assertTrue(error(Map.of(TARGETS, "http://a/m|interval")).contains("URL|key=value entries"));
    assertTrue(error(Map.of(TARGETS, "http://a/m|=5s")).contains("URL|key=value entries"));
    assertTrue(error(Map.of(TARGETS, "http://a/m|node=")).contains("URL|key=value entries"));
    assertTrue(
        error(Map.of(TARGETS, "http://a/m|Node=x"))
            .contains("label names like node or gpu_model, got 'Node'"));
    assertTrue(
        error(Map.of(TARGETS, "http://a/m|interval=0s"))
            .contains("positive durations such as 15s, got '0s'"));
    assertTrue(
        error(Map.of(TARGETS, "http://a/m|timeout=soon"))
            .contains("positive durations such as 15s, got 'soon'"));
    assertTrue(
        error(Map.of(TARGETS, "http://a/m|interval=5s|timeout=6s"))
            .contains("a timeout no longer than the interval"));
  }

  @Test
  void gpuModelPairsMayHoldSpacesAndEqualsSignsInTheirName() {
    AppConfig c =
        config(
            Map.of(
                "sources.dcgm.gpu-models",
                "NVIDIA H100 80GB HBM3=H100-SXM-80GB, ,A=B=c-1",
                "sources.model-map",
                "ns/vllm-.*=llama-3-70b"));
    assertEquals(
        Map.of("NVIDIA H100 80GB HBM3", "H100-SXM-80GB", "A=B", "c-1"), c.sources().gpuModels());
    assertEquals(List.of("ns/vllm-.*=llama-3-70b"), c.sources().modelMap());
    for (String bad : List.of("=x", "x=", "x", " =y")) {
      assertTrue(
          error(Map.of("sources.dcgm.gpu-models", bad))
              .contains("comma-separated NAME=VALUE entries"),
          bad);
    }
  }

  @Test
  void theLongestSampleGapIsTheLongestIntervalTimesTheGapMultipleAtLeastTheFixedMaximum() {
    // Simulator 1 s x 3 = 3 s: the fixed maximum (3 s) holds.
    assertEquals(Duration.ofSeconds(3), config(Map.of()).longestSampleGap());
    // A 30 s target: 90 s.
    assertEquals(
        Duration.ofSeconds(90),
        config(
                Map.of(
                    TARGETS,
                    "http://a/m|interval=30s|timeout=5s,http://b/m|interval=5s|timeout=2s"))
            .longestSampleGap());
    // The simulator's interval counts too: 2 s x 3 = 6 s beyond a 4 s maximum.
    assertEquals(
        Duration.ofSeconds(6),
        config(Map.of("simulator.sample-interval", "2s", "accounting.max-sample-gap", "4s"))
            .longestSampleGap());
    // The fixed maximum wins when it is longer.
    assertEquals(
        Duration.ofSeconds(120),
        config(Map.of(TARGETS, "http://a/m", "accounting.max-sample-gap", "2m"))
            .longestSampleGap());
    // Exactly equal: either.
    assertEquals(
        Duration.ofSeconds(90),
        config(Map.of(TARGETS, "http://a/m", "accounting.max-sample-gap", "90s"))
            .longestSampleGap());
  }

  @Test
  void accessLimitsAndCapsAreReadFromTheirSettings() {
    AppConfig d = config(Map.of());
    assertNull(d.auth().keysFile());
    assertEquals(List.of(), d.auth().anonymousScopes());
    assertTrue(d.auth().tenantLabels());
    assertEquals(
        new AppConfig.Connections(
            Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(30), 2000),
        d.connections());
    assertEquals(5000, d.metricLabels().maxGpus());
    assertEquals(1000, d.metricLabels().maxNodes());
    assertEquals(100, d.metricLabels().maxGpuModels());
    assertEquals(500, d.metricLabels().maxModels());
    assertEquals(1000, d.metricLabels().maxTenants());
    assertEquals(5000, d.metricLabels().maxModelTenants());
    assertEquals(20000, d.api().maxCells());
    assertEquals(Duration.ofDays(31), d.api().maxRange());
    assertEquals(3, d.accounting().sampleGapIntervals());
    assertEquals(Duration.ofSeconds(3), d.accounting().maxSampleGap());
    assertEquals(new AppConfig.Events(Duration.ofMinutes(5), Duration.ofDays(7)), d.events());
    assertNull(d.dataDir(), "no data directory unless set");
    assertEquals(Path.of("/var/lib/gt"), config(Map.of("data-dir", "/var/lib/gt")).dataDir());
    AppConfig c =
        config(
            Map.of(
                "auth.keys-file", "/etc/keys/keys",
                "auth.anonymous-scopes", "metrics,read",
                "metrics.tenant-labels", "false",
                "http.max-connections", "7",
                "metrics.max-models", "3"));
    assertEquals(Path.of("/etc/keys/keys"), c.auth().keysFile());
    assertEquals(List.of("metrics", "read"), c.auth().anonymousScopes());
    assertFalse(c.auth().tenantLabels());
    assertEquals(7, c.connections().maxConnections());
    assertEquals(3, c.metricLabels().maxModels());
  }
}
