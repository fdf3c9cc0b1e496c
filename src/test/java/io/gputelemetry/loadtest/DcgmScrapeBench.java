package io.gputelemetry.loadtest;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.source.DcgmMapping;
import io.gputelemetry.source.ModelMap;
import io.gputelemetry.source.PromText;
import io.gputelemetry.support.FixtureExporter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The CPU one DCGM scrape costs the producer once the bytes are in: parse (the hand-written
 * PromText, the hot path of every scrape), map, validate, for one answer of 8 GPUs (the fixture
 * exporter's). Run: {@code java -cp target/test-classes:target/gpu-telemetry.jar
 * io.gputelemetry.loadtest.DcgmScrapeBench [iterations]}.
 */
public final class DcgmScrapeBench {
  private DcgmScrapeBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    String body;
    try (FixtureExporter f = new FixtureExporter(0, 8)) {
      body = f.body(0, FixtureExporter.ENERGY_AT_START, false);
    }
    DcgmMapping mapping = new DcgmMapping(Map.of(), ModelMap.parse(List.of()), 3);
    EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));
    AppConfig.Target t =
        new AppConfig.Target(
            "dcgm",
            "http://127.0.0.1:9400/metrics",
            Duration.ofSeconds(30),
            Duration.ofSeconds(10),
            Map.of());
    var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long samples = 0;
    for (int round = 0; round < 2; round++) { // the first round warms the JIT up
      long cpu0 = bean.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        Instant now = Instant.now();
        DcgmMapping.Result r = mapping.map(PromText.parse(body, 65536), t, now);
        for (var s : r.samples()) {
          samples += parser.parse(EventType.GPU_SAMPLE, s, now, null).ok() ? 1 : 0;
        }
      }
      long cpu = bean.getCurrentThreadCpuTime() - cpu0;
      double perScrape = cpu / 1e3 / n;
      System.out.printf(
          "round %d: %d scrapes of %d bytes (8 GPUs): %.1f us CPU per scrape; 1000 targets every"
              + " 30 s = %.2f %% of a core%n",
          round, n, body.length(), perScrape, perScrape * 1000 / 30 / 1e6 * 100);
    }
    System.out.println(samples + " valid samples");
  }
}
