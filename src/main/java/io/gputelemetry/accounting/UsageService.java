package io.gputelemetry.accounting;

import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRead;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/** Streams the stored events of a range from the store into a {@link UsageCalculator}. */
public final class UsageService {
  /** Neighbour reads in flight at once (one indexed document each). */
  static final int NEIGHBOUR_READS = 64;

  private final Vertx vertx;
  private final Store store;
  private final PriceBook prices;
  private final GpuProfiles profiles;
  private final long maxGapMillis;
  private final long lookbackMillis;
  private final long allocationMillis;
  private final long readingMaxGapMillis;

  public UsageService(
      Vertx vertx,
      Store store,
      PriceBook prices,
      GpuProfiles profiles,
      long maxGapMillis,
      long lookbackMillis,
      long allocationMillis) {
    this(
        vertx, store, prices, profiles, maxGapMillis, lookbackMillis, allocationMillis, 3_600_000L);
  }

  /**
   * @param readingMaxGapMillis the longest time between two counter readings whose difference
   *     counts (accounting.reading-max-gap); readings are read this far before a range
   */
  public UsageService(
      Vertx vertx,
      Store store,
      PriceBook prices,
      GpuProfiles profiles,
      long maxGapMillis,
      long lookbackMillis,
      long allocationMillis,
      long readingMaxGapMillis) {
    this.readingMaxGapMillis = readingMaxGapMillis;
    this.vertx = vertx;
    this.store = store;
    this.prices = prices;
    this.profiles = profiles;
    this.maxGapMillis = maxGapMillis;
    this.lookbackMillis = Math.max(maxGapMillis, lookbackMillis);
    this.allocationMillis = allocationMillis;
  }

  private boolean fromLedger;

  /** Re-opened intervals read per grain for a query (more than this: the raw events). */
  static final int DIRTY_READ = 10_000;

  /**
   * Answers {@link #usage} from the ledger up to its watermark (the coarsest roll-ups that tile
   * each step), and from the raw events after it; without it, from the raw events alone.
   */
  public UsageService readingLedger() {
    this.fromLedger = true;
    return this;
  }

  /** The allocation interval (the grid tokens and GPU time are matched on), in ms. */
  public long allocationMillis() {
    return allocationMillis;
  }

  /**
   * The usage of a range, everyone's ({@code tenant} null) or one tenant's only; fails with {@link
   * UsageCalculator.TooManyCells} when the answer would hold more than {@code maxCells} cells.
   */
  public Future<UsageCalculator.Report> usage(
      long from, long to, long step, UsageCalculator.GroupBy groupBy, int maxCells, String tenant) {
    long s = step <= 0 || step > to - from ? to - from : step;
    boolean onGrid =
        Math.floorMod(from, allocationMillis) == 0
            && (s == to - from || s % allocationMillis == 0)
            && 3_600_000L % allocationMillis == 0;
    if (!fromLedger || !onGrid) {
      return raw(from, to, step, groupBy, maxCells, tenant);
    }
    UsageCalculator.Range range =
        new UsageCalculator.Range(from, to, s, (int) ((to - from + s - 1) / s));
    if (UsageCalculator.TooManyCells.cells(0, range.steps()) > maxCells) {
      return Future.failedFuture(new UsageCalculator.TooManyCells(0, range.steps(), maxCells));
    }
    Future<Long> edge = store.ledgerEdge(LedgerGrain.MINUTE, true);
    Map<LedgerGrain, Future<SortedMap<Long, Long>>> dirty = new EnumMap<>(LedgerGrain.class);
    for (LedgerGrain g : LedgerGrain.values()) {
      dirty.put(g, store.dirty(g, DIRTY_READ));
    }
    return Future.all(edge, Future.all(List.copyOf(dirty.values())))
        .compose(
            v -> {
              Long watermark = edge.result();
              long end =
                  watermark == null
                      ? from
                      : Math.min(watermark, Math.floorDiv(to, allocationMillis) * allocationMillis);
              // A re-opened interval is not rewritten yet: the raw events from there on.
              SortedMap<Long, Long> reopened = dirty.get(LedgerGrain.MINUTE).result().tailMap(from);
              if (!reopened.isEmpty()) {
                end = Math.min(end, reopened.firstKey());
              }
              if (end <= from) {
                return raw(from, to, step, groupBy, maxCells, tenant);
              }
              long ledgerEnd = end;
              Map<LedgerGrain, Set<Long>> stale = new EnumMap<>(LedgerGrain.class);
              for (Map.Entry<LedgerGrain, Future<SortedMap<Long, Long>>> d : dirty.entrySet()) {
                if (d.getValue().result().size() >= DIRTY_READ) {
                  // More re-opened than read: which tiles are stale is not known.
                  return raw(from, to, step, groupBy, maxCells, tenant);
                }
                stale.put(d.getKey(), d.getValue().result().keySet());
              }
              // The rows are summed as they are read: no list of them, whatever the range.
              UsageCalculator.Summing sum =
                  new UsageCalculator.Summing(range, groupBy, maxCells, tenant);
              return tiles(LedgerTiles.plan(from, end, s, allocationMillis), stale, sum)
                  .compose(
                      complete -> {
                        if (!complete) {
                          return raw(from, to, step, groupBy, maxCells, tenant);
                        }
                        UsageCalculator.Source source =
                            new UsageCalculator.Source(ledgerEnd, sum.rows());
                        // The open tail, past the ledger's watermark, from the raw events.
                        Future<List<LedgerRow>> tail =
                            ledgerEnd < to
                                ? rows(ledgerEnd, to)
                                : Future.succeededFuture(List.of());
                        return tail.compose(
                            t ->
                                vertx.executeBlocking(
                                    () -> {
                                      t.forEach(sum::add);
                                      return sum.report().from(source);
                                    },
                                    false));
                      });
            });
  }

