package io.gputelemetry.accounting;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Authoritative cost and energy from stored events, for any range and step. Pure and
 * order-independent: the same samples and token events give the same report, however often they
 * were replayed and however many processors stored them, and however often it is asked.
 *
 * <ul>
 *   <li>GPU time: a sample covers the time since its GPU's previous sample, at most the gap it
 *       allows (its max_gap_s: its source's interval times accounting.sample-gap-intervals; the
 *       calculator's maxGap for a sample without one); the first sample of a GPU ever covers
 *       nothing. The time beyond the allowed gap is not billed but counted ({@link
 *       Totals#uncoveredGpuSeconds}, {@link Totals#sampleGaps}) in the fleet's totals. Samples of
 *       MIG instances cover nothing: their parent GPU's samples carry its time. Covered time is
 *       clipped to [from, to), split at step boundaries and at price changes; cost = hourly price
 *       in force x time.
 *   <li>Energy: the cumulative counter's delta spread evenly over the covered time; when the
 *       counter is missing, decreased (reset) or the gap was capped, power x time.
 *   <li>A GPU's time goes to the model its sample says it served; within an allocation slot and
 *       model, cost and energy go to tenants in proportion to their tokens; with no tokens (or no
 *       model), to idle.
 * </ul>
 */
public final class UsageCalculator {
  /**
   * The key, grouped by GPU model, of tokens and requests drawn on no GPU (unmetered): the empty
   * string, which the event schema forbids as a gpu_model (minLength 1), so it is no GPU model's.
   */
  public static final String NO_GPU_MODEL = "";

  /** What a report is grouped by. */
  public enum GroupBy {
    MODEL,
    TENANT,
    GPU_MODEL,
    /** Tenant and model: keys are {@link #tenantModelKey}. */
    TENANT_MODEL
  }

  /**
   * The key of a (tenant, model) line: the tenant, a line feed, the model. The event schema's
   * tenants hold no line feed, so the first one splits the key.
   */
  public static String tenantModelKey(String tenant, String model) {
    return tenant + '\n' + model;
  }

  /** The figures of one line or step. */
  public static final class Totals {
    private final double inputTokens;
    private final double outputTokens;
    private final double requests;
    private final double costUsd;
    private final double energyJ;
    private final double activeEnergyJ;
    private final double gpuSeconds;
    private final double unpricedGpuSeconds;
    private final double unmeteredTokens;
    private final double pricedTokens;
    private final double uncoveredGpuSeconds;
    private final long sampleGaps;

    private Totals(Acc a) {
      inputTokens = a.inputTokens;
      outputTokens = a.outputTokens;
      requests = a.requests;
      costUsd = a.costUsd;
      energyJ = a.energyJ;
      activeEnergyJ = a.activeEnergyJ;
      gpuSeconds = a.gpuSeconds;
      unpricedGpuSeconds = a.unpricedGpuSeconds;
      unmeteredTokens = a.unmeteredTokens;
      pricedTokens = a.pricedTokens;
      uncoveredGpuSeconds = a.uncoveredGpuSeconds;
      sampleGaps = a.sampleGaps;
    }

    /**
     * GPU time between samples that exceeded the gap the later sample allows: seen as running, not
     * billed (fleet totals only).
     */
    public double uncoveredGpuSeconds() {
      return uncoveredGpuSeconds;
    }

    /** How many such gaps ended in the range (fleet totals only). */
    public long sampleGaps() {
      return sampleGaps;
    }

    public double inputTokens() {
      return inputTokens;
    }

    public double outputTokens() {
      return outputTokens;
    }

    public double tokens() {
      return inputTokens + outputTokens;
    }

    public double requests() {
      return requests;
    }

    public double costUsd() {
      return costUsd;
    }

    public double energyJ() {
      return energyJ;
    }

    public double activeEnergyJ() {
      return activeEnergyJ;
    }

    public double gpuSeconds() {
      return gpuSeconds;
    }

    public double unpricedGpuSeconds() {
      return unpricedGpuSeconds;
    }

    /** Tokens of models no GPU time was recorded for in their slot: cost unknown, not zero. */
    public double unmeteredTokens() {
      return unmeteredTokens;
    }

    /** Tokens with GPU time in their slot: all tokens but the unmetered ones. */
    public double meteredTokens() {
      return tokens() - unmeteredTokens;
    }

    /**
     * Metered tokens whose GPU time had a price: each slot's tokens times the priced share of the
     * GPU-seconds they are allocated.
     */
    public double pricedTokens() {
      return pricedTokens;
    }

    /** Metered tokens drawn on GPU time without a price in force: their cost is unknown. */
    public double unpricedTokens() {
      return meteredTokens() - pricedTokens;
    }

    /** Cost / priced tokens x 10^6; null without priced tokens. */
    public Double costPer1mTokensUsd() {
      return pricedTokens > 0 ? costUsd / pricedTokens * 1e6 : null;
    }

    /** Energy / metered tokens; null without metered tokens. */
    public Double joulesPerToken() {
      return meteredTokens() > 0 ? energyJ / meteredTokens() : null;
    }

    /** Active energy / metered tokens; null without metered tokens. */
    public Double activeJoulesPerToken() {
      return meteredTokens() > 0 ? activeEnergyJ / meteredTokens() : null;
    }

    /** Metered tokens / energy; null without metered tokens or without energy. */
    public Double tokensPerJoule() {
      return meteredTokens() > 0 && energyJ > 0 ? meteredTokens() / energyJ : null;
    }
  }

  /** The range of a report and its steps. */
  public record Range(long from, long to, long step, int steps) {
    /** The start of step {@code i}. */
    public long stepStart(int i) {
      return from + i * step;
    }
  }

  /** One line of a report: its totals over the range, and per step. */
  public record Line(Totals total, List<Totals> series) {}

  /** The result: a line per group key, idle apart, and the fleet's totals. */
  public record Report(
      Range range, GroupBy groupBy, Map<String, Line> groups, Line idle, Totals fleet) {}

  /** An allocation slot and the model served in it. */
  private record SlotModel(int slot, String model) {}

  /** A running sum; frozen into {@link Totals}. */
  private static final class Acc {
    double inputTokens;
    double outputTokens;
    double requests;
    double costUsd;
    double energyJ;
    double activeEnergyJ;
    double gpuSeconds;
    double unpricedGpuSeconds;
    double unmeteredTokens;
    double pricedTokens;
    double pricedGpuSeconds;
    double uncoveredGpuSeconds;
    long sampleGaps;

    void add(Acc o) {
      inputTokens += o.inputTokens;
      outputTokens += o.outputTokens;
      requests += o.requests;
      costUsd += o.costUsd;
      energyJ += o.energyJ;
      activeEnergyJ += o.activeEnergyJ;
      gpuSeconds += o.gpuSeconds;
      unpricedGpuSeconds += o.unpricedGpuSeconds;
      unmeteredTokens += o.unmeteredTokens;
      pricedTokens += o.pricedTokens;
      pricedGpuSeconds += o.pricedGpuSeconds;
    }

    double tokens() {
      return inputTokens + outputTokens;
    }

    /** A share of this cell's GPU side (cost, energy, time), without tokens. */
    Acc gpuShare(double share) {
      Acc t = new Acc();
      t.costUsd = costUsd * share;
      t.energyJ = energyJ * share;
      t.activeEnergyJ = activeEnergyJ * share;
      t.gpuSeconds = gpuSeconds * share;
      t.unpricedGpuSeconds = unpricedGpuSeconds * share;
      t.pricedGpuSeconds = pricedGpuSeconds * share;
      return t;
    }

    /** The tokens and requests of this sum, times a share. */
    Acc tokenShare(double share) {
      Acc t = new Acc();
      t.inputTokens = inputTokens * share;
      t.outputTokens = outputTokens * share;
      t.requests = requests * share;
      return t;
    }
  }

  /**
   * A report that would hold more cells ((groups + the idle line) x steps) than allowed; nothing of
   * it was built beyond the allowed cells.
   */
  public static final class TooManyCells extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int groups;
    public final int steps;
    public final long cells;
    public final int limit;

    TooManyCells(int groups, int steps, int limit) {
      super(
          "("
              + groups
              + " groups + idle) x "
              + steps
              + " steps = "
              + cells(groups, steps)
              + " cells, more than "
              + limit,
          null,
          false,
          false);
      this.groups = groups;
      this.steps = steps;
      this.cells = cells(groups, steps);
      this.limit = limit;
    }

    /** The cells of an answer: one per step (at least one) of each group and of the idle line. */
    public static long cells(int groups, int steps) {
      return (groups + 1L) * Math.max(1, steps);
    }
  }

  /**
   * The lines being built: totals and series per key. Past {@code maxCells}, new keys are only
   * counted (no series is allocated), so that a refused answer costs no more than an allowed one.
   */
  private final class Lines {
    final Map<String, Acc> totals = new TreeMap<>();
    final Map<String, Acc[]> series = new TreeMap<>();
    final Set<String> beyond = new HashSet<>();
    final int maxCells;

    Lines(int maxCells) {
      this.maxCells = maxCells;
    }

    void put(String key, int step, Acc line) {
      if (!series.containsKey(key)
          && TooManyCells.cells(series.size() + 1, range.steps()) > maxCells) {
        beyond.add(key);
        return;
      }
      totals.computeIfAbsent(key, k -> new Acc()).add(line);
      series.computeIfAbsent(key, k -> newSeries())[step].add(line);
    }

    void check() {
      if (!beyond.isEmpty()) {
        throw new TooManyCells(series.size() + beyond.size(), range.steps(), maxCells);
      }
    }
  }

  private final Range range;
  private final long maxGap;
  private final PriceBook prices;
  private final GpuProfiles profiles;
  private final List<UsageRows.Sample> samples = new ArrayList<>();

  /** Per slot and model, per tenant: tokens and requests. */
  private final Map<SlotModel, Map<String, Acc>> tokens = new HashMap<>();

  /** Start of each allocation slot: the union of step boundaries and the allocation grid. */
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
    long s = step <= 0 || step > to - from ? to - from : step;
    this.range = new Range(from, to, s, (int) ((to - from + s - 1) / s));
    this.maxGap = maxGap;
    this.prices = prices;
    this.profiles = profiles;
    TreeSet<Long> b = new TreeSet<>();
    for (long t = from; t < to; t += s) {
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
    int i = Arrays.binarySearch(slots, t);
    return i >= 0 ? i : -i - 2;
  }

  private long slotEnd(int slot) {
    return slot + 1 < slots.length ? slots[slot + 1] : range.to();
  }

  private int stepOfSlot(int slot) {
    return (int) ((slots[slot] - range.from()) / range.step());
  }

  /**
   * Adds a stored sample. Add every sample of the range and of a margin beyond both ends, and then
   * the neighbours {@link #gpusNeedingPredecessor} and {@link #gpusNeedingSuccessor} ask for, so
   * that each sample covers what it covers in any other range. Thread-safe: the store's readers may
   * call it from their own threads.
   */
  public synchronized void addSample(UsageRows.Sample s) {
    samples.add(s);
  }

  /**
   * The GPUs (not MIG instances) none of whose added samples is at or before {@code from}: what the
   * earliest covers depends on the GPU's sample before it, which the caller must add (or know that
   * there is none: then the earliest is the GPU's first ever and covers nothing).
   */
  public synchronized Set<String> gpusNeedingPredecessor() {
    return edgeGpus(true);
  }

  /**
   * The GPUs (not MIG instances) none of whose added samples is at or after {@code to}: the GPU's
   * next sample, if any, may cover time in the range, and the caller must add it.
   */
  public synchronized Set<String> gpusNeedingSuccessor() {
    return edgeGpus(false);
  }

  /** The GPUs (not MIG instances) of the samples added. */
  public synchronized Set<String> gpus() {
    Set<String> seen = new HashSet<>();
    for (UsageRows.Sample s : samples) {
      if (!s.migInstance()) {
        seen.add(s.gpuUuid());
      }
    }
    return seen;
  }

  private Set<String> edgeGpus(boolean start) {
    Set<String> covered = new HashSet<>();
    Set<String> seen = new TreeSet<>();
    for (UsageRows.Sample s : samples) {
      if (!s.migInstance()) {
        seen.add(s.gpuUuid());
        if (start ? s.ts() <= range.from() : s.ts() >= range.to()) {
          covered.add(s.gpuUuid());
        }
      }
    }
    seen.removeAll(covered);
    return seen;
  }

  /** Adds a stored token event (ignored outside [from, to)). Thread-safe. */
  public void addTokens(UsageRows.Tokens t) {
    addTokens(t.ts(), t.model(), t.tenant(), t.input(), t.output());
  }

  /** Adds a stored token event (ignored outside [from, to)). Thread-safe. */
  public void addTokens(long ts, String model, String tenant, long input, long output) {
    addTokens(ts, model, tenant, input, output, 1);
  }

  /**
   * Adds the tokens and requests of a token record: one request event, or the interval between two
   * counter readings ({@link CounterReadings}). Ignored outside [from, to). Thread-safe.
   */
  public synchronized void addTokens(
      long ts, String model, String tenant, long input, long output, long requests) {
    if (ts < range.from() || ts >= range.to()) {
      return;
    }
    Acc t =
        tokens
            .computeIfAbsent(new SlotModel(slotOf(ts), model), k -> new HashMap<>())
            .computeIfAbsent(tenant, k -> new Acc());
    t.inputTokens += input;
    t.outputTokens += output;
    t.requests += requests;
  }

  /** GPU time, cost and energy per slot and model, per GPU model. */
  private Map<SlotModel, Map<String, Acc>> coverGpuTime(Acc uncovered) {
    List<UsageRows.Sample> sorted = new ArrayList<>(samples.size());
    for (UsageRows.Sample s : samples) {
      if (!s.migInstance()) {
        sorted.add(s);
      }
    }
    sorted.sort(
        Comparator.comparing(UsageRows.Sample::gpuUuid).thenComparingLong(UsageRows.Sample::ts));
    Map<SlotModel, Map<String, Acc>> cells = new HashMap<>();
    UsageRows.Sample prev = null;
    for (UsageRows.Sample s : sorted) {
      if (prev == null || !prev.gpuUuid().equals(s.gpuUuid())) {
        prev = s;
        continue;
      }
      long gap = s.ts() - prev.ts();
      long allowed = s.maxGapMs() != null ? s.maxGapMs() : maxGap;
      long a = Math.max(prev.ts(), s.ts() - allowed);
      long b = s.ts();
      boolean capped = gap > allowed;
      if (capped) {
        long lost = Math.min(a, range.to()) - Math.max(prev.ts(), range.from());
        if (lost > 0) {
          uncovered.uncoveredGpuSeconds += lost / 1000.0;
        }
        // A gap counts once, in the range where it began, so that counts add up across ranges.
        if (prev.ts() >= range.from() && prev.ts() < range.to()) {
          uncovered.sampleGaps++;
        }
      }
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
      cover(cells, s, Math.max(a, range.from()), Math.min(b, range.to()), joulesPerMs);
      prev = s;
    }
    return cells;
  }

  private void cover(
      Map<SlotModel, Map<String, Acc>> cells,
      UsageRows.Sample s,
      long a,
      long b,
      double joulesPerMs) {
    if (b <= a) {
      return;
    }
    GpuProfiles.Profile profile = profiles == null ? null : profiles.get(s.gpuModel());
    double idleW = profile == null ? 0 : profile.idlePowerW();
    String model = s.model() == null ? "" : s.model();
    long start = a;
    while (start < b) {
      int slot = slotOf(start);
      long end = Math.min(b, slotEnd(slot));
      PriceBook.Integral cost = prices.integrate(s.gpuModel(), start, end);
      long ms = end - start;
      Acc c =
          cells
              .computeIfAbsent(new SlotModel(slot, model), k -> new HashMap<>())
              .computeIfAbsent(s.gpuModel(), k -> new Acc());
      c.gpuSeconds += ms / 1000.0;
      c.costUsd += cost.costUsd();
      c.unpricedGpuSeconds += cost.unpricedMillis() / 1000.0;
      c.pricedGpuSeconds += (ms - cost.unpricedMillis()) / 1000.0;
      double j = joulesPerMs * ms;
      c.energyJ += j;
      c.activeEnergyJ += Math.max(0, j - idleW * ms / 1000.0);
      start = end;
    }
  }

  /** The report grouped as asked; the calculator's inputs are left as they were. */
  public Report report(GroupBy groupBy) {
    return report(groupBy, Integer.MAX_VALUE, null);
  }

  /** The report grouped as asked, or {@link TooManyCells} beyond {@code maxCells} cells. */
  public Report report(GroupBy groupBy, int maxCells) {
    return report(groupBy, maxCells, null);
  }

  /** One tenant's report ({@code tenant} null: everyone's), with no cap on its cells. */
  public Report report(GroupBy groupBy, String tenant) {
    return report(groupBy, Integer.MAX_VALUE, tenant);
  }

  /**
   * The report grouped as asked, or {@link TooManyCells} when it would hold more than {@code
   * maxCells} cells; the calculator's inputs are left as they were. With a {@code tenant} (null:
   * everyone's) it is that tenant's usage only: its lines are the tenant's share of each
   * allocation, computed against every tenant's tokens as in the full report, but no other tenant's
   * line, no idle line and, as totals, the sum of its own lines.
   */
  public synchronized Report report(GroupBy groupBy, int maxCells, String tenant) {
    if (TooManyCells.cells(0, range.steps()) > maxCells) {
      throw new TooManyCells(0, range.steps(), maxCells);
    }
    Acc uncovered = new Acc();
    Map<SlotModel, Map<String, Acc>> cells = coverGpuTime(uncovered);
    Lines lines = new Lines(maxCells);
    Acc idle = new Acc();
    Acc[] idleSeries = newSeries();
    Acc fleet = new Acc();
    if (tenant == null) {
      // Time no sample covered is the fleet's: a tenant's view (its own lines) has none.
      fleet.uncoveredGpuSeconds = uncovered.uncoveredGpuSeconds;
      fleet.sampleGaps = uncovered.sampleGaps;
      cells
          .values()
          .forEach(byGpuModel -> byGpuModel.values().forEach(c -> fleet.add(c.gpuShare(1))));
    }
    Set<SlotModel> keys = new HashSet<>(cells.keySet());
    keys.addAll(tokens.keySet());
    for (SlotModel sm : keys) {
      int step = stepOfSlot(sm.slot());
      String model = sm.model();
      Map<String, Acc> gpuCells = cells.getOrDefault(sm, Map.of());
      Map<String, Acc> tenants = tokens.getOrDefault(sm, Map.of());
      double total = tenants.values().stream().mapToDouble(Acc::tokens).sum();
      double gpuSecs = gpuCells.values().stream().mapToDouble(c -> c.gpuSeconds).sum();
      double pricedSecs = gpuCells.values().stream().mapToDouble(c -> c.pricedGpuSeconds).sum();
      if (total <= 0 || model.isEmpty()) {
        if (tenant == null) {
          gpuCells
              .values()
              .forEach(
                  c -> {
                    Acc line = c.gpuShare(1.0);
                    idle.add(line);
                    idleSeries[step].add(line);
                  });
        }
        // Requests that carry no tokens still count, even though they carry no cost.
        tenants.forEach(
            (who, t) -> {
              if (tenant == null || tenant.equals(who)) {
                tokensOnly(lines, groupBy, step, model, who, t, gpuCells, gpuSecs);
              }
            });
        continue;
      }
      for (Map.Entry<String, Acc> te : tenants.entrySet()) {
        if (tenant != null && !tenant.equals(te.getKey())) {
          continue;
        }
        Acc t = te.getValue();
        double share = t.tokens() / total;
        if (gpuCells.isEmpty()) {
          Acc line = t.tokenShare(1.0);
          line.unmeteredTokens = t.tokens();
          lines.put(key(groupBy, model, te.getKey(), NO_GPU_MODEL), step, line);
          continue;
        }
        for (Map.Entry<String, Acc> ce : gpuCells.entrySet()) {
          Acc line = ce.getValue().gpuShare(share);
          // Tokens are split across GPU models only when grouping by GPU model.
          if (groupBy == GroupBy.GPU_MODEL) {
            line.add(t.tokenShare(ce.getValue().gpuSeconds / gpuSecs));
            line.pricedTokens = t.tokens() * ce.getValue().pricedGpuSeconds / gpuSecs;
          }
          lines.put(key(groupBy, model, te.getKey(), ce.getKey()), step, line);
        }
        if (groupBy != GroupBy.GPU_MODEL) {
          Acc line = t.tokenShare(1.0);
          line.pricedTokens = t.tokens() * pricedSecs / gpuSecs;
          lines.put(key(groupBy, model, te.getKey(), NO_GPU_MODEL), step, line);
        }
      }
    }
    lines.check();
    lines
        .totals
        .values()
        .forEach(
            g -> {
              if (tenant != null) {
                fleet.add(g.gpuShare(1));
              }
              fleet.inputTokens += g.inputTokens;
              fleet.outputTokens += g.outputTokens;
              fleet.requests += g.requests;
              fleet.unmeteredTokens += g.unmeteredTokens;
              fleet.pricedTokens += g.pricedTokens;
            });
    Map<String, Line> groups = new LinkedHashMap<>();
    lines.totals.forEach((k, v) -> groups.put(k, line(v, lines.series.get(k))));
    return new Report(
        range,
        groupBy,
        Collections.unmodifiableMap(groups),
        line(idle, idleSeries),
        new Totals(fleet));
  }

  private void tokensOnly(
      Lines lines,
      GroupBy groupBy,
      int step,
      String model,
      String tenant,
      Acc t,
      Map<String, Acc> gpuCells,
      double gpuSecs) {
    Acc line = new Acc();
    line.requests = t.requests;
    if (groupBy == GroupBy.GPU_MODEL && !gpuCells.isEmpty()) {
      for (Map.Entry<String, Acc> ce : gpuCells.entrySet()) {
        Acc l = new Acc();
        l.requests = t.requests * ce.getValue().gpuSeconds / gpuSecs;
        lines.put(ce.getKey(), step, l);
      }
      return;
    }
    lines.put(key(groupBy, model, tenant, NO_GPU_MODEL), step, line);
  }

  private static String key(GroupBy g, String model, String tenant, String gpuModel) {
    return switch (g) {
      case MODEL -> model;
      case TENANT -> tenant;
      case GPU_MODEL -> gpuModel;
      case TENANT_MODEL -> tenantModelKey(tenant, model);
    };
  }

  private static Line line(Acc total, Acc[] series) {
    List<Totals> s = new ArrayList<>(series.length);
    for (Acc a : series) {
      s.add(new Totals(a));
    }
    return new Line(new Totals(total), Collections.unmodifiableList(s));
  }

  private Acc[] newSeries() {
    Acc[] s = new Acc[range.steps()];
    for (int i = 0; i < s.length; i++) {
      s[i] = new Acc();
    }
    return s;
  }
}
