package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LatencyWindowTest {
  private static TreeMap<Double, Double> ttft(double k) {
    // NIM's real histogram (nim-llama-3.1-8b-instruct.prom), times k.
    TreeMap<Double, Double> h = new TreeMap<>();
    h.putAll(Map.of(0.01, 0.0, 0.02, 2.0, 0.04, 4.0, 0.5, 4.0, 0.75, 5.0, 1.0, 5.0));
    h.put(Double.POSITIVE_INFINITY, 5.0);
    h.replaceAll((le, c) -> c * k);
    return h;
  }

  @Test
  void quantilesInterpolateWithinTheBucketAsPrometheusDoes() {
    // 5 requests: 2 in (0.01, 0.02], 2 in (0.02, 0.04], 1 in (0.5, 0.75].
    assertEquals(0.025, LatencyWindow.quantile(ttft(1), 0.5), 1e-12, "0.02 + 0.02 x 0.5/2");
    assertEquals(0.625, LatencyWindow.quantile(ttft(1), 0.9), 1e-12, "0.5 + 0.25 x 0.5/1");
    assertEquals(0.7375, LatencyWindow.quantile(ttft(1), 0.99), 1e-12, "0.5 + 0.25 x 0.95");
  }

  @Test
  void theWindowHoldsTheIncreasesOfItsScrapesOnlyAndARestartCountsFromZero() {
    LatencyWindow w = new LatencyWindow(60_000, 10);
    assertTrue(w.observe("t", "m", "ttft", ttft(10), 0));
    assertTrue(Double.isNaN(w.quantile("m", "ttft", 0.5, 0)), "the first scrape is a baseline");
    w.observe("t", "m", "ttft", ttft(11), 10_000);
    assertEquals(0.025, w.quantile("m", "ttft", 0.5, 10_000), 1e-12);
    // The server restarted: its histogram is back at one round of counts.
    w.observe("t", "m", "ttft", ttft(1), 20_000);
    assertEquals(0.025, w.quantile("m", "ttft", 0.5, 20_000), 1e-12, "2 rounds, same shape");
    assertTrue(Double.isNaN(w.quantile("m", "ttft", 0.5, 90_000)), "all past the window");
    assertFalse(new LatencyWindow(60_000, 0).observe("t", "m", "ttft", ttft(1), 0), "cap");
  }
}
