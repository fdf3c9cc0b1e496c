package io.gputelemetry.web;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.HttpServerGauges;
import io.gputelemetry.metrics.MeterFilters;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.GZIPOutputStream;

/**
 * The figures of docs/performance.md, "Scrape size and liveness" (run by scripts/scrape-bench.sh):
 *
 * <ol>
 *   <li>the scrape of a 1,000-GPU, 50-model fleet (our meters and the JVM's; a process adds
 *       Vert.x's HTTP and pool meters, about 150 lines);
 *   <li>the largest registry the default caps allow (5,000 GPUs, 500 models, 1,000 tenants, 5,000
 *       model-tenant pairs, 100 GPU models), served by the real HTTP server: the scrape's size and
 *       time, and /health/live's latency while scrapes run back to back.
 * </ol>
 */
public final class ScrapeBench {
  private static final Instant NOW = Instant.now();
  private static final EventParser PARSER =
      new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private ScrapeBench() {}

  public static void main(String[] args) throws Exception {
    Telemetry fleet = registry(1_000, 125, 50, 20, 10);
    report("1,000 GPUs, 50 models, 20 tenants", fleet);
    fleet.close();

    Telemetry.Caps caps = Telemetry.Caps.DEFAULTS;
    Telemetry largest =
        registry(caps.gpus(), caps.nodes(), caps.models(), caps.tenants(), caps.gpuModels());
    report("largest allowed (default caps)", largest);
    liveness(largest);
    largest.close();
  }

  /**
   * A registry filled as a processor's would be: each GPU's sample, tokens of every model from
   * tenants in turn (one pair per model and tenant index, up to the pair cap), live gauges per
   * model.
   */
  private static Telemetry registry(int gpus, int nodes, int models, int tenants, int gpuModels) {
    Telemetry t = new Telemetry("bench", "0");
    MeterFilters.install(t.registry());
    t.bindStandardMeters(() -> true);
    for (int i = 0; i < gpus; i++) {
      t.gpuSample(
          sample(
              String.format("GPU-%08d-0000-4000-8000-000000000000", i),
              "gpu-node-" + (i % nodes),
              "GPU-MODEL-" + (i % gpuModels),
              i % 8));
    }
    int pairs = Math.min(Telemetry.Caps.DEFAULTS.modelTenants(), models * tenants);
    for (int p = 0; p < pairs; p++) {
      t.tokens("model-" + (p % models), "tenant-" + (p % tenants), 1000, 200, 3);
    }
    for (int m = 0; m < models; m++) {
      Telemetry.ModelRates r = new Telemetry.ModelRates(1234.5, 6.7, 1.2e-6, 0.35);
      t.modelRates("model-" + m, () -> r);
    }
    for (int g = 0; g < gpuModels; g++) {
      t.unpriced("GPU-MODEL-" + g);
    }
    return t;
  }

  private static Event sample(String uuid, String node, String gpuModel, int index) {
    String json =
        "{\"ts\":\""
            + NOW
            + "\",\"node\":\""
            + node
            + "\",\"gpu_uuid\":\""
            + uuid
            + "\",\"gpu_model\":\""
            + gpuModel
            + "\",\"gpu_index\":"
            + index
            + ",\"model\":\"model-1\",\"utilization_pct\":50,\"memory_used_mib\":61234,"
            + "\"memory_total_mib\":81559,\"power_w\":612.4,\"temperature_c\":71,"
            + "\"sm_clock_mhz\":1980,\"energy_mj\":123456789,\"xid_errors\":0}";
    ParseResult r =
        PARSER.parse(EventType.GPU_SAMPLE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
    if (!r.ok()) {
      throw new IllegalStateException(r.violations().toString());
    }
    return r.event();
  }

  private static void report(String what, Telemetry t) throws Exception {
    t.registry().scrape(); // counters show 0 on their first scrape; measure the steady state
    long t0 = System.nanoTime();
    String text = t.registry().scrape();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(bytes);
    }
    long lines = text.lines().filter(l -> !l.isEmpty() && !l.startsWith("#")).count();
    System.out.printf(
        "%-36s samples %,8d | text %,10d bytes | gzip %,9d bytes | scrape %d ms%n",
        what, lines, bytes.length, gz.size(), ms);
  }

  /** /health/live, probed back to back while scrapes of the registry run back to back. */
  private static void liveness(Telemetry t) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Vertx vertx = Vertx.vertx();
    HttpServerGauges gauges = new HttpServerGauges(t.registry());
    HttpServerVerticle.Limits limits =
        new HttpServerVerticle.Limits(
            new AppConfig.Connections(
                Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(30), 2000),
            t);
    int instances = Math.min(4, Runtime.getRuntime().availableProcessors());
    vertx
        .deployVerticle(
            () ->
                new HttpServerVerticle(
                    new AppConfig.Http("127.0.0.1", port, instances),
                    limits,
                    t,
                    gauges,
                    new Health(vertx),
                    new KeyRing(List.of(), Set.of()),
                    List.of()),
            new DeploymentOptions().setInstances(instances))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    HttpClient client = HttpClient.newHttpClient();
    URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");
    URI live = URI.create("http://127.0.0.1:" + port + "/health/live");
    AtomicBoolean scraping = new AtomicBoolean(true);
    List<Long> scrapeMs = Collections.synchronizedList(new ArrayList<>());
    Thread scraper =
        new Thread(
            () -> {
              while (scraping.get()) {
                long t0 = System.nanoTime();
                try {
                  client.send(
                      HttpRequest.newBuilder(metrics).build(),
                      HttpResponse.BodyHandlers.discarding());
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                scrapeMs.add((System.nanoTime() - t0) / 1_000_000);
              }
            });
    scraper.start();
    List<Long> liveMs = new ArrayList<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      client.send(HttpRequest.newBuilder(live).build(), HttpResponse.BodyHandlers.discarding());
      liveMs.add((System.nanoTime() - t0) / 1_000);
    }
    scraping.set(false);
    scraper.join();
    Collections.sort(liveMs);
    List<Long> sorted = new ArrayList<>(scrapeMs);
    Collections.sort(sorted);
    System.out.printf(
        "/health/live during %d scrapes (scrape median %d ms, max %d ms): %d probes, p50 %.1f ms,"
            + " p99 %.1f ms, max %.1f ms%n",
        sorted.size(),
        sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1),
        liveMs.size(),
        liveMs.get(liveMs.size() / 2) / 1000.0,
        liveMs.get((int) (liveMs.size() * 0.99)) / 1000.0,
        liveMs.get(liveMs.size() - 1) / 1000.0);
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
