package io.gputelemetry.accounting;

import io.gputelemetry.store.Store;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** Streams the stored events of a range from the store into a {@link UsageCalculator}. */
public final class UsageService {
  private final Vertx vertx;
  private final Store store;
  private final PriceBook prices;
  private final GpuProfiles profiles;
  private final long maxGapMillis;
  private final long lookbackMillis;
  private final long allocationMillis;

  public UsageService(
      Vertx vertx,
      Store store,
      PriceBook prices,
      GpuProfiles profiles,
      long maxGapMillis,
      long lookbackMillis,
      long allocationMillis) {
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
    return store
        .usage(from, to, lookbackMillis, calc::addSample, calc::addTokens)
        // The allocation is CPU work proportional to the range: off the event loop.
        .compose(v -> vertx.executeBlocking(() -> calc.report(groupBy, maxCells, tenant), false));
  }
}
