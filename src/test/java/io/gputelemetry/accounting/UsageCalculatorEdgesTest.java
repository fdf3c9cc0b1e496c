package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.store.UsageRows;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules of docs/accounting.md on a fleet where the energy counter and the power reading
 * disagree, with real GPU profiles (idle power), tokens exactly on the range's bounds, requests
 * without tokens, and a model drawn on two GPU models. Every expected figure is worked out by hand
 * in the comments.
 *
 * <pre>
 * range [F, F + 60 s), allocation 30 s, max gap 3 s, steps of 30 s
 * g1  H100-SXM-80GB (idle 70 W)  serves m1  samples every 2 s from F-2 to F+60, none from F+42 to
 *     F+48; power reads 500 W, the counter rises 600 J per 2 s (300 W) and resets at F+10
 * g2  MI300X-192GB (idle 140 W)  serves m2  samples every 2 s from F-2 to F+60, 100 W, no counter
 * prices: H100 3.60 $/h (0.001 $/s), MI300X 7.20 $/h (0.002 $/s)
 * </pre>
 */
class UsageCalculatorEdgesTest {
  private static final long F = 1_800_000_000_000L; // a whole minute
  private static final String H100 = "H100-SXM-80GB";
  private static final String MI300X = "MI300X-192GB";
  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              H100, List.of(new PriceBook.Price(F - 86_400_000L, 3.6)),
              MI300X, List.of(new PriceBook.Price(F - 86_400_000L, 7.2))),
          Map.of());

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-9, Math.abs(expected) * 1e-9), what);
  }

  private static long s(double seconds) {
    return F + Math.round(seconds * 1000);
  }

  private static UsageCalculator calculator(long step, long allocation) {
    return new UsageCalculator(F, F + 60_000, step, allocation, 3_000, PRICES, GpuProfiles.load());
  }

  /** g1 and g2 as in the class comment. */
  private static void addFleet(UsageCalculator c) {
    for (int t = -2; t <= 60; t += 2) {
      if (t <= 40 || t >= 50) {
        // Counter in mJ: 1 000 000 at F-2, +600 000 per 2 s up to 4 000 000 at F+8; at F+10 it
        // reads 100 000 (reset), then +600 000 per 2 s, also across the missing samples.
        long counter =
            t <= 8 ? 1_000_000L + (t + 2) / 2 * 600_000L : 100_000L + (t - 10) / 2 * 600_000L;
        c.addSample(new UsageRows.Sample("g1", s(t), H100, "m1", counter, 500));
      }
      c.addSample(new UsageRows.Sample("g2", s(t), MI300X, "m2", null, 100));
    }
  }

  /**
   * The fleet and per-tenant figures.
   *
   * <pre>
   * g1 covered time: [F, F+40) 40 s; the sample at F+50 follows a 10 s gap: its last 3 s
   *   [F+47, F+50); [F+50, F+60) 10 s. 53 s in all: 30 s in step 0, 23 s in step 1.
   * g1 energy: by counter at 300 W except the reset interval (F+8, F+10] and the capped gap, which
   *   use the 500 W power reading:
   *   step 0: 28 s x 300 + 2 s x 500 = 8400 + 1000 = 9400 J
   *   step 1: 10 s x 300 + 3 s x 500 + 10 s x 300 = 3000 + 1500 + 3000 = 7500 J
   *   active (idle 70 W): 9400 - 70 x 30 = 7300 J; 7500 - 70 x 23 = 5890 J
   * g1 cost: 0.001 $/s: 0.030 $ in step 0, 0.023 $ in step 1
   * g2: 60 s x 100 W = 6000 J (3000 J per step), active 0 (100 W is below the 140 W idle power,
   *   and active energy is never negative); cost 60 s x 0.002 = 0.12 $ (0.06 $ per step)
   * tokens: A at F (on from: counted) 100 + 50; B at F+10 0 + 0 (a request without tokens); B at
   *   F+30 (on the allocation boundary: interval 2) 200 + 100; C at F+45 on m2, 0 + 0; A at F-1 s
   *   and A at F+60 s (on to) are outside [from, to): not counted.
   * m1 interval 1: A has all 150 tokens -> A: 0.030 $, 9400 J, 7300 J active; B: 0 $, 1 request
   * m1 interval 2: B alone -> 0.023 $, 7500 J, 5890 J active
   * m2: no tokens in either interval -> idle 0.12 $, 6000 J (C: 1 request, no cost)
   * </pre>
   */
  @Test
  void counterEnergyResetsGapsBoundsAndRequestsByTenant() {
    UsageCalculator c = calculator(30_000, 30_000);
    addFleet(c);
    c.addTokens(s(-1), "m1", "A", 1000, 1000);
    c.addTokens(F, "m1", "A", 100, 50);
    c.addTokens(s(10), "m1", "B", 0, 0);
    c.addTokens(s(30), "m1", "B", 200, 100);
    c.addTokens(new UsageRows.Tokens(s(45), "m2", "C", 0, 0));
    c.addTokens(s(60), "m1", "A", 1000, 1000);
    Report r = c.report(GroupBy.TENANT);

    Totals fleet = r.fleet();
    near(0.053 + 0.12, fleet.costUsd(), "fleet cost");
    near(9400 + 7500 + 6000, fleet.energyJ(), "fleet energy: counter where usable, else power");
    near(7300 + 5890 + 0, fleet.activeEnergyJ(), "fleet active energy");
    near(53 + 60, fleet.gpuSeconds(), "fleet GPU seconds");
    near(0, fleet.unpricedGpuSeconds(), "all priced");
    near(100 + 200, fleet.inputTokens(), "fleet input tokens: only those in [from, to)");
    near(50 + 100, fleet.outputTokens(), "fleet output tokens");
    near(4, fleet.requests(), "fleet requests: A, B, B, C");
    near(0, fleet.unmeteredTokens(), "every model with tokens has GPU time");

    Totals a = r.groups().get("A").total();
    near(0.030, a.costUsd(), "A cost");
    near(9400, a.energyJ(), "A energy");
    near(7300, a.activeEnergyJ(), "A active energy");
    near(30, a.gpuSeconds(), "A GPU seconds");
    near(100, a.inputTokens(), "A input: the token on from counts, those before and on to not");
    near(50, a.outputTokens(), "A output");
    near(1, a.requests(), "A requests");

    Totals b = r.groups().get("B").total();
    near(0.023, b.costUsd(), "B cost: interval 2 only (its interval-1 request has no tokens)");
    near(7500, b.energyJ(), "B energy");
    near(5890, b.activeEnergyJ(), "B active energy");
    near(200, b.inputTokens(), "B input");
    near(100, b.outputTokens(), "B output");
    near(2, b.requests(), "B requests: one without tokens, one on the boundary");
    near(0, r.groups().get("B").series().get(0).costUsd(), "B step 0: a request, no cost");
    near(1, r.groups().get("B").series().get(0).requests(), "B step 0 requests");
    near(0.023, r.groups().get("B").series().get(1).costUsd(), "B step 1 cost");
    near(1, r.groups().get("B").series().get(1).requests(), "B step 1 requests");
    near(0.030, r.groups().get("A").series().get(0).costUsd(), "A step 0");
    near(0, r.groups().get("A").series().get(1).costUsd(), "A step 1");

    Totals cTotals = r.groups().get("C").total();
    near(0, cTotals.costUsd(), "C: a request without tokens carries no cost");
    near(1, cTotals.requests(), "C requests");
    near(0, cTotals.unmeteredTokens(), "C has no tokens to leave unmetered");
    assertEquals(List.of("A", "B", "C"), List.copyOf(r.groups().keySet()));

    Totals idle = r.idle().total();
    near(0.12, idle.costUsd(), "idle: m2 had no tokens");
    near(6000, idle.energyJ(), "idle energy");
    near(0, idle.activeEnergyJ(), "active energy is not below 0");
    near(60, idle.gpuSeconds(), "idle GPU seconds");
    near(0.06, r.idle().series().get(0).costUsd(), "idle step 0");
    near(0.06, r.idle().series().get(1).costUsd(), "idle step 1");
    near(3000, r.idle().series().get(1).energyJ(), "idle step 1 energy");
  }

  @Test
  void groupedByModelTheLinesSumTheirTenants() {
    UsageCalculator c = calculator(30_000, 30_000);
    addFleet(c);
    c.addTokens(F, "m1", "A", 100, 50);
    c.addTokens(s(30), "m1", "B", 200, 100);
    Report r = c.report(GroupBy.MODEL);
    // m1: A's 0.030 $ / 9400 J + B's 0.023 $ / 7500 J; 450 tokens, 2 requests. m2 is idle.
    Totals m1 = r.groups().get("m1").total();
    near(0.053, m1.costUsd(), "m1 cost");
    near(16_900, m1.energyJ(), "m1 energy");
    near(13_190, m1.activeEnergyJ(), "m1 active energy: 7300 + 5890");
    near(450, m1.tokens(), "m1 tokens");
    near(2, m1.requests(), "m1 requests");
    assertEquals(List.of("m1"), List.copyOf(r.groups().keySet()), "m2 is on the idle line");
    near(0.12, r.idle().total().costUsd(), "idle");
  }

  /**
   * A model drawn on two GPU models, one slot (allocation 60 s), one step.
   *
   * <pre>
   * m1 on g1 (H100, 0.001 $/s) for the whole minute (60 s) and on gX (GX: no price, no profile)
   * from F+30 only (samples from F+30: the first covers nothing, so 30 s); power 200 W on both, no counter.
   * tokens of m1: A 3 requests, 600 in + 300 out -> shared by GPU-seconds, 60 : 30 = 2/3 : 1/3:
   *   H100: 400 in, 200 out, 2 requests; GX: 200 in, 100 out, 1 request
   * cost: H100 60 s x 0.001 = 0.06 $, all to A; GX 0 $, 30 s unpriced
   * energy: H100 200 W x 60 = 12000 J, active (idle 70 W) 130 x 60 = 7800 J; GX 200 x 30 = 6000 J,
   *   active = all of it (no profile: idle power 0)
   * m2 on g2 (MI300X, 0.002 $/s, 100 W) all minute with one request without tokens: the GPU is
   *   idle (0.12 $), the request goes to the MI300X line
   * </pre>
   */
  @Test
  void groupedByGpuModelTokensAndRequestsAreSharedByGpuSeconds() {
    UsageCalculator c = calculator(0, 60_000);
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(new UsageRows.Sample("g1", s(t), H100, "m1", null, 200));
      if (t >= 30) {
        c.addSample(new UsageRows.Sample("gX", s(t), "GX", "m1", null, 200));
      }
      c.addSample(new UsageRows.Sample("g2", s(t), MI300X, "m2", null, 100));
    }
    c.addTokens(s(1), "m1", "A", 100, 100);
    c.addTokens(s(20), "m1", "A", 200, 100);
    c.addTokens(s(50), "m1", "A", 300, 100);
    c.addTokens(s(5), "m2", "B", 0, 0);
    Report r = c.report(GroupBy.GPU_MODEL);

    Totals h = r.groups().get(H100).total();
    near(400, h.inputTokens(), "H100 input: 2/3 of 600");
    near(200, h.outputTokens(), "H100 output: 2/3 of 300");
    near(2, h.requests(), "H100 requests: 2/3 of 3");
    near(0.06, h.costUsd(), "H100 cost");
    near(12_000, h.energyJ(), "H100 energy");
    near(7_800, h.activeEnergyJ(), "H100 active energy");
    Totals x = r.groups().get("GX").total();
    near(200, x.inputTokens(), "GX input: 1/3 of 600");
    near(100, x.outputTokens(), "GX output");
    near(1, x.requests(), "GX requests");
    near(0, x.costUsd(), "GX unpriced: no cost");
    near(30, x.unpricedGpuSeconds(), "GX unpriced seconds");
    near(6_000, x.activeEnergyJ(), "GX active energy: no profile, no idle power");
    Totals m = r.groups().get(MI300X).total();
    near(1, m.requests(), "the request without tokens goes to the GPU model that served m2");
    near(0, m.costUsd(), "MI300X time is idle");
    near(0.12, r.idle().total().costUsd(), "idle: m2's MI300X minute");
    near(4, r.fleet().requests(), "fleet requests: 3 of m1 + 1 of m2");
    assertEquals(1, r.range().steps(), "step 0: one step");
    assertEquals(1, r.idle().series().size());
  }

  @Test
  void tokensOfAModelWithoutGpuTimeAreUnmeteredAndGroupedUnderTheReservedNoGpuModelKey() {
    UsageCalculator c = calculator(30_000, 30_000);
    addFleet(c);
    c.addTokens(s(3), "m9", "C", 10, 30);
    Report byGpu = c.report(GroupBy.GPU_MODEL);
    Totals none = byGpu.groups().get(UsageCalculator.NO_GPU_MODEL).total();
    assertEquals("", UsageCalculator.NO_GPU_MODEL, "a name the schema forbids as a gpu_model");
    near(40, none.unmeteredTokens(), "10 + 30");
    near(40, none.tokens(), "the tokens are still reported");
    near(0, none.costUsd(), "unknown cost, not priced");
    assertNull(none.costPer1mTokensUsd(), "no priced tokens: no cost per token");
    assertNull(none.joulesPerToken(), "no metered tokens: no energy per token");
    near(40, byGpu.fleet().unmeteredTokens(), "fleet unmetered");
  }

  @Test
  void stepsCoverTheRangeAndTheLastMayBeShort() {
    // 60 s in steps of 25 s: [0, 25), [25, 50), [50, 60) -> 3 steps.
    UsageCalculator c = calculator(25_000, 30_000);
    addFleet(c);
    Report r = c.report(GroupBy.MODEL);
    assertEquals(3, r.range().steps());
    assertEquals(25_000, r.range().step());
    assertEquals(F + 50_000, r.range().stepStart(2));
    assertEquals(3, r.idle().series().size());
    // Without tokens everything is idle. g2 alone: 0.002 $/s x 25 s, 25 s, 10 s per step.
    // g1: 0.001 $/s x its 53 s split at 25 and 50: [0, 25) 25 s; [25, 40) + [47, 50) 18 s;
    // [50, 60) 10 s.
    near(0.002 * 25 + 0.001 * 25, r.idle().series().get(0).costUsd(), "step 0");
    near(0.002 * 25 + 0.001 * 18, r.idle().series().get(1).costUsd(), "step 1");
    near(0.002 * 10 + 0.001 * 10, r.idle().series().get(2).costUsd(), "step 2 (10 s)");
    // A step longer than the range is one step of the whole range.
    assertEquals(1, calculator(120_000, 30_000).report(GroupBy.MODEL).range().steps());
    assertEquals(60_000, calculator(120_000, 30_000).report(GroupBy.MODEL).range().step());
  }

  @Test
  void anEmptyOrInvertedRangeIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new UsageCalculator(F, F, 0, 30_000, 3_000, PRICES, null),
        "to == from");
    assertThrows(
        IllegalArgumentException.class,
        () -> new UsageCalculator(F, F - 1, 0, 30_000, 3_000, PRICES, null),
        "to before from");
  }

  @Test
  void aSampleWithoutModelLeavesItsTimeIdle() {
    UsageCalculator c = calculator(0, 30_000);
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(new UsageRows.Sample("g1", s(t), H100, null, null, 200));
    }
    c.addTokens(s(1), "m1", "A", 10, 10);
    Report r = c.report(GroupBy.MODEL);
    // 60 s x 0.001 $/s = 0.06 $, all idle; m1's tokens have no GPU time: unmetered.
    near(0.06, r.idle().total().costUsd(), "idle");
    near(20, r.groups().get("m1").total().unmeteredTokens(), "m1 unmetered");
    assertNull(r.groups().get(""), "no line for an empty model");
  }

  @Test
  void aReportOverItsCellLimitIsRefusedWithTheCountOfEveryGroupItWouldHave() {
    // Step 1 s over 60 s: 60 steps. Tenants A..E and the idle line: 6 x 60 = 360 cells.
    UsageCalculator c = calculator(1_000, 30_000);
    addFleet(c);
    for (String tenant : List.of("A", "B", "C", "D", "E")) {
      c.addTokens(s(5), "m1", tenant, 10, 10);
    }
    UsageCalculator.TooManyCells e =
        assertThrows(UsageCalculator.TooManyCells.class, () -> c.report(GroupBy.TENANT, 359));
    assertEquals(5, e.groups);
    assertEquals(60, e.steps);
    assertEquals(360, e.cells);
    assertEquals(359, e.limit);
    assertEquals(5, c.report(GroupBy.TENANT, 360).groups().size(), "exactly the limit is allowed");
    // The idle line alone over more steps than the limit: refused before any work.
    assertThrows(UsageCalculator.TooManyCells.class, () -> c.report(GroupBy.MODEL, 59));
  }

  @Test
  void aGapExactlyTheMaximumIsMeteredByTheCounterAndSharedByTokens() {
    // One unpriced H100 (idle 70 W) serving m1, samples 3 s apart (exactly the max gap: not
    // capped): the counter rises 900 J (300 W) while power reads 500 W. Covered [F, F+3): 3 s,
    // 900 J by the counter, active 900 - 70 x 3 = 690 J, all unpriced. Tokens A 300, B 100:
    // shares 0.75 / 0.25.
    UsageCalculator c =
        new UsageCalculator(
            F, F + 60_000, 0, 30_000, 3_000, new PriceBook(Map.of(), Map.of()), GpuProfiles.load());
    c.addSample(new UsageRows.Sample("g1", s(0), H100, "m1", 5_000_000L, 500));
    c.addSample(new UsageRows.Sample("g1", s(3), H100, "m1", 5_900_000L, 500));
    c.addTokens(s(1), "m1", "A", 200, 100);
    c.addTokens(s(2), "m1", "B", 100, 0);
    Report r = c.report(GroupBy.TENANT);
    near(900, r.fleet().energyJ(), "fleet energy by the counter");
    near(690, r.fleet().activeEnergyJ(), "fleet active energy");
    near(3, r.fleet().unpricedGpuSeconds(), "fleet unpriced seconds");
    Totals a = r.groups().get("A").total();
    Totals b = r.groups().get("B").total();
    near(0.75 * 900, a.energyJ(), "A energy");
    near(0.25 * 900, b.energyJ(), "B energy");
    near(0.75 * 690, a.activeEnergyJ(), "A active energy");
    near(0.25 * 690, b.activeEnergyJ(), "B active energy");
    near(0.75 * 3, a.gpuSeconds(), "A GPU seconds");
    near(0.25 * 3, b.unpricedGpuSeconds(), "B unpriced GPU seconds");
    near(0.75 * 3, a.unpricedGpuSeconds(), "A unpriced GPU seconds");
    near(0, a.costUsd() + b.costUsd(), "unpriced: no cost");
    // One millisecond more than the maximum: capped, the last 3 s by power (500 W).
    UsageCalculator capped =
        new UsageCalculator(
            F, F + 60_000, 0, 30_000, 3_000, new PriceBook(Map.of(), Map.of()), GpuProfiles.load());
    capped.addSample(new UsageRows.Sample("g1", s(0), H100, "m1", 5_000_000L, 500));
    capped.addSample(new UsageRows.Sample("g1", s(3.001), H100, "m1", 5_900_000L, 500));
    Report rc = capped.report(GroupBy.TENANT);
    near(1500, rc.fleet().energyJ(), "capped: power x 3 s");
    near(3, rc.fleet().gpuSeconds(), "capped: 3 s covered");
  }

  @Test
  void aCounterThatDidNotMoveMeansNoEnergyNotThePowerReading() {
    // Two samples 2 s apart with the same counter reading while power reads 500 W: 0 J drawn by
    // the counter (a flat counter is a reading, not a reset).
    UsageCalculator c =
        new UsageCalculator(
            F, F + 60_000, 0, 30_000, 3_000, new PriceBook(Map.of(), Map.of()), GpuProfiles.load());
    c.addSample(new UsageRows.Sample("g1", s(0), H100, "m1", 5_000_000L, 500));
    c.addSample(new UsageRows.Sample("g1", s(2), H100, "m1", 5_000_000L, 500));
    Report r = c.report(GroupBy.TENANT);
    near(0, r.fleet().energyJ(), "flat counter");
    near(2, r.fleet().gpuSeconds(), "2 s covered");
  }

  @Test
  void timeBeyondASamplesOwnMaxGapIsReportedAsUncoveredNeverBilled() {
    // g1 (H100, $3.60/h = $0.001/s, power 500 W, no counter), each sample with its own max gap:
    //   F-5 (30 s) -> F+5 (3 s): gap 10 s, covers [F+2, F+5) = 3 s; [F, F+2) uncovered (2 s; the
    //     part before `from` is another range's);
    //   F+5 -> F+35 (30 s): gap exactly the max, covers all 30 s;
    //   F+35 -> F+50 (10 s): covers [F+40, F+50) = 10 s; 5 s uncovered;
    //   F+50 -> F+75 (10 s): covers [F+65, F+75), outside the range; [F+50, F+60) uncovered: 10 s.
    // g2: a gap wholly after the range counts nowhere. Covered 43 s, uncovered 17 s. A gap is
    // counted in the range where it began: F+35 -> F+50 and F+50 -> F+75 here; F-5 -> F+5 began
    // in the range before (its 2 s in this range are uncovered time here all the same).
    UsageCalculator c = calculator(0, 60_000);
    c.addSample(new UsageRows.Sample("g1", s(-5), H100, "m1", null, 500, 30_000L, false));
    c.addSample(new UsageRows.Sample("g1", s(5), H100, "m1", null, 500, 3_000L, false));
    c.addSample(new UsageRows.Sample("g1", s(35), H100, "m1", null, 500, 30_000L, false));
    c.addSample(new UsageRows.Sample("g1", s(50), H100, "m1", null, 500, 10_000L, false));
    c.addSample(new UsageRows.Sample("g1", s(75), H100, "m1", null, 500, 10_000L, false));
    c.addSample(new UsageRows.Sample("g2", s(70), H100, "m1", null, 500, 3_000L, false));
    c.addSample(new UsageRows.Sample("g2", s(90), H100, "m1", null, 500, 3_000L, false));
    c.addTokens(s(10), "m1", "A", 100, 100);
    Report r = c.report(GroupBy.TENANT);
    near(43, r.fleet().gpuSeconds(), "covered GPU seconds");
    near(43 * 500, r.fleet().energyJ(), "energy of the covered time only");
    near(0.043, r.fleet().costUsd(), "cost of the covered time only");
    near(17, r.fleet().uncoveredGpuSeconds(), "uncovered GPU seconds");
    assertEquals(2, r.fleet().sampleGaps(), "gaps beyond their max that began in the range");
    // A tenant's view holds its own lines only: the fleet's uncovered time is not its figure.
    Report own = c.report(GroupBy.TENANT, "A");
    near(0, own.fleet().uncoveredGpuSeconds(), "a tenant's view");
    assertEquals(0, own.fleet().sampleGaps(), "a tenant's view");
  }
}
