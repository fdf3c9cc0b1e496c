package io.gputelemetry.source;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Latency quantiles per model over a rolling window, from the cumulative histograms inference
 * servers expose: each scrape's increase per bucket (a bucket that decreased means the server
 * restarted: its counts start from 0), summed over the window and over every target serving the
 * model, then interpolated within the bucket as Prometheus' histogram_quantile does. Memory is
 * bounded by targets x models x scrapes per window.
 */
public final class LatencyWindow {
  private record Increase(long at, TreeMap<Double, Double> buckets) {}

  private final long windowMillis;
  private final int maxModelsPerTarget;
  private final Map<String, TreeMap<Double, Double>> last = new HashMap<>();
  private final Map<String, Integer> modelsPerTarget = new HashMap<>();
  private final Map<String, Deque<Increase>> window = new HashMap<>();

  public LatencyWindow(long windowMillis, int maxModelsPerTarget) {
    this.windowMillis = windowMillis;
    this.maxModelsPerTarget = maxModelsPerTarget;
  }

  /**
   * Adds one scrape's cumulative histogram of a model's latency at a target. The first one of a
   * target is a baseline: what it counted before is not in the window. False when the target
   * already reported more models than allowed (the histogram is ignored).
   */
  public synchronized boolean observe(
      String target,
      String model,
      String latency,
      NavigableMap<Double, Double> cumulative,
      long now) {
    String key = target + '\n' + model + '\n' + latency;
    TreeMap<Double, Double> before = last.get(key);
    if (before == null) {
      int n = modelsPerTarget.getOrDefault(target + '\n' + latency, 0);
      if (n >= maxModelsPerTarget) {
        return false;
      }
      modelsPerTarget.put(target + '\n' + latency, n + 1);
    }
    last.put(key, new TreeMap<>(cumulative));
    if (before != null) {
      TreeMap<Double, Double> inc = new TreeMap<>();
      boolean reset = false;
      for (Map.Entry<Double, Double> b : cumulative.entrySet()) {
        Double prev = before.get(b.getKey());
        if (prev == null || b.getValue() < prev) {
          reset = true;
          break;
        }
        inc.put(b.getKey(), b.getValue() - prev);
      }
      window
          .computeIfAbsent(model + '\n' + latency, k -> new ArrayDeque<>())
          .addLast(new Increase(now, reset ? new TreeMap<>(cumulative) : inc));
    }
    expire(now);
    return true;
  }

  /** The q-quantile (0..1) of a model's latency over the window, NaN when nothing was observed. */
  public synchronized double quantile(String model, String latency, double q, long now) {
    expire(now);
    Deque<Increase> d = window.get(model + '\n' + latency);
    if (d == null) {
      return Double.NaN;
    }
    TreeMap<Double, Double> sum = new TreeMap<>();
    d.forEach(i -> i.buckets().forEach((le, c) -> sum.merge(le, c, Double::sum)));
    return quantile(sum, q);
  }

  /** histogram_quantile over cumulative buckets (the last one +Inf). */
  static double quantile(NavigableMap<Double, Double> cumulative, double q) {
    if (cumulative.isEmpty()) {
      return Double.NaN;
    }
    double total = cumulative.lastEntry().getValue();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerBound = 0;
    double lowerCount = 0;
    for (Map.Entry<Double, Double> b : cumulative.entrySet()) {
      if (b.getValue() >= rank) {
        if (Double.isInfinite(b.getKey())) {
          return lowerBound;
        }
        double inBucket = b.getValue() - lowerCount;
        return inBucket <= 0
            ? b.getKey()
            : lowerBound + (b.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = b.getKey();
      lowerCount = b.getValue();
    }
    return lowerBound;
  }

  private void expire(long now) {
    window
        .values()
        .forEach(
            d -> {
              while (!d.isEmpty() && d.peekFirst().at() <= now - windowMillis) {
                d.removeFirst();
              }
            });
  }
}
