package io.gputelemetry.accounting;

import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/** Streams the stored events of a range from the store into a {@link UsageCalculator}. */
public final class UsageService {
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

  /**
   * The usage of a range, everyone's ({@code tenant} null) or one tenant's only; fails with {@link
   * UsageCalculator.TooManyCells} when the answer would hold more than {@code maxCells} cells.
   */
  public Future<UsageCalculator.Report> usage(
      long from, long to, long step, UsageCalculator.GroupBy groupBy, int maxCells, String tenant) {
    UsageCalculator calc =
        new UsageCalculator(from, to, step, allocationMillis, maxGapMillis, prices, profiles);
    // A sample covers the time before it: read the longest gap a source allows beyond both ends.
    List<UsageRows.Reading> readings = new ArrayList<>();
    Future<Void> tokens =
        store
            .readings(from - readingMaxGapMillis, to, r -> add(readings, r))
            .map(
                v -> {
                  // Readings to token records, then the same calculation as request events.
                  for (CounterReadings.Delta d :
                      CounterReadings.deltas(readings, readingMaxGapMillis)) {
                    calc.addTokens(
                        d.ts(), d.model(), d.tenant(), d.input(), d.output(), d.requests());
                  }
                  return null;
                });
    return Future.all(
            store.usage(from, to, lookbackMillis, calc::addSample, calc::addTokens), tokens)
        // The allocation is CPU work proportional to the range: off the event loop.
        .compose(v -> vertx.executeBlocking(() -> calc.report(groupBy, maxCells, tenant), false));
  }

  private static void add(List<UsageRows.Reading> readings, UsageRows.Reading r) {
    synchronized (readings) {
      readings.add(r);
    }
  }
}
