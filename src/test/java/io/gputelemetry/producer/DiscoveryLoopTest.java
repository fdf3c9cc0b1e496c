package io.gputelemetry.producer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.discovery.Discovery;
import io.gputelemetry.discovery.DiscoveryException;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The refresh loop: appearing targets are found, vanished ones lost, and a failing discovery loses
 * none of the targets it had (they keep being scraped) while its failures are counted.
 */
class DiscoveryLoopTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static AppConfig.Target target(String ip) {
    return new AppConfig.Target(
        "dcgm",
        "http://" + ip + ":9400/metrics",
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        Map.of());
  }

  /** Answers what the test set last, or fails with it. */
  private static final class Scripted implements Discovery {
    volatile Future<List<AppConfig.Target>> next = Future.succeededFuture(List.of());
    volatile int refreshes;

    @Override
    public String kind() {
      return "dcgm";
    }

    @Override
    public String id() {
      return "dns:dcgm.example.internal";
    }

    @Override
    public Future<List<AppConfig.Target>> refresh() {
      refreshes++;
      return next;
    }
  }

  @Test
  void targetsComeAndGoAndAFailureKeepsThem() {
    Scripted d = new Scripted();
    List<String> events = new CopyOnWriteArrayList<>();
    Telemetry telemetry = new Telemetry("test", "0");
    d.next = Future.succeededFuture(List.of(target("10.0.0.5"), target("10.0.0.6")));
    DiscoveryLoop loop =
        new DiscoveryLoop(
            vertx,
            List.of(d),
            Duration.ofMillis(50),
            Duration.ofMinutes(10),
            telemetry.sources(),
            new DiscoveryLoop.Listener() {
              @Override
              public void found(String owner, AppConfig.Target t) {
                events.add("+" + t.url());
              }

              @Override
              public void lost(String owner, AppConfig.Target t) {
                events.add("-" + t.url());
              }
            });
    vertx.runOnContext(v -> loop.start());
    await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
    assertEquals(List.of("+http://10.0.0.5:9400/metrics", "+http://10.0.0.6:9400/metrics"), events);

    // The API or DNS server fails: nothing is lost, each failure counted.
    d.next = Future.failedFuture(new DiscoveryException("dns", "DNS query: SERVFAIL"));
    int before = d.refreshes;
    await().atMost(Duration.ofSeconds(10)).until(() -> d.refreshes >= before + 3);
    assertEquals(2, events.size());

    // Back, with one record changed: one lost, one found.
    d.next = Future.succeededFuture(List.of(target("10.0.0.6"), target("10.0.0.7")));
    await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 4);
    assertEquals(
        List.of("-http://10.0.0.5:9400/metrics", "+http://10.0.0.7:9400/metrics"),
        events.subList(2, 4));
    String metrics = telemetry.registry().scrape();
    assertEquals(
        true,
        metrics.contains(
            "telemetry_source_discovery_targets{discovery=\"dns:dcgm.example.internal\",source=\"dcgm\"}"
                + " 2.0"),
        metrics);
  }
}
