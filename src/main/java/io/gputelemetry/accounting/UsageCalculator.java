package io.gputelemetry.accounting;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Authoritative cost and energy from stored events, for any range and step. Pure and
 * order-independent: the same samples and token events give the same report, however often they
 * were replayed and however many processors stored them.
 *
 * <ul>
 *   <li>GPU time: a sample covers the time since its GPU's previous sample, at most maxGap; the
 *       first sample of a GPU covers nothing. Covered time is clipped to [from, to), split at step
 *       boundaries and at price changes; cost = hourly price in force x time.
 *   <li>Energy: the cumulative counter's delta spread evenly over the covered time; when the
 *       counter is missing, decreased (reset) or the gap was capped, power x time.
 *   <li>A GPU's time goes to the model its sample says it served; within a step and model, cost and
 *       energy go to tenants in proportion to their tokens; with no tokens (or no model), to idle.
 * </ul>
 */
public final class UsageCalculator {
  /** What a report is grouped by. */
  public enum GroupBy {
    MODEL,
    TENANT,
    GPU_MODEL
  }

  /** Token totals of one line or step. */
  public static final class Totals {
    public double inputTokens;
    public double outputTokens;
    public double requests;
    public double costUsd;
    public double energyJ;
    public double activeEnergyJ;
    public double gpuSeconds;
    public double unpricedGpuSeconds;

    /**
     * Tokens of models no GPU time was recorded for in their step: their cost is unknown, not zero.
     */
    public double unmeteredTokens;

    void add(Totals o) {
      inputTokens += o.inputTokens;
      outputTokens += o.outputTokens;
      requests += o.requests;
      costUsd += o.costUsd;
      energyJ += o.energyJ;
      activeEnergyJ += o.activeEnergyJ;
      gpuSeconds += o.gpuSeconds;
      unpricedGpuSeconds += o.unpricedGpuSeconds;
      unmeteredTokens += o.unmeteredTokens;
    }

    public double tokens() {
      return inputTokens + outputTokens;
    }

    /** A share of this cell's GPU side (cost, energy, time), without tokens. */
    Totals gpuShare(double share) {
      Totals t = new Totals();
      t.costUsd = costUsd * share;
      t.energyJ = energyJ * share;
      t.activeEnergyJ = activeEnergyJ * share;
      t.gpuSeconds = gpuSeconds * share;
      t.unpricedGpuSeconds = unpricedGpuSeconds * share;
      return t;
    }
  }

  /** The result: per group key, totals and a series by step; idle apart; fleet totals. */
  public record Report(
      long from,
      long to,
      long step,
      int steps,
      GroupBy groupBy,
      Map<String, Totals> groups,
      Map<String, Totals[]> groupSeries,
      Totals idle,
      Totals[] idleSeries,
      Totals fleet) {}

  private final long from;
  private final long to;
  private final long step;
  private final int steps;
  private final long maxGap;
  private final PriceBook prices;
  private final GpuProfiles profiles;

  /** (step, model, gpu model) -> GPU time, cost, energy. */
  private final Map<String, Totals> cells = new HashMap<>();

  /** (step, model) -> tenant -> tokens. */
  private final Map<String, Map<String, Totals>> tokens = new HashMap<>();

  private final List<UsageRows.Sample> samples = new ArrayList<>();

  /**
   * Start of each allocation slot: the union of step boundaries and the allocation grid in [from,
   * to).
   */
  private final long[] slots;

  /**
   * @param step step length in ms; 0 or at least to - from means one step
   * @param allocation allocation interval in ms (the grid tokens and GPU time are matched on)
   */
  public UsageCalculator(
      long from,
      long to,
      long step,
      long allocation,
      long maxGap,
      PriceBook prices,
      GpuProfiles profiles) {
    if (to <= from) {
      throw new IllegalArgumentException("to must be after from");
    }
    this.from = from;
    this.to = to;
    this.step = step <= 0 || step > to - from ? to - from : step;
    this.steps = (int) ((to - from + this.step - 1) / this.step);
    this.maxGap = maxGap;
    this.prices = prices;
    this.profiles = profiles;
    java.util.TreeSet<Long> b = new java.util.TreeSet<>();
    for (long t = from; t < to; t += this.step) {
      b.add(t);
    }
    for (long t = Math.floorDiv(from, allocation) * allocation + allocation;
        t < to;
        t += allocation) {
      b.add(t);
    }
    slots = b.stream().mapToLong(Long::longValue).toArray();
  }

  /** The allocation slot holding instant t (in [from, to)). */
  private int slotOf(long t) {
    int i = java.util.Arrays.binarySearch(slots, t);
    return i >= 0 ? i : -i - 2;
  }