  /**
   * Reads the planned tiles into the sum, coarsest first; a day or hour not rolled up yet is read
   * as its hours or intervals. False when an interval of the minute ledger is missing (before the
   * ledger began, or past its retention): then the range is computed from the raw events.
   */
  private Future<Boolean> tiles(
      Map<LedgerGrain, List<LedgerTiles.Run>> plan,
      Map<LedgerGrain, Set<Long>> stale,
      UsageCalculator.Summing sum) {
    Future<Boolean> chain = Future.succeededFuture(true);
    for (LedgerGrain grain : List.of(LedgerGrain.DAY, LedgerGrain.HOUR, LedgerGrain.MINUTE)) {
      chain =
          chain.compose(
              ok -> {
                if (!ok) {
                  return Future.succeededFuture(false);
                }
                List<LedgerTiles.Run> runs = plan.get(grain);
                List<LedgerTiles.Run> finer =
                    grain == LedgerGrain.MINUTE ? null : plan.get(finer(grain));
                long len = grain == LedgerGrain.MINUTE ? allocationMillis : grain.millis();
                return readRuns(grain, runs, 0, stale.get(grain), sum, len, finer);
              });
    }
    return chain;
  }

  private static LedgerGrain finer(LedgerGrain g) {
    return g == LedgerGrain.DAY ? LedgerGrain.HOUR : LedgerGrain.MINUTE;
  }

  /** Reads runs one at a time from index i; a missing tile goes to the finer grain's runs. */
  private Future<Boolean> readRuns(
      LedgerGrain grain,
      List<LedgerTiles.Run> runs,
      int i,
      Set<Long> stale,
      UsageCalculator.Summing sum,
      long len,
      List<LedgerTiles.Run> finer) {
    if (i >= runs.size()) {
      return Future.succeededFuture(true);
    }
    LedgerTiles.Run run = runs.get(i);
    return store
        .ledger(
            grain,
            run.from(),
            run.to(),
            r -> {
              if (!stale.contains(r.start())) {
                sum.add(r);
              }
            })
        .compose(
            intervals -> {
              for (long t = run.from(); t < run.to(); t += len) {
                if (!intervals.contains(t) || stale.contains(t)) {
                  if (finer == null) {
                    return Future.succeededFuture(false);
                  }
                  LedgerTiles.add(finer, t, t + len);
                }
              }
              return readRuns(grain, runs, i + 1, stale, sum, len, finer);
            });
  }

  /** The usage of a range computed from the raw events alone. */
  private Future<UsageCalculator.Report> raw(
      long from, long to, long step, UsageCalculator.GroupBy groupBy, int maxCells, String tenant) {
    return calculate(from, to, step)
        // The allocation is CPU work proportional to the range: off the event loop.
        .compose(
            calc -> vertx.executeBlocking(() -> calc.report(groupBy, maxCells, tenant), false));
  }

  /**
   * The ledger rows of a range summed per period of {@code periodMillis} and key ({@link
   * RollUps#sum}): with one hour, the hourly roll-up the FOCUS export reads. Reading the ledger,
   * the stored hourly roll-ups of the range, and the hours not rolled up yet (the open tail) or
   * re-opened by late events computed from the raw events; otherwise all from the raw events. The
   * range should start and end on period boundaries.
   */
  public Future<List<LedgerRow>> rolledUp(long from, long to, long periodMillis) {
    LedgerGrain hour = LedgerGrain.HOUR;
    if (!fromLedger || periodMillis != hour.millis() || Math.floorMod(from, periodMillis) != 0) {
      return rawRolledUp(from, to, periodMillis);
    }
    Future<LedgerRead> read = store.ledger(hour, from, to);
    Future<SortedMap<Long, Long>> hours = store.dirty(hour, DIRTY_READ);
    Future<SortedMap<Long, Long>> minutes = store.dirty(LedgerGrain.MINUTE, DIRTY_READ);
    return Future.all(read, hours, minutes)
        .compose(
            v -> {
              if (hours.result().size() >= DIRTY_READ || minutes.result().size() >= DIRTY_READ) {
                return rawRolledUp(from, to, periodMillis);
              }
              // An hour is stale when it, or one of its intervals, is re-opened.
              Set<Long> stale = new HashSet<>(hours.result().keySet());
              for (long m : minutes.result().keySet()) {
                stale.add(Math.floorDiv(m, periodMillis) * periodMillis);
              }
              List<LedgerRow> rows = new ArrayList<>();
              for (LedgerRow r : read.result().rows()) {
                if (!stale.contains(r.start())) {
                  rows.add(r);
                }
              }
              // Runs of hours the ledger does not hold (yet) or holds re-opened: from raw events.
              List<long[]> missing = new ArrayList<>();
              for (long t = from; t < to; t += periodMillis) {
                if (read.result().intervals().contains(t) && !stale.contains(t)) {
                  continue;
                }
                long[] last = missing.isEmpty() ? null : missing.get(missing.size() - 1);
                if (last != null && last[1] == t) {
                  last[1] = t + periodMillis;
                } else {
                  missing.add(new long[] {t, Math.min(to, t + periodMillis)});
                }
              }
              Future<Void> chain = Future.succeededFuture();
              for (long[] run : missing) {
                chain =
                    chain.compose(
                        w ->
                            rawRolledUp(run[0], run[1], periodMillis).map(rows::addAll).mapEmpty());
              }
              return chain.compose(
                  w -> vertx.executeBlocking(() -> RollUps.sum(rows, periodMillis), false));
            });
  }

