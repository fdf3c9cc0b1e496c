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
 * between consecutive readings of a series (its target and model), dated at the later reading and
 * billed to its tenant. The series' base is the last reading counted from:
 *
 * <ul>
 *   <li>a reading whose server restarted (another counters_since_s than the base's; without it on
 *       both, a counter below the base's) counts its totals, from 0, and becomes the base;
 *   <li>a reading below the base that is not a restart (another producer's answer that arrived
 *       late) counts nothing and leaves the base as it is, so it cannot count anything twice;
 *   <li>any other reading counts its increase over the base and becomes the base.
 * </ul>
 *
 * The first reading of a series is a base; a reading more than {@code maxGap} after the base counts
 * nothing and becomes the base (so a range never needs readings older than that). Since only the
 * readings matter, a second producer reading the same series, duplicates, or missed scrapes change
 * no figure.
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
      UsageRows.Reading base = s.get(0);
      for (int i = 1; i < s.size(); i++) {
        UsageRows.Reading r = s.get(i);
        Step step = step(base, r, maxGap);
        if (step.delta() != null) {
          out.add(step.delta());
        }
        base = step.base();
      }
    }
    return out;
  }

  /** What reading {@code r} adds after {@code base}, and the base after it. */
  private record Step(Delta delta, UsageRows.Reading base) {}

  private static Step step(UsageRows.Reading base, UsageRows.Reading r, long maxGap) {
    long gap = r.ts() - base.ts();
    if (gap <= 0) {
      return new Step(null, base);
    }
    if (gap > maxGap) {
      return new Step(null, r);
    }
    boolean below =
        r.promptTotal() < base.promptTotal()
            || r.generationTotal() < base.generationTotal()
            || r.requestsTotal() < base.requestsTotal();
    boolean known = r.countersSince() != null && base.countersSince() != null;
    boolean restart = known ? Math.abs(r.countersSince() - base.countersSince()) >= 1e-3 : below;
    if (!restart && below) {
      return new Step(null, base);
    }
    long in = restart ? r.promptTotal() : r.promptTotal() - base.promptTotal();
    long out = restart ? r.generationTotal() : r.generationTotal() - base.generationTotal();
    long req = restart ? r.requestsTotal() : r.requestsTotal() - base.requestsTotal();
    Delta d =
        in == 0 && out == 0 && req == 0
            ? null
            : new Delta(r.ts(), r.model(), r.tenant(), in, out, req);
    return new Step(d, r);
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
      UsageRows.Reading base = last.get(key);
      if (base == null) {
        last.put(key, r);
        return null;
      }
      if (ORDER.compare(r, base) <= 0) {
        return null;
      }
      Step step = step(base, r, maxGap);
      last.put(key, step.base());
      return step.delta();
    }
  }
}
