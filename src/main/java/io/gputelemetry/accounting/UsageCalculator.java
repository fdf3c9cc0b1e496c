package io.gputelemetry.accounting;

import io.gputelemetry.store.LedgerRow;
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
 *       Totals#uncoveredGpuSeconds}, {@link Totals#sampleGaps}) in the fleet's totals. The parent
 *       GPU's samples carry a MIG GPU's time; each instance's samples take its profile's share of
 *       it ({@link MigShares}), the rest stays with the parent. Covered time is clipped to [from,
 *       to), split at step boundaries and at price changes; cost = the hourly price that applies to
 *       the sample's node x time, with the list, contracted and billed cost beside it.
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
    private final double listCostUsd;
    private final double contractedCostUsd;
    private final double billedCostUsd;
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
      listCostUsd = a.listCostUsd;
      contractedCostUsd = a.contractedCostUsd;
      billedCostUsd = a.billedCostUsd;
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

    /** The cost at on-demand (list) prices: FOCUS's ListCost. */
    public double listCostUsd() {
      return listCostUsd;
    }

    /** The cost at contracted prices (list, or spot on spot): FOCUS's ContractedCost. */
    public double contractedCostUsd() {
      return contractedCostUsd;
    }

    /** The cost billed for the usage (0 under a commitment): FOCUS's BilledCost. */
    public double billedCostUsd() {
      return billedCostUsd;
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

  /**
   * Where a report's figures come from: those of [from, ledgerUntil) were summed from {@code
   * ledgerRows} rows of the ledger (its minute intervals and their roll-ups), the rest computed
   * from the raw events; ledgerUntil equal to the range's start: all from the raw events.
   */
  public record Source(long ledgerUntil, long ledgerRows) {}

  /**
   * The result: a line per group key, idle apart, the fleet's totals, and where the figures come
   * from.
   */
  public record Report(
      Range range,
      GroupBy groupBy,
      Map<String, Line> groups,
      Line idle,
      Totals fleet,
      Source source) {

    /** This report with its figures coming from the given source. */
    public Report from(Source s) {
      return new Report(range, groupBy, groups, idle, fleet, s);
    }
  }

  /** An allocation slot and the model served in it. */
  private record SlotModel(int slot, String model) {}

  /**
   * What a slot and model's GPU time is kept apart by: the GPU model and the price in force (the
   * price book's price_kind and commitment id; "" for unpriced time), the key of its GPU and IDLE
   * rows beside model and tenant.
   */
  private record Cell(String gpuModel, String priceKind, String commitment)
      implements Comparable<Cell> {
    private static final Comparator<Cell> ORDER =
        Comparator.comparing(Cell::gpuModel)
            .thenComparing(Cell::priceKind)
            .thenComparing(Cell::commitment);

    static Cell of(String gpuModel, PriceBook.Applied p) {
      if (p == null) {
        return new Cell(gpuModel, "", "");
      }
      return new Cell(gpuModel, p.kind().json(), p.commitment() == null ? "" : p.commitment().id());
    }

    @Override
    public int compareTo(Cell o) {
      return ORDER.compare(this, o);
    }
  }

  /** A running sum; frozen into {@link Totals}. */
  private static final class Acc {
    double inputTokens;
    double outputTokens;
    double requests;
    double costUsd;
    double listCostUsd;
    double contractedCostUsd;
    double billedCostUsd;
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
      listCostUsd += o.listCostUsd;
      contractedCostUsd += o.contractedCostUsd;
      billedCostUsd += o.billedCostUsd;
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
      t.listCostUsd = listCostUsd * share;
      t.contractedCostUsd = contractedCostUsd * share;
      t.billedCostUsd = billedCostUsd * share;
      t.energyJ = energyJ * share;
      t.activeEnergyJ = activeEnergyJ * share;
      t.gpuSeconds = gpuSeconds * share;
      t.unpricedGpuSeconds = unpricedGpuSeconds * share;
      t.pricedGpuSeconds = pricedGpuSeconds * share;
      return t;
    }

    /** Takes a part of this cell's GPU side away (what a MIG instance took of its parent). */
    void subtractGpu(Acc part) {
      costUsd -= part.costUsd;
      listCostUsd -= part.listCostUsd;
      contractedCostUsd -= part.contractedCostUsd;
      billedCostUsd -= part.billedCostUsd;
      energyJ -= part.energyJ;
      activeEnergyJ -= part.activeEnergyJ;
      gpuSeconds -= part.gpuSeconds;
      unpricedGpuSeconds -= part.unpricedGpuSeconds;
      pricedGpuSeconds -= part.pricedGpuSeconds;
    }

    /** The tokens and requests of this sum, times a share. */
    Acc tokenShare(double share) {
      Acc t = new Acc();
      t.inputTokens = inputTokens * share;
      t.outputTokens = outputTokens * share;
      t.requests = requests * share;
      return t;
    }

    LedgerRow.Amounts amounts() {
      return new LedgerRow.Amounts(
          gpuSeconds,
          pricedGpuSeconds,
          unpricedGpuSeconds,
          costUsd,
          listCostUsd,
          contractedCostUsd,
          billedCostUsd,
          energyJ,
          activeEnergyJ,
          inputTokens,
          outputTokens,
          requests,
          pricedTokens,
          unmeteredTokens,
          uncoveredGpuSeconds,
          sampleGaps);
    }

    /** A row's GPU side (time, cost, energy), without its tokens. */
    static Acc gpuPart(LedgerRow.Amounts a) {
      Acc t = new Acc();
      t.costUsd = a.costUsd();
      t.listCostUsd = a.listCostUsd();
      t.contractedCostUsd = a.contractedCostUsd();
      t.billedCostUsd = a.billedCostUsd();
      t.energyJ = a.energyJ();
      t.activeEnergyJ = a.activeEnergyJ();
      t.gpuSeconds = a.gpuSeconds();
      t.unpricedGpuSeconds = a.unpricedGpuSeconds();
      t.pricedGpuSeconds = a.pricedGpuSeconds();
      return t;
    }

    /** A row's tokens, requests, priced and unmetered tokens, without its GPU side. */
    static Acc tokenPart(LedgerRow.Amounts a) {
      Acc t = new Acc();
      t.inputTokens = a.inputTokens();
      t.outputTokens = a.outputTokens();
      t.requests = a.requests();
      t.pricedTokens = a.pricedTokens();
      t.unmeteredTokens = a.unmeteredTokens();
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
  private static final class Lines {
    final Map<String, Acc> totals = new TreeMap<>();
    final Map<String, Acc[]> series = new TreeMap<>();
    final Set<String> beyond = new HashSet<>();
    final Range range;
    final int maxCells;

    Lines(Range range, int maxCells) {
      this.range = range;
      this.maxCells = maxCells;
    }

    void put(String key, int step, Acc line) {
      if (!series.containsKey(key)
          && TooManyCells.cells(series.size() + 1, range.steps()) > maxCells) {
        beyond.add(key);
        return;
      }
      totals.computeIfAbsent(key, k -> new Acc()).add(line);
      series.computeIfAbsent(key, k -> newSeries(range))[step].add(line);
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
   * The GPUs and MIG instances none of whose added samples is at or before {@code from}: what the
   * earliest covers depends on the GPU's sample before it, which the caller must add (or know that
   * there is none: then the earliest is the GPU's first ever and covers nothing).
   */
  public synchronized Set<String> gpusNeedingPredecessor() {
    return edgeGpus(true);
  }

  /**
   * The GPUs and MIG instances none of whose added samples is at or after {@code to}: the GPU's
   * next sample, if any, may cover time in the range, and the caller must add it.
   */
  public synchronized Set<String> gpusNeedingSuccessor() {
    return edgeGpus(false);
  }

  /** The GPUs and MIG instances of the samples added. */
  public synchronized Set<String> gpus() {
    Set<String> seen = new HashSet<>();
    for (UsageRows.Sample s : samples) {
      seen.add(s.gpuUuid());
    }
    return seen;
  }

  private Set<String> edgeGpus(boolean start) {
    Set<String> covered = new HashSet<>();
    Set<String> seen = new TreeSet<>();
    for (UsageRows.Sample s : samples) {
      seen.add(s.gpuUuid());
      if (start ? s.ts() <= range.from() : s.ts() >= range.to()) {
        covered.add(s.gpuUuid());
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

  /** GPU time, cost and energy per slot and model, per GPU model and price in force. */
  private Map<SlotModel, Map<Cell, Acc>> coverGpuTime(Acc[] uncovered) {
    List<UsageRows.Sample> sorted = new ArrayList<>(samples.size());
    for (UsageRows.Sample s : samples) {
      if (!s.migInstance()) {
        sorted.add(s);
      }
    }
    sorted.sort(
        Comparator.comparing(UsageRows.Sample::gpuUuid).thenComparingLong(UsageRows.Sample::ts));
    Map<SlotModel, Map<Cell, Acc>> cells = new HashMap<>();
    Map<String, MigShares> mig = MigShares.of(samples, profiles, maxGap);
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
        long lostFrom = Math.max(prev.ts(), range.from());
        long lostTo = Math.min(a, range.to());
        while (lostFrom < lostTo) {
          int slot = slotOf(lostFrom);
          long end = Math.min(lostTo, slotEnd(slot));
          uncovered[slot].uncoveredGpuSeconds += (end - lostFrom) / 1000.0;
          lostFrom = end;
        }
        // A gap counts once, in the slot where it began, so that counts add up across ranges.
        if (prev.ts() >= range.from() && prev.ts() < range.to()) {
          uncovered[slotOf(prev.ts())].sampleGaps++;
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
      cover(
          cells,
          s,
          Math.max(a, range.from()),
          Math.min(b, range.to()),
          joulesPerMs,
          mig.get(s.gpuUuid()));
      prev = s;
    }
    return cells;
  }

  private void cover(
      Map<SlotModel, Map<Cell, Acc>> cells,
      UsageRows.Sample s,
      long a,
      long b,
      double joulesPerMs,
      MigShares mig) {
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
      if (mig != null) {
        end = Math.min(end, mig.nextBound(start));
      }
      Map<String, Double> shares = mig == null ? Map.of() : mig.at(start);
      for (PriceBook.Segment seg : prices.segments(s.gpuModel(), s.node(), start, end)) {
        PriceBook.Integral cost = seg.cost();
        long ms = seg.toMillis() - seg.fromMillis();
        Acc c = new Acc();
        c.gpuSeconds = ms / 1000.0;
        c.costUsd = cost.costUsd();
        c.listCostUsd = cost.listCostUsd();
        c.contractedCostUsd = cost.contractedCostUsd();
        c.billedCostUsd = cost.billedCostUsd();
        c.unpricedGpuSeconds = cost.unpricedMillis() / 1000.0;
        c.pricedGpuSeconds = (ms - cost.unpricedMillis()) / 1000.0;
        double j = joulesPerMs * ms;
        c.energyJ = j;
        c.activeEnergyJ = Math.max(0, j - idleW * ms / 1000.0);
        Cell cell = Cell.of(s.gpuModel(), seg.applied());
        // MIG instances take their shares; the parent's model (or idle) keeps the rest, computed
        // as what is left so that the parts add up to the whole.
        Acc rest = c.gpuShare(1);
        for (Map.Entry<String, Double> e : shares.entrySet()) {
          Acc part = c.gpuShare(e.getValue());
          cell(cells, slot, e.getKey(), cell).add(part);
          rest.subtractGpu(part);
        }
        cell(cells, slot, model, cell).add(rest);
      }
      start = end;
    }
  }

  private static Acc cell(Map<SlotModel, Map<Cell, Acc>> cells, int slot, String model, Cell cell) {
    return cells
        .computeIfAbsent(new SlotModel(slot, model), k -> new HashMap<>())
        .computeIfAbsent(cell, k -> new Acc());
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
   * line, no idle line and, as totals, the sum of its own lines. The same as {@link #report(Range,
   * Iterable, GroupBy, int, String)} of {@link #rows()}.
   */
  public Report report(GroupBy groupBy, int maxCells, String tenant) {
    if (TooManyCells.cells(0, range.steps()) > maxCells) {
      throw new TooManyCells(0, range.steps(), maxCells);
    }
    return report(range, rows(), groupBy, maxCells, tenant);
  }

  /**
   * The ledger rows of the range: per allocation slot (each step boundary and each multiple of the
   * allocation interval starts one), the allocation of its GPU time, cost and energy to tenants by
   * their tokens, and the slot's gaps; in the order of their slots, then of their keys. A report of
   * any grouping is a sum of them ({@link #report(Range, Iterable, GroupBy, int, String)}), and the
   * rows of a range on the grid are those of its parts.
   */
  public synchronized List<LedgerRow> rows() {
    Acc[] uncovered = new Acc[slots.length];
    for (int i = 0; i < uncovered.length; i++) {
      uncovered[i] = new Acc();
    }
    Map<SlotModel, Map<Cell, Acc>> cells = coverGpuTime(uncovered);
    Set<SlotModel> keys = new TreeSet<>(SLOT_MODEL_ORDER);
    keys.addAll(cells.keySet());
    keys.addAll(tokens.keySet());
    List<LedgerRow> rows = new ArrayList<>();
    int slot = -1;
    for (SlotModel sm : keys) {
      for (; slot < sm.slot(); slot++) {
        gapsRow(rows, slot, uncovered);
      }
      slotModelRows(rows, sm, new TreeMap<>(cells.getOrDefault(sm, Map.of())));
    }
    for (; slot < slots.length; slot++) {
      gapsRow(rows, slot, uncovered);
    }
    return rows;
  }

  private static final Comparator<SlotModel> SLOT_MODEL_ORDER =
      Comparator.comparingInt(SlotModel::slot).thenComparing(SlotModel::model);

  /** The gaps row of a slot (none for slot -1 or a slot without gaps). */
  private void gapsRow(List<LedgerRow> rows, int slot, Acc[] uncovered) {
    if (slot < 0 || slot >= slots.length) {
      return;
    }
    Acc u = uncovered[slot];
    if (u.uncoveredGpuSeconds > 0 || u.sampleGaps > 0) {
      rows.add(row(slot, LedgerRow.Kind.GAPS, "", "", "", u));
    }
  }

  /** The rows of one slot and model: its GPU time's allocation and its tenants' tokens. */
  private void slotModelRows(List<LedgerRow> rows, SlotModel sm, Map<Cell, Acc> gpuCells) {
    int slot = sm.slot();
    String model = sm.model();
    Map<String, Acc> tenants = new TreeMap<>(tokens.getOrDefault(sm, Map.of()));
    double total = tenants.values().stream().mapToDouble(Acc::tokens).sum();
    double gpuSecs = gpuCells.values().stream().mapToDouble(c -> c.gpuSeconds).sum();
    double pricedSecs = gpuCells.values().stream().mapToDouble(c -> c.pricedGpuSeconds).sum();
    if (total <= 0 || model.isEmpty()) {
      gpuCells.forEach((gm, c) -> rows.add(gpuRow(slot, LedgerRow.Kind.IDLE, model, "", gm, c)));
      // Requests that carry no tokens still count, even though they carry no cost.
      tenants.forEach(
          (who, t) -> {
            Acc requests = new Acc();
            requests.requests = t.requests;
            if (gpuCells.isEmpty()) {
              rows.add(row(slot, LedgerRow.Kind.UNMETERED, model, who, NO_GPU_MODEL, requests));
              return;
            }
            rows.add(row(slot, LedgerRow.Kind.TOKENS, model, who, NO_GPU_MODEL, requests));
            gpuCells.forEach(
                (gm, c) -> {
                  Acc split = new Acc();
                  split.requests = t.requests * c.gpuSeconds / gpuSecs;
                  rows.add(gpuRow(slot, LedgerRow.Kind.GPU, model, who, gm, split));
                });
          });
      return;
    }
    for (Map.Entry<String, Acc> te : tenants.entrySet()) {
      Acc t = te.getValue();
      if (gpuCells.isEmpty()) {
        Acc line = t.tokenShare(1.0);
        line.unmeteredTokens = t.tokens();
        rows.add(row(slot, LedgerRow.Kind.UNMETERED, model, te.getKey(), NO_GPU_MODEL, line));
        continue;
      }
      double share = t.tokens() / total;
      for (Map.Entry<Cell, Acc> ce : gpuCells.entrySet()) {
        // The tenant's share of the GPU time; its tokens split across GPU models by GPU-seconds,
        // which only the grouping by GPU model uses.
        Acc line = ce.getValue().gpuShare(share);
        line.add(t.tokenShare(ce.getValue().gpuSeconds / gpuSecs));
        line.pricedTokens = t.tokens() * ce.getValue().pricedGpuSeconds / gpuSecs;
        rows.add(gpuRow(slot, LedgerRow.Kind.GPU, model, te.getKey(), ce.getKey(), line));
      }
      Acc line = t.tokenShare(1.0);
      line.pricedTokens = t.tokens() * pricedSecs / gpuSecs;
      rows.add(row(slot, LedgerRow.Kind.TOKENS, model, te.getKey(), NO_GPU_MODEL, line));
    }
  }

  /** A GPU or IDLE row: keyed by its cell's GPU model and price. */
  private LedgerRow gpuRow(
      int slot, LedgerRow.Kind kind, String model, String tenant, Cell cell, Acc a) {
    return new LedgerRow(
        slots[slot],
        slotEnd(slot),
        kind,
        model,
        tenant,
        cell.gpuModel(),
        cell.priceKind(),
        cell.commitment(),
        a.amounts());
  }

  private LedgerRow row(
      int slot, LedgerRow.Kind kind, String model, String tenant, String gpuModel, Acc a) {
    return new LedgerRow(slots[slot], slotEnd(slot), kind, model, tenant, gpuModel, a.amounts());
  }

  /**
   * A report from ledger rows: each row's figures added to the step its interval starts in, under
   * the key of its grouping (see {@link LedgerRow} for which kinds each grouping sums), or {@link
   * TooManyCells} when it would hold more than {@code maxCells} cells. Rows must lie in the range,
   * each within one step. With a {@code tenant} (null: everyone's), that tenant's rows only, no
   * idle line and, as totals, the sum of its own lines.
   */
  public static Report report(
      Range range, Iterable<LedgerRow> rows, GroupBy groupBy, int maxCells, String tenant) {
    Summing sum = new Summing(range, groupBy, maxCells, tenant);
    rows.forEach(sum::add);
    return sum.report();
  }

  /**
   * {@link #report(Range, Iterable, GroupBy, int, String)} one row at a time: rows are added as
   * they are read (by one thread at a time), and only the lines are held, not the rows.
   */
  static final class Summing {
    private final Range range;
    private final GroupBy groupBy;
    private final String tenant;
    private final Lines lines;
    private final Acc idle = new Acc();
    private final Acc[] idleSeries;
    private final Acc fleet = new Acc();
    private long rows;

    /** Fails with {@link TooManyCells} when even the idle line alone would hold too many cells. */
    Summing(Range range, GroupBy groupBy, int maxCells, String tenant) {
      if (TooManyCells.cells(0, range.steps()) > maxCells) {
        throw new TooManyCells(0, range.steps(), maxCells);
      }
      this.range = range;
      this.groupBy = groupBy;
      this.tenant = tenant;
      this.lines = new Lines(range, maxCells);
      this.idleSeries = newSeries(range);
    }

    /** The rows added so far. */
    synchronized long rows() {
      return rows;
    }

    synchronized void add(LedgerRow r) {
      rows++;
      int step = (int) ((r.start() - range.from()) / range.step());
      LedgerRow.Amounts a = r.amounts();
      boolean mine = tenant == null || tenant.equals(r.tenant());
      switch (r.kind()) {
        case GAPS -> {
          // Time no sample covered is the fleet's: a tenant's view (its own lines) has none.
          if (tenant == null) {
            fleet.uncoveredGpuSeconds += a.uncoveredGpuSeconds();
            fleet.sampleGaps += a.sampleGaps();
          }
        }
        case IDLE -> {
          if (tenant == null) {
            Acc line = Acc.gpuPart(a);
            idle.add(line);
            idleSeries[step].add(line);
            fleet.add(Acc.gpuPart(a));
          }
        }
        case GPU -> {
          if (mine) {
            Acc line = Acc.gpuPart(a);
            if (tenant == null) {
              fleet.add(Acc.gpuPart(a));
            }
            if (groupBy == GroupBy.GPU_MODEL) {
              line.inputTokens = a.inputTokens();
              line.outputTokens = a.outputTokens();
              line.requests = a.requests();
              line.pricedTokens = a.pricedTokens();
            }
            lines.put(key(groupBy, r.model(), r.tenant(), r.gpuModel()), step, line);
          }
        }
        case TOKENS -> {
          if (mine && groupBy != GroupBy.GPU_MODEL) {
            lines.put(key(groupBy, r.model(), r.tenant(), NO_GPU_MODEL), step, Acc.tokenPart(a));
          }
        }
        case UNMETERED -> {
          if (mine) {
            lines.put(key(groupBy, r.model(), r.tenant(), NO_GPU_MODEL), step, Acc.tokenPart(a));
          }
        }
      }
    }

    /** The report of the rows added, or {@link TooManyCells}. */
    synchronized Report report() {
      lines.check();
      Acc total = new Acc();
      total.add(fleet);
      total.uncoveredGpuSeconds = fleet.uncoveredGpuSeconds;
      total.sampleGaps = fleet.sampleGaps;
      for (Acc g : lines.totals.values()) {
        if (tenant != null) {
          total.add(g.gpuShare(1));
        }
        total.inputTokens += g.inputTokens;
        total.outputTokens += g.outputTokens;
        total.requests += g.requests;
        total.unmeteredTokens += g.unmeteredTokens;
        total.pricedTokens += g.pricedTokens;
      }
      Map<String, Line> groups = new LinkedHashMap<>();
      lines.totals.forEach((k, v) -> groups.put(k, line(v, lines.series.get(k))));
      return new Report(
          range,
          groupBy,
          Collections.unmodifiableMap(groups),
          line(idle, idleSeries),
          new Totals(total),
          new Source(range.from(), 0));
    }
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

  private static Acc[] newSeries(Range range) {
    Acc[] s = new Acc[range.steps()];
    for (int i = 0; i < s.length; i++) {
      s[i] = new Acc();
    }
    return s;
  }
}
