package io.gputelemetry.accounting;

import io.gputelemetry.store.LedgerRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Roll-ups of ledger rows: the rows of each period (an hour, a day) with the same key summed into
 * one row over the whole period. Figures are additive, so a roll-up says what its rows said, and
 * the roll-up of a range is the roll-ups of its periods side by side.
 */
public final class RollUps {
  private RollUps() {}

  /**
   * The rows summed per period of {@code periodMillis} (periods start at multiples of it since the
   * epoch, so an hour starts on the hour) and key: in the order of their periods, then of their
   * keys. A row must lie within one period (the calculator's rows do when its step is the period or
   * divides it).
   */
  public static List<LedgerRow> sum(Iterable<LedgerRow> rows, long periodMillis) {
    if (periodMillis <= 0) {
      throw new IllegalArgumentException("periodMillis must be positive");
    }
    Map<Long, Map<String, LedgerRow>> periods = new TreeMap<>();
    for (LedgerRow r : rows) {
      long start = Math.floorDiv(r.start(), periodMillis) * periodMillis;
      long end = start + periodMillis;
      if (r.end() > end) {
        throw new IllegalArgumentException(
            "a row from " + r.start() + " to " + r.end() + " crosses a period's end at " + end);
      }
      periods
          .computeIfAbsent(start, k -> new TreeMap<>())
          .merge(
              r.key(),
              r.over(start, end, r.amounts()),
              (a, b) -> a.over(start, end, a.amounts().plus(b.amounts())));
    }
    List<LedgerRow> out = new ArrayList<>();
    periods.values().forEach(p -> out.addAll(p.values()));
    return out;
  }
}
