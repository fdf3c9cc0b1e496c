package io.gputelemetry.accounting;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counter readings of inference servers (vLLM, NIM) to token records: the tokens and requests
 * between two consecutive readings of a series (its target and model), dated at the later reading
 * and billed to its tenant. A counter below the reading before means the server restarted and
 * counted from 0 there, so the later reading's totals are the increase. The first reading of a
 * series is a baseline; two readings further apart than {@code maxGap} count nothing (nor does a
 * range that would need a reading older than that). Since only the readings themselves matter, a
 * second producer reading the same series, duplicates, or missed scrapes change no figure.
 */
public final class CounterReadings {
  private CounterReadings() {}

  /** The tokens and requests of one interval between two readings, dated at its end. */
  public record Delta(
      long ts, String model, String tenant, long input, long output, long requests) {}

  private static final Comparator<UsageRows.Reading> ORDER =
      Comparator.comparingLong(UsageRows.Reading::ts)
          .thenComparingLong(UsageRows.Reading::promptTotal)
          .thenComparingLong(UsageRows.Reading::generationTotal)
          .thenComparingLong(UsageRows.Reading::requestsTotal);

  /** The deltas of a set of readings (any order), over every series in it. */
  public static List<Delta> deltas(Collection<UsageRows.Reading> readings, long maxGap) {
    Map<String, List<UsageRows.Reading>> series = new LinkedHashMap<>();
    for (UsageRows.Reading r : readings) {
      series.computeIfAbsent(r.readingOf() + '\n' + r.model(), k -> new ArrayList<>()).add(r);
    }
    List<Delta> out = new ArrayList<>();
    for (List<UsageRows.Reading> s : series.values()) {
      s.sort(ORDER);
      for (int i = 1; i < s.size(); i++) {
        Delta d = delta(s.get(i - 1), s.get(i), maxGap);
        if (d != null) {
          out.add(d);
        }
      }
    }
    return out;
  }

  /** What {@code b} adds to {@code a}; null when nothing (too far apart, same instant, nothing). */
  static Delta delta(UsageRows.Reading a, UsageRows.Reading b, long maxGap) {
    long gap = b.ts() - a.ts();
    if (gap <= 0 || gap > maxGap) {
      return null;
    }
    boolean reset =
        b.promptTotal() < a.promptTotal()
            || b.generationTotal() < a.generationTotal()
            || b.requestsTotal() < a.requestsTotal();
    long in = reset ? b.promptTotal() : b.promptTotal() - a.promptTotal();
    long out = reset ? b.generationTotal() : b.generationTotal() - a.generationTotal();
    long req = reset ? b.requestsTotal() : b.requestsTotal() - a.requestsTotal();
    return in == 0 && out == 0 && req == 0
        ? null
        : new Delta(b.ts(), b.model(), b.tenant(), in, out, req);
  }

  /**
   * The live form for the processor: the last reading per series as they arrive; a reading newer
   * than its series' last gives its delta, an older one (another producer's, late) nothing. Holds
   * at most {@code maxSeries} series (the least recently read is forgotten: its next reading is a
   * baseline again), so readings of invented series cannot grow memory.
   */
  public static final class Live {
    private final long maxGap;
    private final Map<String, UsageRows.Reading> last;

    public Live(long maxGap, int maxSeries) {
      this.maxGap = maxGap;
      this.last =
          new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, UsageRows.Reading> e) {
              return size() > maxSeries;
            }
          };
    }

    /** The delta a newly stored reading adds, or null. */
    public synchronized Delta add(UsageRows.Reading r) {
      String key = r.readingOf() + '\n' + r.model();
      UsageRows.Reading before = last.get(key);
      if (before != null && ORDER.compare(r, before) <= 0) {
        return null;
      }
      last.put(key, r);
      return before == null ? null : delta(before, r, maxGap);
    }
  }
}
