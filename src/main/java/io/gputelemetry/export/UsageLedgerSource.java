package io.gputelemetry.export;

import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.store.LedgerRow;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The hourly rows of the ledger ({@link UsageService#rolledUp}: its stored hourly roll-ups, and the
 * hours it does not hold yet computed from the raw events), a day at a time. The rows of a range on
 * the grid are the rows of its parts, so reading by day changes no figure; it bounds what is held
 * to one day's events and rows.
 */
public final class UsageLedgerSource implements LedgerSource {
  static final long HOUR = 3_600_000L;
  private final UsageService usage;
  private final long chunkMillis;

  public UsageLedgerSource(UsageService usage) {
    this(usage, 24 * HOUR);
  }

  UsageLedgerSource(UsageService usage, long chunkMillis) {
    this.usage = usage;
    this.chunkMillis = chunkMillis;
  }

  @Override
  public Future<Void> hourlyRows(long from, long to, Function<List<LedgerRow>, Future<Void>> hour) {
    if (from >= to) {
      return Future.succeededFuture();
    }
    long end = Math.min(to, from + chunkMillis);
    return usage
        .rolledUp(from, end, HOUR)
        .compose(rows -> handOver(rows, 0, hour))
        .compose(v -> hourlyRows(end, to, hour));
  }

  /** Hands the hours of a chunk's rows (in order of time) over one by one, from index {@code i}. */
  static Future<Void> handOver(
      List<LedgerRow> rows, int i, Function<List<LedgerRow>, Future<Void>> hour) {
    if (i >= rows.size()) {
      return Future.succeededFuture();
    }
    long start = rows.get(i).start();
    List<LedgerRow> these = new ArrayList<>();
    int j = i;
    for (; j < rows.size() && rows.get(j).start() == start; j++) {
      these.add(rows.get(j));
    }
    int next = j;
    return hour.apply(these).compose(v -> handOver(rows, next, hour));
  }
}
