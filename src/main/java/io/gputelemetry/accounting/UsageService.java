package io.gputelemetry.accounting;

import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

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
    return calculate(from, to, step)
        // The allocation is CPU work proportional to the range: off the event loop.
        .compose(
            calc -> vertx.executeBlocking(() -> calc.report(groupBy, maxCells, tenant), false));
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
