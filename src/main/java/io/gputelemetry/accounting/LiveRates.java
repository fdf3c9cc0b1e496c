package io.gputelemetry.accounting;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The live estimates per model over a rolling event-time window: token and request rates, the cost
 * of the model's GPUs over the window, the energy they drew, and the ratios. GPU facts come from
 * the shared inventory (MongoDB), so every processor sees the same fleet; tokens come from the
 * events this processor stores (a model's events share one partition, so one processor sees all of
 * them). Estimates that depend on arrival order; the query API is authoritative.
 */
public final class LiveRates {
  /** A GPU as the inventory shows it. energyMj may be null. */
  public record GpuState(
      String gpuUuid,
      String model,
      String gpuModel,
      long firstSeen,
      long lastSeen,
      Long energyMj,
      double powerW) {}

  /** The live figures of one model. Ratios are NaN when the window holds no tokens. */
  public record Rates(
      double tokensPerSecond,
      double inputTokensPerSecond,
      double outputTokensPerSecond,
      double requestsPerSecond,
      double costUsd,
      double energyJ,
      double costPerToken,
      double energyPerToken,
      boolean unpriced,
      int gpus) {}

  private record Snapshot(long at, Long energyMj) {}

  private final long window;
  private final long allowedLateness;
  private final PriceBook prices;
  private final Map<String, TreeMap<Long, long[]>> buckets = new HashMap<>();
  private final Map<String, GpuState> gpus = new HashMap<>();
  private final Map<String, Deque<Snapshot>> snapshots = new HashMap<>();

  public LiveRates(long windowMillis, long allowedLatenessMillis, PriceBook prices) {
    this.window = windowMillis;
    this.allowedLateness = allowedLatenessMillis;
    this.prices = prices;
  }

  /** Counts a stored token event; true when it arrived later than the allowed lateness. */
  public boolean recordTokens(String model, long ts, long input, long output, long now) {
    return recordTokens(model, ts, input, output, 1, now);
  }

  /**
   * Counts stored tokens and requests (a request event, or a counter reading's difference to the
   * one before); true when they arrived later than the allowed lateness.
   */
  public synchronized boolean recordTokens(
      String model, long ts, long input, long output, long requests, long now) {
    boolean late = now - ts > allowedLateness;
    if (ts > now - window && ts <= now + allowedLateness) {
      long[] b =
          buckets
              .computeIfAbsent(model, m -> new TreeMap<>())
              .computeIfAbsent(ts / 1000, s -> new long[3]);
      b[0] += input;
      b[1] += output;
      b[2] += requests;
    }
    return late;
  }

  /** Replaces the fleet view with a fresh read of the inventory. */
  public synchronized void updateInventory(List<GpuState> states, long now) {
    gpus.clear();
    for (GpuState g : states) {
      gpus.put(g.gpuUuid(), g);
      Deque<Snapshot> d = snapshots.computeIfAbsent(g.gpuUuid(), k -> new ArrayDeque<>());
      d.addLast(new Snapshot(now, g.energyMj()));
      // Keep one snapshot at or before the window's start as the baseline.
      while (d.size() > 1 && d.stream().skip(1).findFirst().get().at() <= now - window) {
        d.removeFirst();
      }
    }
    snapshots.keySet().retainAll(gpus.keySet());
  }

  public synchronized String gpuModelOf(String gpuUuid) {
    GpuState g = gpus.get(gpuUuid);
    return g == null ? null : g.gpuModel();
  }

  public synchronized Set<String> models() {
    Set<String> m = new java.util.TreeSet<>(buckets.keySet());
    gpus.values()
        .forEach(
            g -> {
              if (g.model() != null) {
                m.add(g.model());
              }
            });
    return m;
  }

  /** The figures of a model with neither tokens nor GPUs in the window. */
  private static final Rates NONE = new Rates(0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN, false, 0);

  /** The live figures of one model (see {@link #all}, of which this is one entry). */
  public Rates rates(String model, long now) {
    return all(now).getOrDefault(model, NONE);
  }

  /**
   * The live figures of every model with tokens or GPUs, in one pass over the window's buckets and
   * the fleet: O(buckets + GPUs), whatever the number of models. The state is copied under the lock
   * (cheap); the pricing, the costly part, runs outside it, so that the threads recording tokens
   * never wait for it. Call it off the event loop for a large fleet.
   */
  public Map<String, Rates> all(long now) {
    long start = now - window;
    Map<String, double[]> tokens = new HashMap<>();
    List<GpuState> fleet;
    Map<String, Double> joulesPerMs = new HashMap<>();
    synchronized (this) {
      for (Map.Entry<String, TreeMap<Long, long[]>> e : buckets.entrySet()) {
        TreeMap<Long, long[]> b = e.getValue();
        b.headMap(start / 1000, true).clear();
        double[] sum = new double[3];
        for (long[] v : b.tailMap(start / 1000, false).headMap(now / 1000, true).values()) {
          sum[0] += v[0];
          sum[1] += v[1];
          sum[2] += v[2];
        }
        tokens.put(e.getKey(), sum);
      }
      // A model whose window emptied stops costing anything here.
      buckets.values().removeIf(TreeMap::isEmpty);
      fleet = new ArrayList<>(gpus.values());
      for (GpuState g : fleet) {
        joulesPerMs.put(g.gpuUuid(), counterRate(g));
      }
    }
    Map<String, double[]> fleetByModel = new HashMap<>();
    for (GpuState g : fleet) {
      if (g.model() == null) {
        continue;
      }
      long a = Math.max(start, g.firstSeen());
      long e = Math.min(now, g.lastSeen());
      double[] f = fleetByModel.computeIfAbsent(g.model(), m -> new double[4]);
      if (e <= a) {
        continue;
      }
      PriceBook.Integral i = prices.integrate(g.gpuModel(), a, e);
      Double rate = joulesPerMs.get(g.gpuUuid());
      f[0] += i.costUsd();
      f[1] += rate == null || rate.isNaN() ? g.powerW() * (e - a) / 1000.0 : rate * (e - a);
      f[2] += i.unpricedMillis() > 0 ? 1 : 0;
      f[3] += 1;
    }
    Map<String, Rates> out = new HashMap<>();
    double seconds = window / 1000.0;
    for (String model : union(tokens.keySet(), fleetByModel.keySet())) {
      double[] t = tokens.getOrDefault(model, new double[3]);
      double[] f = fleetByModel.getOrDefault(model, new double[4]);
      double sum = t[0] + t[1];
      int count = (int) f[3];
      out.put(
          model,
          new Rates(
              sum / seconds,
              t[0] / seconds,
              t[1] / seconds,
              t[2] / seconds,
              f[0],
              f[1],
              sum > 0 && count > 0 ? f[0] / sum : Double.NaN,
              sum > 0 && count > 0 ? f[1] / sum : Double.NaN,
              f[2] > 0,
              count));
    }
    return out;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  /**
   * Joules per millisecond from the GPU's energy counter, between its baseline and latest
   * snapshots; NaN when the counter cannot tell (then power x time is used).
   */
  private double counterRate(GpuState g) {
    Deque<Snapshot> d = snapshots.get(g.gpuUuid());
    if (g.energyMj() != null && d != null && d.size() > 1) {
      Snapshot base = d.peekFirst();
      Snapshot last = d.peekLast();
      if (base.energyMj() != null
          && last.energyMj() != null
          && last.energyMj() >= base.energyMj()
          && last.at() > base.at()) {
        return (last.energyMj() - base.energyMj()) / 1000.0 / (last.at() - base.at());
      }
    }
    return Double.NaN;
  }
}
