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

/** The discovery settings: sources.KIND.dns.*, sources.KIND.kubernetes.*, and their shared keys. */
class DiscoveryConfigTest {
  private static AppConfig config(Map<String, String> overrides) {
    return AppConfig.from(Settings.load(null, Map.of(), overrides));
  }

  private static String error(Map<String, String> overrides) {
    return assertThrows(ConfigException.class, () -> config(overrides)).getMessage();
  }

  @Test
  void noDiscoveryByDefaultAndTheInClusterApi() {
    AppConfig.Discovery d = config(Map.of()).sources().discovery();
    assertFalse(d.any());
    assertFalse(config(Map.of()).scrapes());
    assertEquals(Duration.ofSeconds(30), d.refresh());
    assertNull(d.dnsServer());
    assertNull(d.api().url());
    assertEquals(
        Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token"), d.api().tokenFile());
    assertEquals(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"), d.api().caFile());
  }

  @Test
  void dnsNamesWithTheirTemplate() {
    AppConfig c =
        config(
            Map.of(
                "sources.dcgm.dns.names", "a.example.internal, _m._tcp.b.example.internal.",
                "sources.dcgm.dns.type", "srv",
                "sources.dcgm.dns.port", "9401",
                "sources.dcgm.dns.template", "interval=15s|timeout=5s|tenant=acme",
                "sources.dns.server", "127.0.0.1:5353"));
    List<AppConfig.DnsDiscovery> dns = c.sources().discovery().dns();
    assertEquals(
        new AppConfig.DnsDiscovery(
            "dcgm",
            "a.example.internal",
            AppConfig.DnsType.SRV,
            9401,
            "http",
            "/metrics",
            new AppConfig.Template(
                Duration.ofSeconds(15), Duration.ofSeconds(5), Map.of("tenant", "acme"))),
        dns.get(0));
    assertEquals("_m._tcp.b.example.internal.", dns.get(1).name());
    assertEquals("dns:a.example.internal", dns.get(0).id());
    assertTrue(c.scrapes());
    assertEquals("127.0.0.1:5353", c.sources().discovery().dnsServer());
    assertEquals(Duration.ofSeconds(45), c.longestSampleGap(), "15 s x 3 intervals");
  }

  @Test
  void kubernetesNamespacesWithTheKindsDefaults() {
    AppConfig c =
        config(
            Map.of(
                "sources.dcgm.kubernetes.namespaces", "gpu-operator,gpu-b",
                "sources.kubernetes.api-url", "http://127.0.0.1:8001/"));
    List<AppConfig.PodDiscovery> k = c.sources().discovery().kubernetes();
    assertEquals(
        new AppConfig.PodDiscovery(
            "dcgm",
            "gpu-operator",
            "app=nvidia-dcgm-exporter",
            "metrics",
            "http",
            "/metrics",
            false,
            new AppConfig.Template(Duration.ofSeconds(30), Duration.ofSeconds(10), Map.of())),
        k.get(0));
    assertEquals("kubernetes:gpu-b", k.get(1).id());
    assertEquals("http://127.0.0.1:8001", c.sources().discovery().api().url());
    assertEquals(
        "9400",
        config(
                Map.of(
                    "sources.dcgm.kubernetes.namespaces", "gpu-operator",
                    "sources.dcgm.kubernetes.port", "9400"))
            .sources()
            .discovery()
            .kubernetes()
            .get(0)
            .port());
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    String ns = "sources.dcgm.kubernetes.namespaces";
    assertTrue(
        error(Map.of(ns, "GPU_Operator"))
            .contains(
                "'sources.dcgm.kubernetes.namespaces' (env"
                    + " GPUTEL_SOURCES_DCGM_KUBERNETES_NAMESPACES): expected Kubernetes namespace"
                    + " names, got 'GPU_Operator'"));
    assertTrue(error(Map.of(ns, "a,a")).contains("expected each namespace once"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.port", "Metrics_Port"))
            .contains("expected a container port's name or number"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.port", "70000"))
            .contains("expected a container port's name or number"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.scheme", "ftp"))
            .contains("expected http or https"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.path", "metrics"))
            .contains("expected a URL path such as /metrics"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.template", "interval"))
            .contains("expected key=value options separated by |"));
    assertTrue(
        error(Map.of(ns, "a", "sources.dcgm.kubernetes.template", "timeout=60s"))
            .contains("a timeout no longer than the interval"));
    String names = "sources.dcgm.dns.names";
    assertTrue(error(Map.of(names, "bad name")).contains("expected DNS names"));
    assertTrue(error(Map.of(names, "a.b,a.b")).contains("expected each name once"));
    assertTrue(error(Map.of(names, "a.b", "sources.dcgm.dns.type", "MX")).contains("one of a srv"));
    assertTrue(
        error(Map.of("sources.dns.server", "localhost"))
            .contains("expected HOST:PORT of a DNS server"));
    assertTrue(
        error(Map.of("sources.kubernetes.api-url", "kubernetes.default.svc"))
            .contains("expected the API server's http(s)://HOST[:PORT]"));
    assertTrue(error(Map.of("sources.discovery.refresh", "0s")).contains("a positive duration"));
  }
}
