package io.gputelemetry.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MeterFiltersTest {
  private final PrometheusMeterRegistry registry = filtered();

  private static PrometheusMeterRegistry filtered() {
    PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MeterFilters.install(r);
    return r;
  }

  /** The {@code le} values of a family's bucket lines in the text format, in order. */
  private List<String> le(String family) {
    List<String> out = new ArrayList<>();
    for (String line : registry.scrape().split("\n", -1)) {
      if (line.startsWith(family + "_bucket{")) {
        int at = line.indexOf("le=\"") + 4;
        out.add(line.substring(at, line.indexOf('"', at)));
      }
    }
    return out;
  }

  @Test
  void aTimerAskingForAPercentileHistogramGetsTheLatencyLadderInstead() {
    // What Vert.x's publishQuantiles option asks of every timer.
    Timer.builder("vertx.http.server.response.time")
        .tags("method", "GET", "code", "200")
        .publishPercentileHistogram()
        .register(registry)
        .record(Duration.ofMillis(40));
    List<String> le = le("vertx_http_server_response_time_seconds");
    assertEquals(
        List.of(
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
            "30.0", "60.0", "300.0", "+Inf"),
        le);
  }

  @Test
  void aTimerWithoutBucketsOfItsOwnGetsTheLatencyLadder() {
    Timer.builder("jvm.gc.pause").tags("gc", "G1").register(registry).record(Duration.ofMillis(3));
    assertEquals(MeterFilters.LATENCY_BUCKETS.size() + 1, le("jvm_gc_pause_seconds").size());
    assertTrue(le("jvm_gc_pause_seconds").contains("30.0"), "the freshness SLO's bucket");
  }

  @Test
  void aByteSizeSummaryGetsTheSizeLadder() {
    DistributionSummary.builder("vertx.http.server.request.bytes")
        .tags("method", "POST")
        .publishPercentileHistogram()
        .register(registry)
        .record(2_500);
    assertEquals(
        List.of("100.0", "1000.0", "10000.0", "100000.0", "1000000.0", "1.0E7", "+Inf"),
        le("vertx_http_server_request_bytes"));
  }

  @Test
  void aSummaryOfAnotherUnitStaysASummary() {
    DistributionSummary.builder("vertx.eventbus.things")
        .publishPercentileHistogram()
        .register(registry)
        .record(3);
    assertEquals(List.of(), le("vertx_eventbus_things"));
    assertTrue(registry.scrape().contains("# TYPE vertx_eventbus_things summary"));
  }

  @Test
  void aMeterNamingItsOwnBucketsKeepsThem() {
    Timer.builder("telemetry.thing.duration")
        .serviceLevelObjectives(Duration.ofSeconds(1), Duration.ofSeconds(2))
        .publishPercentileHistogram()
        .register(registry)
        .record(Duration.ofMillis(1500));
    assertEquals(List.of("1.0", "2.0", "+Inf"), le("telemetry_thing_duration_seconds"));
  }

  @Test
  void ourOwnTimersUseTheSameLadder() {
    Telemetry telemetry = new Telemetry("test", "0");
    MeterFilters.install(telemetry.registry());
    Timer endToEnd = telemetry.endToEnd("gpu.metrics.v1");
    endToEnd.record(1, TimeUnit.SECONDS);
    double[] bounds =
        Arrays.stream(endToEnd.takeSnapshot().histogramCounts())
            .mapToDouble(c -> c.bucket(TimeUnit.SECONDS))
            .toArray();
    double[] ladder =
        MeterFilters.LATENCY_BUCKETS.stream().mapToDouble(d -> d.toNanos() / 1e9).toArray();
    assertTrue(Arrays.equals(ladder, bounds), Arrays.toString(bounds));
    telemetry.close();
  }

  @Test
  void theGaugesVertxRegistersPerConnectionAndRequestAreNotRegistered() {
    AtomicLong open = new AtomicLong(3);
    for (int i = 0; i < 3; i++) {
      Gauge.builder("vertx.http.server.active.connections", open, AtomicLong::get)
          .register(registry);
      Gauge.builder("vertx.http.server.active.requests", open, AtomicLong::get)
          .tag("method", "GET")
          .register(registry);
    }
    assertNull(registry.find("vertx.http.server.active.connections").gauge());
    assertNull(registry.find("vertx.http.server.active.requests").gauge());
    assertEquals(List.of(), registry.getMeters(), "nothing kept that a re-registration could hit");
    // Other Vert.x gauges stay.
    Gauge.builder("vertx.pool.in.use", open, AtomicLong::get).register(registry);
    assertEquals(3.0, registry.get("vertx.pool.in.use").gauge().value());
  }

  @Test
  void anInventedHttpMethodIsOneOtherSeriesWhateverItsName() {
    for (String m : new String[] {"GET", "X".repeat(1000), "Y".repeat(1000), "get", "BREW"}) {
      registry.counter("vertx.http.server.requests", "method", m, "code", "200").increment();
    }
    assertEquals(
        1.0, registry.get("vertx.http.server.requests").tag("method", "GET").counter().count());
    assertEquals(
        4.0, registry.get("vertx.http.server.requests").tag("method", "OTHER").counter().count());
    assertEquals(2, registry.find("vertx.http.server.requests").counters().size());
    assertEquals("OTHER", MeterFilters.method(null));
    assertEquals("PATCH", MeterFilters.method("PATCH"));
  }

  @Test
  void withoutTheFiltersAPercentileHistogramHasDozensOfBuckets() {
    // The control: what the filters prevent, so that the tests above can fail.
    PrometheusMeterRegistry plain = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Timer t =
        Timer.builder("vertx.http.server.response.time")
            .publishPercentileHistogram()
            .register(plain);
    t.record(Duration.ofMillis(40));
    CountAtBucket[] buckets = t.takeSnapshot().histogramCounts();
    assertTrue(buckets.length > 60, "percentile histogram: " + buckets.length + " buckets");
  }
}
