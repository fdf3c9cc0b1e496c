package io.gputelemetry.store;

import java.util.List;
import java.util.SortedSet;

/**
 * The ledger rows of one grain within a range, read from complete intervals only: {@code intervals}
 * holds the start of each written interval the rows come from (an interval written with no rows is
 * there too).
 */
public record LedgerRead(List<LedgerRow> rows, SortedSet<Long> intervals) {}
