package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.UsageRows;
import io.gputelemetry.support.SameReports;
import io.gputelemetry.support.Tries;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The ledger's rows are the calculation: a report summed from rows equals the report computed from
 * the raw events, and the rows of a range are the rows of its grid intervals computed one by one
 * (what a ledger written interval by interval stores).
 */
class LedgerRowsTest {
  private static final long F = 1_800_000_000_000L; // on the grid
  private static final long A = 60_000;
  private static final long GAP = 3_000;
  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              "GA",
              List.of(
                  new PriceBook.Price(F - 86_400_000L, 3.6), new PriceBook.Price(F + 95_000, 7.2)),
              "GB",
              List.of(new PriceBook.Price(F + 40_000, 36))),
          Map.of());

  /**
   * One GPU (GA, 3.60 $/h = 0.001 $/s, 100 W, no counter) serving m1 from F - 2 s to F + 120 s
   * every 2 s; tenant A sends 30 tokens in the first minute, nobody in the second; tenant B sends
   * 10 tokens of m9, which no GPU serves. Minute 1: a GPU row for A (60 s, 0.06 $, 6000 J, 30
   * tokens split over its one GPU model), a TOKENS row for A (30 priced tokens), an UNMETERED row
   * for B. Minute 2: an IDLE row (60 s, 0.06 $ + ... at 7.20 $/h from F + 95 s).
   */
  @Test
  void aMinuteWithTokensAllocatesAndAMinuteWithoutIsIdle() {
    UsageCalculator c = new UsageCalculator(F, F + 2 * A, A, A, GAP, PRICES, null);
    for (long t = F - 2_000; t <= F + 120_000; t += 2_000) {
      c.addSample(new UsageRows.Sample("g1", t, "GA", "m1", null, 100));
    }
    c.addTokens(F + 1_000, "m1", "A", 20, 10);
    c.addTokens(F + 2_000, "m9", "B", 5, 5);
    List<LedgerRow> rows = c.rows();
    Map<String, LedgerRow> byKey = new TreeMap<>();
    rows.forEach(r -> byKey.put(r.start() - F + " " + r.kind() + " " + r.tenant(), r));
    assertEquals(Set.of("0 GPU A", "0 TOKENS A", "0 UNMETERED B", "60000 IDLE "), byKey.keySet());
    LedgerRow.Amounts gpu = byKey.get("0 GPU A").amounts();
    assertEquals(60, gpu.gpuSeconds(), 1e-9);
    assertEquals(0.06, gpu.costUsd(), 1e-12);
    assertEquals(6_000, gpu.energyJ(), 1e-9);
    assertEquals(30, gpu.inputTokens() + gpu.outputTokens(), 1e-9);
    assertEquals(30, byKey.get("0 TOKENS A").amounts().pricedTokens(), 1e-9);
    assertEquals(10, byKey.get("0 UNMETERED B").amounts().unmeteredTokens(), 1e-9);
    LedgerRow idle = byKey.get("60000 IDLE ");
    assertEquals("m1", idle.model());
    assertEquals("GA", idle.gpuModel());
    // 35 s at 0.001 $/s, then 25 s at 0.002 $/s.
    assertEquals(0.035 + 0.05, idle.amounts().costUsd(), 1e-12);
    assertEquals(F + A, idle.start());
    assertEquals(F + 2 * A, idle.end());
  }

  /**
   * Random fleets: for every grouping, the report summed from the rows of each grid interval
   * computed alone equals the report of the whole range computed at once, line by line and step by
   * step; and the rows are the same rows.
   */
  @Test
  void rowsOfEachIntervalAloneMakeTheWholeRangesReport() {
    Random r = new Random(7);
    for (int i = 0; i < Tries.of(40); i++) {
      int intervals = 1 + r.nextInt(6);
      long to = F + intervals * A;
      List<UsageRows.Sample> samples = new ArrayList<>();
      List<UsageRows.Tokens> tokens = new ArrayList<>();
      fleet(r, to, samples, tokens);
      UsageCalculator whole = calculator(F, to, samples, tokens);
      List<LedgerRow> parts = new ArrayList<>();
      for (long s = F; s < to; s += A) {
        parts.addAll(calculator(s, s + A, samples, tokens).rows());
      }
      assertEquals(keys(whole.rows()), keys(parts), "try " + i + ": the same rows");
      UsageCalculator.Range range = new UsageCalculator.Range(F, to, A, intervals);
      for (GroupBy g : GroupBy.values()) {
        Report raw = whole.report(g);
        Report summed = UsageCalculator.report(range, parts, g, Integer.MAX_VALUE, null);
        String what = "try " + i + " " + g;
        same(raw.fleet(), summed.fleet(), what + " fleet");
        assertEquals(raw.groups().keySet(), summed.groups().keySet(), what + " groups");
        for (String k : raw.groups().keySet()) {
          for (int step = 0; step < intervals; step++) {
            same(
                raw.groups().get(k).series().get(step),
                summed.groups().get(k).series().get(step),
                what + " " + k + " step " + step);
          }
        }
        for (int step = 0; step < intervals; step++) {
          same(
              raw.idle().series().get(step),
              summed.idle().series().get(step),
              what + " idle step " + step);
        }
        String tenant = "t" + r.nextInt(3);
        Report mine = UsageCalculator.report(range, parts, g, Integer.MAX_VALUE, tenant);
        same(whole.report(g, tenant).fleet(), mine.fleet(), what + " tenant " + tenant);
        assertEquals(
            0, mine.idle().total().gpuSeconds(), what + " no idle line in a tenant's view");
      }
    }
  }

  /** Rows are what a ledger stores: none without anything in the interval. */
  @Test
  void anEmptyIntervalHasNoRows() {
    assertTrue(new UsageCalculator(F, F + A, A, A, GAP, PRICES, null).rows().isEmpty());
  }

  private static Set<String> keys(List<LedgerRow> rows) {
    Set<String> keys = new HashSet<>();
    for (LedgerRow r : rows) {
      assertTrue(keys.add(r.start() + " " + r.key()), "one row per key and interval: " + r);
    }
    return keys;
  }

  private static UsageCalculator calculator(
      long from, long to, List<UsageRows.Sample> samples, List<UsageRows.Tokens> tokens) {
    UsageCalculator c = new UsageCalculator(from, to, A, A, GAP, PRICES, GpuProfiles.load());
    samples.forEach(c::addSample);
    tokens.forEach(c::addTokens);
    return c;
  }

  private static void same(Totals a, Totals b, String what) {
    SameReports.same(a, b, what);
  }

  private static void fleet(
      Random r, long to, List<UsageRows.Sample> samples, List<UsageRows.Tokens> tokens) {
    String[] gpuModels = {"GA", "GB", "GX", "H100-SXM-80GB"};
    String[] models = {"m1", "m2", null};
    Long[] gaps = {null, 3_000L, 10_000L, 90_000L};
    for (int g = 0; g < 1 + r.nextInt(4); g++) {
      String gpuModel = gpuModels[r.nextInt(gpuModels.length)];
      boolean counter = r.nextBoolean();
      long energy = r.nextInt(1_000_000);
      for (long t = F - r.nextInt(100_000); t < to + 100_000; ) {
        energy = r.nextInt(30) == 0 ? r.nextInt(1000) : energy + r.nextInt(2_000_000);
        samples.add(
            new UsageRows.Sample(
                "g" + g,
                t,
                gpuModel,
                models[r.nextInt(models.length)],
                counter ? energy : null,
                50 + r.nextInt(600),
                gaps[r.nextInt(gaps.length)],
                false));
        t += r.nextInt(15) == 0 ? 60_000 + r.nextInt(120_000) : 1_000 + r.nextInt(20_000);
      }
    }
    String[] tokenModels = {"m1", "m2", "m9"};
    for (int k = r.nextInt(40); k > 0; k--) {
      long ts = F + (long) (r.nextDouble() * (to - F));
      String model = tokenModels[r.nextInt(tokenModels.length)];
      String tenant = "t" + r.nextInt(3);
      tokens.add(new UsageRows.Tokens(ts, model, tenant, r.nextInt(3) * 500, r.nextInt(1000)));
    }
  }
}