  private long slotEnd(int slot) {
    return slot + 1 < slots.length ? slots[slot + 1] : to;
  }

  private int stepOfSlot(int slot) {
    return (int) ((slots[slot] - from) / step);
  }

  /**
   * Adds a stored sample; include samples from maxGap before {@code from} so the first ones have a
   * predecessor.
   */
  public synchronized void addSample(UsageRows.Sample s) {
    samples.add(s);
  }

  /** Adds a stored token event (ignored outside [from, to)). */
  public void addTokens(UsageRows.Tokens t) {
    addTokens(t.ts(), t.model(), t.tenant(), t.input(), t.output());
  }

  /** Adds a stored token event (ignored outside [from, to)). */
  public synchronized void addTokens(
      long ts, String model, String tenant, long input, long output) {
    if (ts < from || ts >= to) {
      return;
    }
    Totals t =
        tokens
            .computeIfAbsent(slotOf(ts) + "\u0000" + model, k -> new HashMap<>())
            .computeIfAbsent(tenant, k -> new Totals());
    t.inputTokens += input;
    t.outputTokens += output;
    t.requests += 1;
  }

  private void coverGpuTime() {
    samples.sort(
        Comparator.comparing(UsageRows.Sample::gpuUuid).thenComparingLong(UsageRows.Sample::ts));
    UsageRows.Sample prev = null;
    for (UsageRows.Sample s : samples) {
      if (prev == null || !prev.gpuUuid().equals(s.gpuUuid())) {
        prev = s;
        continue;
      }
      long gap = s.ts() - prev.ts();
      long a = Math.max(prev.ts(), s.ts() - maxGap);
      long b = s.ts();
      boolean capped = gap > maxGap;
      double joulesPerMs;
      if (!capped
          && gap > 0
          && s.energyMj() != null
          && prev.energyMj() != null
          && s.energyMj() >= prev.energyMj()) {
        joulesPerMs = (s.energyMj() - prev.energyMj()) / 1000.0 / gap;
      } else {
        joulesPerMs = s.powerW() / 1000.0;
      }
      cover(s, Math.max(a, from), Math.min(b, to), joulesPerMs);
      prev = s;
    }
  }

  private void cover(UsageRows.Sample s, long a, long b, double joulesPerMs) {
    if (b <= a) {
      return;
    }
    GpuProfiles.Profile profile = profiles == null ? null : profiles.get(s.gpuModel());
    double idleW = profile == null ? 0 : profile.idlePowerW();
    String model = s.model() == null ? "" : s.model();
    long start = a;
    while (start < b) {
      int st = slotOf(start);
      long stepEnd = Math.min(b, slotEnd(st));
      PriceBook.Integral cost = prices.integrate(s.gpuModel(), start, stepEnd);
      long ms = stepEnd - start;
      Totals c =
          cells.computeIfAbsent(st + "\u0000" + model + "\u0000" + s.gpuModel(), k -> new Totals());
      c.gpuSeconds += ms / 1000.0;
      c.costUsd += cost.costUsd();
      c.unpricedGpuSeconds += cost.unpricedMillis() / 1000.0;
      double j = joulesPerMs * ms;
      c.energyJ += j;
      c.activeEnergyJ += Math.max(0, j - idleW * ms / 1000.0);
      start = stepEnd;
    }
  }

