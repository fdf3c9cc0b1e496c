package io.gputelemetry.processor;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which intervals of the minute ledger a batch's events re-open: those the events count in that the
 * ledger writer may already have written. A sample covers back up to its allowed gap and cuts the
 * coverage of the GPU's next sample, at most that gap later: it counts in the intervals of [ts -
 * gap, ts + gap]. A request counts in its own interval; a counter reading in its own and in those
 * of the next reading's difference, at most the reading gap later.
 *
 * <p>The writer writes an interval once its end is {@code lateness} in the past; an interval is
 * marked when its end is half that in the past when the batch is stored, so that clocks of
 * processors that differ by less than half the horizon miss none. The marks are derived from the
 * batch alone and stored before its offsets are committed: a crash between storing the events and
 * marking replays the batch, whose events (duplicates then) mark again.
 */
final class LedgerMarks {
  private final long allocation;
  private final long markAfter;
  private final long sampleGap;
  private final long readingGap;

  /**
   * @param allocation the allocation interval (the minute ledger's interval), ms
   * @param lateness the writer's horizon (ledger.lateness), ms
   * @param sampleGap the longest gap a sample without its own max_gap_s covers, ms
   * @param readingGap the longest time between two counted counter readings, ms
   */
  LedgerMarks(long allocation, long lateness, long sampleGap, long readingGap) {
    this.allocation = allocation;
    this.markAfter = lateness / 2;
    this.sampleGap = sampleGap;
    this.readingGap = readingGap;
  }

  /** The starts of the intervals the batch's events re-open, as of {@code now}. */
  Set<Long> intervals(Batch b, long now) {
    Set<Long> starts = new TreeSet<>();
    long closedBefore = now - markAfter;
    for (EventType type : EventType.values()) {
      for (Batch.Item item : b.items(type)) {
        Event e = item.stored().event();
        long ts = e.ts().toEpochMilli();
        long from;
        long to;
        if (type == EventType.GPU_SAMPLE) {
          long gap = Math.max(sampleGap, Math.round(e.number(EventFields.G_MAX_GAP, 0) * 1000));
          from = ts - gap;
          to = ts + gap;
        } else {
          from = ts;
          to = e.text(EventFields.T_READING_OF) == null ? ts : ts + readingGap;
        }
        for (long s = Math.floorDiv(from, allocation) * allocation;
            s <= to && s + allocation <= closedBefore;
            s += allocation) {
          starts.add(s);
        }
      }
    }
    return starts;
  }
}
