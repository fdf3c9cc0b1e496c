package io.gputelemetry.accounting;

import io.gputelemetry.store.LedgerGrain;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * How a range on the allocation grid is read from the ledger: each step's part of [from, end) is
 * tiled by the coarsest intervals that lie in it (UTC days, then hours, then allocation intervals
 * at its edges), and the tiles of each grain are merged into runs, one read each.
 */
final class LedgerTiles {
  private LedgerTiles() {}

  /** A run of adjacent tiles of one grain: [from, to). */
  record Run(long from, long to) {}

  /**
   * The runs per grain that tile [from, end) without crossing a step boundary (from + k * step).
   * From, end and step are multiples of the allocation interval, which divides an hour.
   */
  static Map<LedgerGrain, List<Run>> plan(long from, long end, long step, long allocation) {
    Map<LedgerGrain, List<Run>> runs = new EnumMap<>(LedgerGrain.class);
    for (LedgerGrain g : LedgerGrain.values()) {
      runs.put(g, new ArrayList<>());
    }
    for (long a = from; a < end; a += step) {
      long b = Math.min(a + step, end);
      for (long t = a; t < b; ) {
        LedgerGrain g = LedgerGrain.MINUTE;
        long len = allocation;
        for (LedgerGrain coarse : List.of(LedgerGrain.DAY, LedgerGrain.HOUR)) {
          if (t % coarse.millis() == 0 && t + coarse.millis() <= b) {
            g = coarse;
            len = coarse.millis();
            break;
          }
        }
        add(runs.get(g), t, t + len);
        t += len;
      }
    }
    return runs;
  }

  /** Adds [from, to) to the runs, extending the last run when adjacent. */
  static void add(List<Run> runs, long from, long to) {
    if (!runs.isEmpty() && runs.get(runs.size() - 1).to() == from) {
      runs.set(runs.size() - 1, new Run(runs.get(runs.size() - 1).from(), to));
    } else {
      runs.add(new Run(from, to));
    }
  }
}