  public synchronized Report report(GroupBy groupBy) {
    coverGpuTime();
    Map<String, Totals> groups = new TreeMap<>();
    Map<String, Totals[]> series = new TreeMap<>();
    Totals idle = new Totals();
    Totals[] idleSeries = newSeries();
    Totals fleet = new Totals();
    // Cells by (step, model).
    Map<String, Map<String, Totals>> byStepModel = new HashMap<>();
    cells.forEach(
        (k, c) -> {
          String[] p = k.split("\u0000", -1);
          byStepModel.computeIfAbsent(p[0] + "\u0000" + p[1], x -> new HashMap<>()).put(p[2], c);
          fleet.costUsd += c.costUsd;
          fleet.energyJ += c.energyJ;
          fleet.activeEnergyJ += c.activeEnergyJ;
          fleet.gpuSeconds += c.gpuSeconds;
          fleet.unpricedGpuSeconds += c.unpricedGpuSeconds;
        });
    java.util.Set<String> keys = new java.util.HashSet<>(byStepModel.keySet());
    keys.addAll(tokens.keySet());
    for (String sm : keys) {
      String[] p = sm.split("\u0000", -1);
      int st = stepOfSlot(Integer.parseInt(p[0]));
      String model = p[1];
      Map<String, Totals> gpuCells = byStepModel.getOrDefault(sm, Map.of());
      // From here on st is the output step of this allocation slot.
      Map<String, Totals> tenants = tokens.getOrDefault(sm, Map.of());
      double total = tenants.values().stream().mapToDouble(Totals::tokens).sum();
      double gpuSecs = gpuCells.values().stream().mapToDouble(c -> c.gpuSeconds).sum();
      if (total <= 0 || model.isEmpty()) {
        gpuCells.values().forEach(c -> addShare(idle, idleSeries, st, c, 1.0));
        // Requests that carry no tokens still count, even though they carry no cost.
        tenants.forEach(
            (tenant, t) ->
                allocateTokensOnly(
                    groups, series, groupBy, st, model, tenant, t, gpuCells, gpuSecs));
        continue;
      }
      for (Map.Entry<String, Totals> te : tenants.entrySet()) {
        double share = te.getValue().tokens() / total;
        if (gpuCells.isEmpty()) {
          Totals line = new Totals();
          line.inputTokens = te.getValue().inputTokens;
          line.outputTokens = te.getValue().outputTokens;
          line.requests = te.getValue().requests;
          line.unmeteredTokens = te.getValue().tokens();
          put(groups, series, key(groupBy, model, te.getKey(), "unknown"), st, line);
          continue;
        }
        for (Map.Entry<String, Totals> ce : gpuCells.entrySet()) {
          Totals c = ce.getValue();
          Totals line = c.gpuShare(share);
          // Tokens are split across GPU models only when grouping by GPU model.
          double tokenShare =
              groupBy == GroupBy.GPU_MODEL ? (gpuSecs > 0 ? c.gpuSeconds / gpuSecs : 0) : 0;
          if (groupBy == GroupBy.GPU_MODEL) {
            line.inputTokens = te.getValue().inputTokens * tokenShare;
            line.outputTokens = te.getValue().outputTokens * tokenShare;
            line.requests = te.getValue().requests * tokenShare;
          }
          put(groups, series, key(groupBy, model, te.getKey(), ce.getKey()), st, line);
        }
        if (groupBy != GroupBy.GPU_MODEL) {
          Totals tok = new Totals();
          tok.inputTokens = te.getValue().inputTokens;
          tok.outputTokens = te.getValue().outputTokens;
          tok.requests = te.getValue().requests;
          put(groups, series, key(groupBy, model, te.getKey(), ""), st, tok);
        }
      }
    }
    groups
        .values()
        .forEach(
            g -> {
              fleet.inputTokens += g.inputTokens;
              fleet.outputTokens += g.outputTokens;
              fleet.requests += g.requests;
              fleet.unmeteredTokens += g.unmeteredTokens;
            });
    return new Report(from, to, step, steps, groupBy, groups, series, idle, idleSeries, fleet);
  }

  private void allocateTokensOnly(
      Map<String, Totals> groups,
      Map<String, Totals[]> series,
      GroupBy groupBy,
      int st,
      String model,
      String tenant,
      Totals t,
      Map<String, Totals> gpuCells,
      double gpuSecs) {
    Totals line = new Totals();
    line.requests = t.requests;
    if (groupBy == GroupBy.GPU_MODEL && !gpuCells.isEmpty()) {
      for (Map.Entry<String, Totals> ce : gpuCells.entrySet()) {
        Totals l = new Totals();
        l.requests = t.requests * (gpuSecs > 0 ? ce.getValue().gpuSeconds / gpuSecs : 0);
        put(groups, series, ce.getKey(), st, l);
      }
      return;
    }
    put(groups, series, key(groupBy, model, tenant, "unknown"), st, line);
  }

  private static String key(GroupBy g, String model, String tenant, String gpuModel) {
    switch (g) {
      case MODEL:
        return model;
      case TENANT:
        return tenant;
      default:
        return gpuModel.isEmpty() ? "unknown" : gpuModel;
    }
  }

  private void put(
      Map<String, Totals> groups, Map<String, Totals[]> series, String key, int st, Totals line) {
    groups.computeIfAbsent(key, k -> new Totals()).add(line);
    Totals[] s = series.computeIfAbsent(key, k -> newSeries());
    s[st].add(line);
  }

  private void addShare(Totals idle, Totals[] idleSeries, int st, Totals c, double share) {
    Totals line = c.gpuShare(share);
    idle.add(line);
    idleSeries[st].add(line);
  }

  private Totals[] newSeries() {
    Totals[] s = new Totals[steps];
    for (int i = 0; i < steps; i++) {
      s[i] = new Totals();
    }
    return s;
  }
}