  private Future<List<LedgerRow>> rawRolledUp(long from, long to, long periodMillis) {
    return calculate(from, to, periodMillis)
        .compose(
            calc -> vertx.executeBlocking(() -> RollUps.sum(calc.rows(), periodMillis), false));
  }

  /**
   * The ledger rows of [from, to) computed from the raw events (what the ledger stores for one
   * interval of the allocation grid).
   */
  public Future<List<LedgerRow>> rows(long from, long to) {
    return calculate(from, to, to - from).compose(calc -> vertx.executeBlocking(calc::rows, false));
  }

  /** A calculator holding every stored event that counts for [from, to). */
  private Future<UsageCalculator> calculate(long from, long to, long step) {
    UsageCalculator calc =
        new UsageCalculator(from, to, step, allocationMillis, maxGapMillis, prices, profiles);
    // A sample covers the time before it: read the longest gap a source allows beyond both ends,
    // then the neighbours beyond that margin of every GPU whose samples there do not reach past an
    // end (a sample may allow a longer gap than this deployment's sources), and of every GPU of
    // the inventory seen before and after the range but not in it (a pause longer than the range).
    long readFrom = from - lookbackMillis;
    long readTo = to + lookbackMillis;
    // Counter readings (vLLM) become token records, then the same calculation as request events;
    // read after the samples and requests, so that one thread at a time adds to the calculator.
    List<UsageRows.Reading> readings = new ArrayList<>();
    return store
        .usage(from, to, lookbackMillis, calc::addSample, calc::addTokens)
        .compose(v -> store.readings(from - readingMaxGapMillis, to, r -> add(readings, r)))
        .map(
            v -> {
              for (CounterReadings.Delta d :
                  CounterReadings.deltas(readings, readingMaxGapMillis)) {
                calc.addTokens(d.ts(), d.model(), d.tenant(), d.input(), d.output(), d.requests());
              }
              return null;
            })
        .compose(v -> store.gpus(null, null))
        .compose(
            inventory -> {
              Set<String> before = calc.gpusNeedingPredecessor();
              Set<String> after = calc.gpusNeedingSuccessor();
              Set<String> seen = calc.gpus();
              for (GpuRecord g : inventory) {
                if (!seen.contains(g.gpuUuid())
                    && g.seen().firstMillis() < readFrom
                    && g.seen().lastMillis() >= readTo) {
                  before.add(g.gpuUuid());
                  after.add(g.gpuUuid());
                }
              }
              return neighbours(calc, before, readFrom, true)
                  .compose(w -> neighbours(calc, after, readTo, false));
            })
        .map(v -> calc);
  }

  /** Adds each GPU's neighbour before (or at and after) an instant, a bounded number at a time. */
  private Future<Void> neighbours(
      UsageCalculator calc, Set<String> gpus, long millis, boolean before) {
    List<String> left = new ArrayList<>(gpus);
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < left.size(); i += NEIGHBOUR_READS) {
      List<String> chunk = left.subList(i, Math.min(left.size(), i + NEIGHBOUR_READS));
      chain =
          chain.compose(
              v -> {
                List<Future<UsageRows.Sample>> reads = new ArrayList<>(chunk.size());
                for (String gpu : chunk) {
                  reads.add(store.neighbour(gpu, millis, before));
                }
                return Future.all(reads)
                    .map(
                        all -> {
                          for (Future<UsageRows.Sample> f : reads) {
                            if (f.result() != null) {
                              calc.addSample(f.result());
                            }
                          }
                          return null;
                        });
              });
    }
    return chain;
  }

  private static void add(List<UsageRows.Reading> readings, UsageRows.Reading r) {
    synchronized (readings) {
      readings.add(r);
    }
  }
}
