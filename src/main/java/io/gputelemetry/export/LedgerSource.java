package io.gputelemetry.export;

import io.gputelemetry.store.LedgerRow;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.Function;

/**
 * Where an export reads the ledger's hourly roll-up rows from, one hour at a time, so that an
 * export of any length holds one hour's rows: the next hour is read only when the future returned
 * for the previous one has completed (the answer's writer has taken it).
 */
public interface LedgerSource {
  /**
   * Hands the hourly rows of [from, to) (both on the hour) to {@code hour}, one call per hour that
   * has rows, in order of time; each call's rows all start at that hour. The future completes once
   * every hour was handed over and taken, and fails with the first failure of a read or of a
   * returned future (no hour is handed over after it).
   */
  Future<Void> hourlyRows(long from, long to, Function<List<LedgerRow>, Future<Void>> hour);
}
