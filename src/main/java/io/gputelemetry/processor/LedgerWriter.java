package io.gputelemetry.processor;

import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRead;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.Store;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Writes the ledger: every tick, the holder of the writer's lease recomputes the re-opened minute
 * intervals, then writes the next closed ones (end at least ledger.lateness in the past) in order,
 * from the raw events through {@link UsageService#rows}; then the hours whose minutes are all
 * written and none re-opened, and the days of hours likewise (sums of rows by key). A re-opened
 * minute re-opens its hour and day. At most ledger.max-intervals-per-tick writes per tick; a tick
 * that used them all is followed by the next at once.
 *
 * <p>One processor writes (the lease) so that the raw events are read once, not once per replica;
 * correctness does not rest on the lease: each write is a whole interval's replacement by a
 * revision that only moves forward ({@link Store#replaceLedger}), so two writers at once (a holder
 * paused past its lease) leave the rows of one complete computation of each interval.
 */
public final class LedgerWriter extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(LedgerWriter.class);
  private static final String LEASE = "ledger-writer";
  private static final int DIRTY_SCAN = 10_000;

  private final Store store;
  private final UsageService usage;
  private final AppConfig.Ledger config;
  private final long allocation;
  private final String owner;
  private final LongSupplier clock;
  private final int salt = new SecureRandom().nextInt(1 << 16);
  private long lastRev;
  private long timer = -1;
  private boolean stopped;
  private int budget;

  public LedgerWriter(
      Store store, UsageService usage, AppConfig.Ledger config, String owner, LongSupplier clock) {
    this.store = store;
    this.usage = usage;
    this.config = config;
    this.allocation = usage.allocationMillis();
    this.owner = owner;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    schedule(config.interval().toMillis());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void schedule(long delay) {
    if (stopped) {
      return;
    }
    timer =
        vertx.setTimer(
            delay,
            t ->
                tick()
                    .onComplete(
                        ar -> {
                          if (ar.failed()) {
                            LOG.warn("ledger tick failed: {}", ar.cause().getMessage());
                          }
                          boolean more = ar.succeeded() && ar.result();
                          schedule(more ? 1 : config.interval().toMillis());
                        }));
  }

  /**
   * One round: true when it stopped at the bound of writes per tick (more is due now), false when
   * the ledger is up to date or another processor holds the lease.
   */
  public Future<Boolean> tick() {
    long now = clock.getAsLong();
    return store
        .lease(LEASE, owner, now, config.lease().toMillis())
        .compose(
            held -> {
              if (!held) {
                return Future.succeededFuture(false);
              }
              budget = config.maxIntervalsPerTick();
              return minutes(now)
                  .compose(v -> rollUps(LedgerGrain.HOUR, now))
                  .compose(v -> rollUps(LedgerGrain.DAY, now))
                  .map(v -> budget <= 0);
            });
  }

  /** A revision higher than any this writer made before, and than any made before now. */
  private long nextRev(long now) {
    lastRev = Math.max(lastRev + 1, (now << 16) | salt);
    return lastRev;
  }

  // --- the minute ledger ---

  private Future<Void> minutes(long now) {
    return store
        .ledgerEdge(LedgerGrain.MINUTE, true)
        .compose(
            watermark ->
                reopened(
                        LedgerGrain.MINUTE,
                        watermark,
                        now,
                        (start, n) -> writeMinute(start, n).map(w -> true))
                    .compose(
                        v ->
                            watermark != null
                                ? Future.succeededFuture(watermark)
                                : store
                                    .firstEventMillis()
                                    .map(
                                        f ->
                                            f == null
                                                ? null
                                                : Math.floorDiv(f, allocation) * allocation)))
        .compose(from -> from == null ? Future.succeededFuture() : newMinutes(from, now));
  }

  private Future<Void> newMinutes(long start, long now) {
    if (budget <= 0 || start + allocation > now - config.lateness().toMillis()) {
      return Future.succeededFuture();
    }
    return writeMinute(start, now).compose(v -> newMinutes(start + allocation, now));
  }

  private Future<Void> writeMinute(long start, long now) {
    budget--;
    long end = start + allocation;
    return usage
        .rows(start, end)
        .compose(
            rows -> store.replaceLedger(LedgerGrain.MINUTE, start, end, nextRev(now), rows, now))
        .mapEmpty();
  }

  /**
   * Rewrites the re-opened written intervals of a grain, re-opens their coarser intervals, and
   * clears each mark unless it was marked again meanwhile. Marks of intervals not written yet are
   * cleared: they are written in order from the raw events anyway.
   */
  private Future<Void> reopened(LedgerGrain grain, Long watermark, long now, Rewrite rewrite) {
    return store
        .dirty(grain, DIRTY_SCAN)
        .compose(
            marks -> {
              Future<Void> chain = Future.succeededFuture();
              for (Map.Entry<Long, Long> m : marks.entrySet()) {
                long start = m.getKey();
                chain =
                    chain.compose(
                        v -> {
                          if (watermark == null || start >= watermark) {
                            return store.clearDirty(grain, start, m.getValue());
                          }
                          if (budget <= 0) {
                            return Future.succeededFuture();
                          }
                          return rewrite
                              .write(start, now)
                              .compose(
                                  written ->
                                      written
                                          ? reopenCoarser(grain, start)
                                              .compose(
                                                  w -> store.clearDirty(grain, start, m.getValue()))
                                          : Future.succeededFuture());
                        });
              }
              return chain;
            });
  }

  /** Rewrites one interval; false when it cannot be now (re-opened finer intervals in it). */
  private interface Rewrite {
    Future<Boolean> write(long start, long now);
  }

  private Future<Void> reopenCoarser(LedgerGrain grain, long start) {
    List<Future<Void>> marks = new ArrayList<>();
    for (LedgerGrain g = grain.coarser(); g != null; g = g.coarser()) {
      marks.add(store.markDirty(g, List.of(Math.floorDiv(start, g.millis()) * g.millis())));
    }
    return Future.all(marks).mapEmpty();
  }

  // --- roll-ups ---

  private LedgerGrain finer(LedgerGrain grain) {
    return grain == LedgerGrain.HOUR ? LedgerGrain.MINUTE : LedgerGrain.HOUR;
  }

  private long length(LedgerGrain grain) {
    return grain == LedgerGrain.MINUTE ? allocation : grain.millis();
  }

  /**
   * The roll-ups of a grain: re-opened ones rewritten, then the next ones whose finer intervals are
   * all written, none of them re-opened.
   */
  private Future<Void> rollUps(LedgerGrain grain, long now) {
    LedgerGrain fine = finer(grain);
    long len = grain.millis();
    Future<Long> fineEnd = store.ledgerEdge(fine, true);
    Future<Long> fineBegin = store.ledgerEdge(fine, false);
    Future<Long> watermark = store.ledgerEdge(grain, true);
    Future<SortedMap<Long, Long>> fineDirty = store.dirty(fine, DIRTY_SCAN);
    return Future.all(fineEnd, fineBegin, watermark, fineDirty)
        .compose(
            v -> {
              if (fineEnd.result() == null) {
                return Future.succeededFuture();
              }
              Rewrite rewrite =
                  (start, n) ->
                      reopenedWithin(fineDirty.result(), start, len)
                          ? Future.succeededFuture(false)
                          : rollUp(grain, start, now).map(w -> true);
              long from =
                  watermark.result() != null
                      ? watermark.result()
                      : Math.floorDiv(fineBegin.result() + len - 1, len) * len;
              return reopened(grain, watermark.result(), now, rewrite)
                  .compose(w -> newRollUps(grain, from, fineEnd.result(), fineDirty.result(), now));
            });
  }

  private Future<Void> newRollUps(
      LedgerGrain grain, long start, long fineEnd, SortedMap<Long, Long> fineDirty, long now) {
    long len = grain.millis();
    if (budget <= 0 || start + len > fineEnd || reopenedWithin(fineDirty, start, len)) {
      return Future.succeededFuture();
    }
    return rollUp(grain, start, now)
        .compose(
            written ->
                written
                    ? newRollUps(grain, start + len, fineEnd, fineDirty, now)
                    : Future.succeededFuture());
  }

  private static boolean reopenedWithin(SortedMap<Long, Long> dirty, long start, long len) {
    return !dirty.subMap(start, start + len).isEmpty();
  }

  /**
   * Writes one roll-up interval as the sum by key of its finer intervals' rows; false (and nothing
   * written) when one of them is missing.
   */
  private Future<Boolean> rollUp(LedgerGrain grain, long start, long now) {
    LedgerGrain fine = finer(grain);
    long end = start + grain.millis();
    return store
        .ledger(fine, start, end)
        .compose(
            read -> {
              long expected = grain.millis() / length(fine);
              if (read.intervals().size() != expected) {
                LOG.warn(
                    "{} from {}: {} of its {} {} intervals written; not rolled up",
                    grain,
                    start,
                    read.intervals().size(),
                    expected,
                    fine);
                return Future.succeededFuture(false);
              }
              budget--;
              return store
                  .replaceLedger(grain, start, end, nextRev(now), sum(read, start, end), now)
                  .map(w -> true);
            });
  }

  /** The rows of a read summed by key, over [start, end), in the order of their first row. */
  static List<LedgerRow> sum(LedgerRead read, long start, long end) {
    List<LedgerRow> sorted = new ArrayList<>(read.rows());
    sorted.sort(java.util.Comparator.comparingLong(LedgerRow::start));
    Map<String, LedgerRow> sums = new LinkedHashMap<>();
    for (LedgerRow r : sorted) {
      sums.merge(
          r.key(),
          r.over(start, end, r.amounts()),
          (a, b) -> a.over(start, end, a.amounts().plus(b.amounts())));
    }
    return List.copyOf(sums.values());
  }
}
