package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.store.UsageRows;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Without a store: which GPUs' neighbours the calculator asks the usage service to read, and a MIG
 * slice's contracted price share. RangeSplitsTest checks the same through the store (and is the
 * reason these matter: a range's edges bill right only when the neighbours are read); these run in
 * milliseconds, so mutation testing runs them for every mutant.
 */
class CalculatorNeighboursTest {
  private static final long F = 1_800_000_000_000L;
  private static final String A100 = "A100-SXM-80GB";

  private static UsageRows.Sample sample(String gpu, long offsetMs) {
    return new UsageRows.Sample(gpu, F + offsetMs, "GA", "m1", null, 100, null, false);
  }

  /**
   * Range [F, F+60 s). "edges" has samples exactly on from and on to; "inside" only strictly
   * inside; "early" one before from and none at or after to; "late" none at or before from and one
   * after to.
   */
  @Test
  void theGpusWithoutASampleAtOrBeyondAnEdgeAreTheOnesWhoseNeighbourIsAskedFor() {
    UsageCalculator c =
        new UsageCalculator(
            F, F + 60_000, 0, 30_000, 3_000, new PriceBook(Map.of(), Map.of()), null);
    assertEquals(Set.of(), c.gpusNeedingPredecessor(), "no samples: nothing to read");
    for (long t : new long[] {0, 30_000, 60_000}) {
      c.addSample(sample("edges", t));
    }
    c.addSample(sample("inside", 10_000));
    c.addSample(sample("inside", 50_000));
    c.addSample(sample("early", -5_000));
    c.addSample(sample("early", 30_000));
    c.addSample(sample("late", 20_000));
    c.addSample(sample("late", 70_000));
    assertEquals(Set.of("inside", "late"), c.gpusNeedingPredecessor());
    assertEquals(Set.of("inside", "early"), c.gpusNeedingSuccessor());
    assertEquals(Set.of("edges", "inside", "early", "late"), c.gpus());
  }

  /**
   * A 3g.40gb slice (3/7) of an A100 on a reserved node (res-1: committed 12.6 $/h, list 25.2 $/h)
   * serving m1 over [F, F+120 s), samples every 2 s: m1 is 3/7 of 120 s at 0.0035 $/s effective
   * (0.18 $) and of 0.007 $/s list and contracted (0.36 $), billed 0 (the commitment is billed
   * apart); the parent keeps 4/7 (0.24 $).
   */
  @Test
  void aMigSliceTakesItsShareOfEveryPriceOfItsParent() {
    PriceBook prices =
        new PriceBook(
            List.of(
                new PriceBook.Line(
                    A100,
                    PriceBook.Kind.ON_DEMAND,
                    List.of("*"),
                    null,
                    List.of(new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 25.2))),
                new PriceBook.Line(
                    A100,
                    PriceBook.Kind.COMMITTED,
                    List.of("res-*"),
                    new PriceBook.Commitment("ri-1", null, "Usage"),
                    List.of(new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 12.6)))),
            Map.of());
    UsageCalculator c =
        new UsageCalculator(F, F + 120_000, 0, 30_000, 3_000, prices, GpuProfiles.load());
    for (long t = -2; t <= 120; t += 2) {
      long ts = F + t * 1000;
      c.addSample(
          new UsageRows.Sample("P", ts, A100, null, null, 700, null, false, "res-1", null, null));
      c.addSample(
          new UsageRows.Sample(
              "P:gi1", ts, A100, "m1", null, 0, null, true, "res-1", "P", "3g.40gb"));
    }
    for (long t = 5; t < 120; t += 30) {
      c.addTokens(F + t * 1000, "m1", "A", 10, 10);
    }
    UsageCalculator.Report r = c.report(GroupBy.MODEL);
    Totals m1 = r.groups().get("m1").total();
    assertEquals(0.18, m1.costUsd(), 1e-12, "m1 effective");
    assertEquals(0.36, m1.listCostUsd(), 1e-12, "m1 list");
    assertEquals(0.36, m1.contractedCostUsd(), 1e-12, "m1 contracted");
    assertEquals(0, m1.billedCostUsd(), 1e-12, "m1 billed");
    assertEquals(0.24, r.idle().total().costUsd(), 1e-12, "idle: the parent's 4/7");
    assertEquals(0.42, r.fleet().costUsd(), 1e-12, "fleet");
  }
}
