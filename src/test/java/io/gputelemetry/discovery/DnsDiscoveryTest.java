package io.gputelemetry.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.support.DnsServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsClientOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DNS discovery against a DNS server on a loopback port, over the real wire protocol. */
class DnsDiscoveryTest {
  private static final AppConfig.Template TEMPLATE =
      new AppConfig.Template(
          Duration.ofSeconds(15), Duration.ofSeconds(5), Map.of("tenant", "acme"));

  private Vertx vertx;
  private DnsServer server;
  private DnsClient client;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server = new DnsServer();
    String[] hp = server.address().split(":");
    client =
        vertx.createDnsClient(
            new DnsClientOptions()
                .setHost(hp[0])
                .setPort(Integer.parseInt(hp[1]))
                .setQueryTimeout(500));
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private DnsDiscovery discovery(String name, AppConfig.DnsType type) {
    return new DnsDiscovery(
        client, new AppConfig.DnsDiscovery("dcgm", name, type, 9400, "http", "/metrics", TEMPLATE));
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static List<String> urls(List<AppConfig.Target> targets) {
    return targets.stream().map(AppConfig.Target::url).toList();
  }

  @Test
  void everyAAndAaaaRecordIsATargetWithTheTemplatesSettings() throws Exception {
    server.a("dcgm.gpu.example.internal", "10.0.0.6", "10.0.0.5");
    server.aaaa("dcgm.gpu.example.internal", "fd00::5");
    List<AppConfig.Target> t =
        get(discovery("dcgm.gpu.example.internal", AppConfig.DnsType.A).refresh());
    assertEquals(
        List.of(
            "http://10.0.0.5:9400/metrics",
            "http://10.0.0.6:9400/metrics",
            "http://[fd00:0:0:0:0:0:0:5]:9400/metrics"),
        urls(t));
    AppConfig.Target first = t.get(0);
    assertEquals("dcgm", first.kind());
    assertEquals(Duration.ofSeconds(15), first.interval());
    assertEquals(Duration.ofSeconds(5), first.timeout());
    assertEquals(Map.of("tenant", "acme"), first.labels());
  }

  @Test
  void recordsThatChangeChangeTheTargetsAtTheNextRefresh() throws Exception {
    DnsDiscovery d = discovery("dcgm.gpu.example.internal", AppConfig.DnsType.A);
    server.a("dcgm.gpu.example.internal", "10.0.0.5", "10.0.0.6");
    assertEquals(2, get(d.refresh()).size());
    server.a("dcgm.gpu.example.internal", "10.0.0.6", "10.0.0.7");
    assertEquals(
        List.of("http://10.0.0.6:9400/metrics", "http://10.0.0.7:9400/metrics"),
        urls(get(d.refresh())));
  }

  @Test
  void srvRecordsGiveHostAndPortEach() throws Exception {
    server.srv(
        "_metrics._tcp.dcgm.example.internal",
        new DnsServer.Srv(10, 5, 9401, "gpu-node-02.example.internal"),
        new DnsServer.Srv(10, 5, 9400, "gpu-node-01.example.internal"));
    assertEquals(
        List.of(
            "http://gpu-node-01.example.internal:9400/metrics",
            "http://gpu-node-02.example.internal:9401/metrics"),
        urls(
            get(
                discovery("_metrics._tcp.dcgm.example.internal", AppConfig.DnsType.SRV)
                    .refresh())));
  }

  @Test
  void aNameThatDoesNotExistHasNoTargets() throws Exception {
    assertEquals(List.of(), get(discovery("gone.example.internal", AppConfig.DnsType.A).refresh()));
    assertEquals(
        List.of(),
        get(discovery("_x._tcp.gone.example.internal", AppConfig.DnsType.SRV).refresh()));
  }

  @Test
  void aServerFailureIsAFailureNamingTheName() throws Exception {
    server.a("dcgm.gpu.example.internal", "10.0.0.5");
    DnsDiscovery d = discovery("dcgm.gpu.example.internal", AppConfig.DnsType.A);
    server.mode(DnsServer.Mode.SERVFAIL);
    DiscoveryException e = failure(d);
    assertEquals("dns", e.reason());
    assertEquals(
        "DNS query for dcgm.gpu.example.internal: SERVFAIL: type 2, server failure",
        e.getMessage());
  }

  @Test
  void aServerThatDoesNotAnswerIsATimeout() throws Exception {
    server.a("dcgm.gpu.example.internal", "10.0.0.5");
    DnsDiscovery d = discovery("dcgm.gpu.example.internal", AppConfig.DnsType.A);
    server.mode(DnsServer.Mode.SILENT);
    DiscoveryException t = failure(d);
    assertEquals("timeout", t.reason(), t.getMessage());
  }

  private static DiscoveryException failure(DnsDiscovery d) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> get(d.refresh()));
    return assertInstanceOf(DiscoveryException.class, e.getCause());
  }
}
