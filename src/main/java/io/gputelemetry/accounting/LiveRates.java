package io.gputelemetry.accounting;

import java.util.ArrayDeque;
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
  public synchronized boolean recordTokens(
      String model, long ts, long input, long output, long now) {
    boolean late = now - ts > allowedLateness;
    if (ts > now - window && ts <= now + allowedLateness) {
      long[] b =
          buckets
              .computeIfAbsent(model, m -> new TreeMap<>())
              .computeIfAbsent(ts / 1000, s -> new long[3]);
      b[0] += input;
      b[1] += output;
      b[2] += 1;
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

  public synchronized Rates rates(String model, long now) {
    long start = now - window;
    double in = 0;
    double out = 0;
    double req = 0;
    TreeMap<Long, long[]> b = buckets.get(model);
    if (b != null) {
      b.headMap(start / 1000, true).clear();
      for (long[] v : b.tailMap(start / 1000, false).headMap(now / 1000, true).values()) {
        in += v[0];
        out += v[1];
        req += v[2];
      }
    }
    double cost = 0;
    double energy = 0;
    boolean unpriced = false;
    int count = 0;
    for (GpuState g : gpus.values()) {
      if (!model.equals(g.model())) {
        continue;
      }
      long a = Math.max(start, g.firstSeen());
      long e = Math.min(now, g.lastSeen());
      if (e <= a) {
        continue;
      }
      count++;
      PriceBook.Integral i = prices.integrate(g.gpuModel(), a, e);
      cost += i.costUsd();
      unpriced |= i.unpricedMillis() > 0;
      energy += energy(g, a, e);
    }
    double seconds = window / 1000.0;
    double tokens = in + out;
    return new Rates(
        tokens / seconds,
        in / seconds,
        out / seconds,
        req / seconds,
        cost,
        energy,
        tokens > 0 && count > 0 ? cost / tokens : Double.NaN,
        tokens > 0 && count > 0 ? energy / tokens : Double.NaN,
        unpriced,
        count);
  }

  /**
   * Joules over [a, e): the counter's rate between the baseline and latest snapshots, else power x
   * time.
   */
  private double energy(GpuState g, long a, long e) {
    Deque<Snapshot> d = snapshots.get(g.gpuUuid());
    if (g.energyMj() != null && d != null && d.size() > 1) {
      Snapshot base = d.peekFirst();
      Snapshot last = d.peekLast();
      if (base.energyMj() != null
          && last.energyMj() != null
          && last.energyMj() >= base.energyMj()
          && last.at() > base.at()) {
        double joulesPerMs = (last.energyMj() - base.energyMj()) / 1000.0 / (last.at() - base.at());
        return joulesPerMs * (e - a);
      }
    }
    return g.powerW() * (e - a) / 1000.0;
  }
}
