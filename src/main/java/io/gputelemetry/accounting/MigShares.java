package io.gputelemetry.accounting;

import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The MIG instances of one physical GPU over time: which models hold which share of it. An
 * instance's sample covers the time since the same instance's previous sample, capped to its gap,
 * like a GPU's; over that time the instance holds its profile's share of the parent (compute slices
 * over the GPU's, from the GPU profiles). Where the instances' shares add up to more than the whole
 * GPU (a layout that cannot exist: stale instances of an earlier layout), they are scaled down to
 * add up to it.
 */
final class MigShares {
  /** An instance's covered time and what it holds. */
  private record Segment(long from, long to, String model, double share) {}

  private final long[] bounds;
  private final List<Map<String, Double>> shares;

  private MigShares(long[] bounds, List<Map<String, Double>> shares) {
    this.bounds = bounds;
    this.shares = shares;
  }

  /**
   * Per parent GPU, its instances' shares, from the MIG instance samples added (others are
   * ignored). An instance without a parent, or whose profile the table does not know for its GPU
   * model, holds nothing: its time stays with the parent.
   */
  static Map<String, MigShares> of(
      List<UsageRows.Sample> samples, GpuProfiles profiles, long defaultMaxGap) {
    List<UsageRows.Sample> sorted = new ArrayList<>();
    for (UsageRows.Sample s : samples) {
      if (s.migInstance() && s.migParentUuid() != null && profiles != null) {
        sorted.add(s);
      }
    }
    sorted.sort(
        Comparator.comparing(UsageRows.Sample::gpuUuid).thenComparingLong(UsageRows.Sample::ts));
    Map<String, List<Segment>> byParent = new TreeMap<>();
    UsageRows.Sample prev = null;
    for (UsageRows.Sample s : sorted) {
      boolean first = prev == null || !prev.gpuUuid().equals(s.gpuUuid());
      UsageRows.Sample before = prev;
      prev = s;
      Double share = profiles.migShare(s.gpuModel(), s.migProfile());
      if (first || share == null) {
        continue;
      }
      long allowed = s.maxGapMs() != null ? s.maxGapMs() : defaultMaxGap;
      long from = Math.max(before.ts(), s.ts() - allowed);
      if (from < s.ts()) {
        byParent
            .computeIfAbsent(s.migParentUuid(), k -> new ArrayList<>())
            .add(new Segment(from, s.ts(), s.model() == null ? "" : s.model(), share));
      }
    }
    Map<String, MigShares> out = new HashMap<>();
    byParent.forEach((parent, segments) -> out.put(parent, layout(segments)));
    return out;
  }

  /** Cuts the time at every segment's ends; between two cuts, the shares of the segments there. */
  private static MigShares layout(List<Segment> segments) {
    TreeSet<Long> cuts = new TreeSet<>();
    segments.forEach(
        g -> {
          cuts.add(g.from());
          cuts.add(g.to());
        });
    long[] bounds = cuts.stream().mapToLong(Long::longValue).toArray();
    List<List<Segment>> starting = new ArrayList<>();
    for (int i = 0; i < bounds.length; i++) {
      starting.add(new ArrayList<>());
    }
    for (Segment g : segments) {
      starting.get(Arrays.binarySearch(bounds, g.from())).add(g);
    }
    List<Map<String, Double>> shares = new ArrayList<>(bounds.length);
    // The segments in force, by their order in the list (a deterministic order of the sums).
    TreeMap<Integer, Segment> active = new TreeMap<>();
    int next = 0;
    for (int i = 0; i + 1 < bounds.length; i++) {
      long at = bounds[i];
      active.values().removeIf(g -> g.to() <= at);
      for (Segment g : starting.get(i)) {
        active.put(next++, g);
      }
      double sum = 0;
      for (Segment g : active.values()) {
        sum += g.share();
      }
      double scale = sum > 1 ? 1 / sum : 1;
      Map<String, Double> m = new TreeMap<>();
      for (Segment g : active.values()) {
        m.merge(g.model(), g.share() * scale, Double::sum);
      }
      shares.add(m);
    }
    return new MigShares(bounds, shares);
  }

  /** The next instant after t where the shares may change (Long.MAX_VALUE: none). */
  long nextBound(long t) {
    int i = Arrays.binarySearch(bounds, t);
    int n = i >= 0 ? i + 1 : -i - 1;
    return n < bounds.length ? bounds[n] : Long.MAX_VALUE;
  }

  /** The models' shares of the GPU from t until {@link #nextBound}; empty where none. */
  Map<String, Double> at(long t) {
    int i = Arrays.binarySearch(bounds, t);
    int k = i >= 0 ? i : -i - 2;
    return k >= 0 && k < shares.size() ? shares.get(k) : Map.of();
  }
}
