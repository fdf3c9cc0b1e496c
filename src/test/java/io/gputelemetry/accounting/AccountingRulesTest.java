package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.store.UsageRows;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules of docs/accounting.md that the other calculator tests leave implicit, one test each,
 * with figures worked out by hand in the comments. Range [F, F + 60 s), allocation 30 s, G0 3 s;
 * H100 (idle 70 W in conf/gpu-profiles.json) at 3.60 $/h (0.001 $/s); GX has no price and no
 * profile.
 */
class AccountingRulesTest {
  private static final long F = 1_800_000_000_000L;
  private static final String H100 = "H100-SXM-80GB";
  private static final PriceBook PRICES =
      new PriceBook(Map.of(H100, List.of(new PriceBook.Price(F - 86_400_000L, 3.6))), Map.of());

  private static UsageCalculator calc() {
    return new UsageCalculator(F, F + 60_000, 0, 30_000, 3_000, PRICES, GpuProfiles.load());
  }

  private static long s(double seconds) {
    return F + Math.round(seconds * 1000);
  }

  private static UsageRows.Sample sample(
      String gpu, double t, String gpuModel, String model, double power, Long gapMs) {
    return new UsageRows.Sample(gpu, s(t), gpuModel, model, null, power, gapMs, false);
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-9, Math.abs(expected) * 1e-12), what);
  }

  /**
   * Half-open [from, to): samples at F-2 ... F+62 every 2 s (power 100 W) cover exactly the 60 s of
   * the range; the part of (F+58, F+60] and beyond to is the next range's, that before F the
   * previous one's. A token event at F counts, one at F+60 does not.
   */
  @Test
  void rangesAreHalfOpenForGpuTimeAndTokens() {
    UsageCalculator c = calc();
    for (int t = -2; t <= 62; t += 2) {
      c.addSample(sample("g1", t, H100, "m1", 100, null));
    }
    c.addTokens(F, "m1", "A", 10, 0);
    c.addTokens(s(60), "m1", "A", 1000, 0);
    Report r = c.report(GroupBy.MODEL);
    near(60, r.fleet().gpuSeconds(), "60 s, not 62 or 64");
    near(0.06, r.fleet().costUsd(), "60 s x 0.001 $/s");
    near(10, r.fleet().tokens(), "the token at from counts, the one at to does not");
  }

  /**
   * The active-energy clamp applies per piece (one sample's interval within one slot), before any
   * sum. g1 (H100, idle 70 W), max gap 30 s, no counter: F-10 (first ever: nothing); F+10 at 20 W
   * covers [F, F+10) in range: 200 J, active max(0, 200 - 700) = 0; F+40 at 170 W covers [F+10,
   * F+30) 3400 J, active 3400 - 1400 = 2000, and [F+30, F+40) 1700 J, active 1700 - 700 = 1000.
   * Energy 5300 J, active 3000 J (a clamp of the sum would give 5300 - 70 x 40 = 2500).
   */
  @Test
  void theActiveEnergyClampAppliesPerPieceBeforeAnySum() {
    UsageCalculator c = calc();
    c.addSample(sample("g1", -10, H100, "m1", 500, 30_000L));
    c.addSample(sample("g1", 10, H100, "m1", 20, 30_000L));
    c.addSample(sample("g1", 40, H100, "m1", 170, 30_000L));
    Totals f = c.report(GroupBy.MODEL).fleet();
    near(5300, f.energyJ(), "energy");
    near(3000, f.activeEnergyJ(), "active: 0 + 2000 + 1000");
    near(40, f.gpuSeconds(), "GPU seconds");
  }

  /** A GPU model without a profile has idle power 0: gX at 100 W for 60 s is 6000 J, all active. */
  @Test
  void idlePowerIsZeroForAGpuModelWithoutAProfile() {
    UsageCalculator c = calc();
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(sample("gX", t, "GX", "m1", 100, null));
    }
    Totals f = c.report(GroupBy.MODEL).fleet();
    near(6000, f.energyJ(), "energy");
    near(6000, f.activeEnergyJ(), "all of it active");
    near(60, f.unpricedGpuSeconds(), "and unpriced");
    near(0, f.costUsd(), "no cost");
  }

  /**
   * m1 on g1 (H100, priced, 200 W) and gX (GX, unpriced, 200 W) for the whole minute, one slot of
   * 60 s. Tenant A 300 + 100 tokens: metered 400, priced 400 x 60 / 120 = 200, unpriced 200. Cost
   * 0.06 $ (g1 only): 0.06 / 200 x 10^6 = 300 $ per 1M tokens (not 150, dividing by all 400).
   * Energy 2 x 200 W x 60 s = 24 000 J: 60 J per token, 1/60 token per joule; active (idle 70 W on
   * g1, 0 on gX) 7800 + 12 000 = 19 800 J: 49.5 J per token. Tenant B's 10 + 10 tokens on m9 (no
   * GPU time): unmetered, every ratio null.
   */
  @Test
  void costPerTokenDividesByPricedTokensAndEnergyRatiosByMeteredTokens() {
    UsageCalculator c =
        new UsageCalculator(F, F + 60_000, 0, 60_000, 3_000, PRICES, GpuProfiles.load());
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(sample("g1", t, H100, "m1", 200, null));
      c.addSample(sample("gX", t, "GX", "m1", 200, null));
    }
    c.addTokens(s(5), "m1", "A", 300, 100);
    c.addTokens(s(5), "m9", "B", 10, 10);
    Report r = c.report(GroupBy.TENANT);
    Totals a = r.groups().get("A").total();
    near(400, a.meteredTokens(), "A metered");
    near(200, a.pricedTokens(), "A priced: half the GPU-seconds are priced");
    near(200, a.unpricedTokens(), "A unpriced");
    near(300, a.costPer1mTokensUsd(), "0.06 $ / 200 priced tokens");
    near(60, a.joulesPerToken(), "24 000 J / 400 metered tokens");
    near(49.5, a.activeJoulesPerToken(), "19 800 J / 400");
    near(1 / 60.0, a.tokensPerJoule(), "400 / 24 000");
    Totals b = r.groups().get("B").total();
    near(20, b.unmeteredTokens(), "B unmetered");
    near(0, b.pricedTokens(), "B priced");
    assertNull(b.costPer1mTokensUsd(), "nothing priced: null, not 0");
    assertNull(b.joulesPerToken(), "nothing metered: null");
    assertNull(b.tokensPerJoule(), "nothing metered: null");
    near(200, r.fleet().pricedTokens(), "fleet priced tokens");
    near(420, r.fleet().tokens(), "fleet tokens: 200 priced + 200 unpriced + 20 unmetered");
    Report byGpu = c.report(GroupBy.GPU_MODEL);
    near(200, byGpu.groups().get(H100).total().pricedTokens(), "H100's share, all priced");
    near(0, byGpu.groups().get("GX").total().pricedTokens(), "GX's share, none priced");
    assertNull(byGpu.groups().get("GX").total().costPer1mTokensUsd(), "GX: null");
    near(60, byGpu.groups().get("GX").total().joulesPerToken(), "GX: 12 000 J / 200 tokens");
    near(20, byGpu.groups().get(UsageCalculator.NO_GPU_MODEL).total().unmeteredTokens(), "m9");
  }

  /** The idle line has no tokens: every ratio is null, tokens per joule included (not 0). */
  @Test
  void theIdleLinesRatiosAreNull() {
    UsageCalculator c = calc();
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(sample("g1", t, H100, "m1", 200, null));
    }
    Totals idle = c.report(GroupBy.MODEL).idle().total();
    near(12_000, idle.energyJ(), "idle energy");
    assertNull(idle.costPer1mTokensUsd());
    assertNull(idle.joulesPerToken());
    assertNull(idle.activeJoulesPerToken());
    assertNull(idle.tokensPerJoule(), "no tokens per joule without tokens");
  }

  /**
   * A GPU's first sample ever covers nothing; a sample after a gap beyond its max covers its last
   * G; a sample without max_gap_s has G0 = 3 s. g1: F+10 (first: nothing), F+12 (2 s), F+30 without
   * max_gap_s (gap 18 s: last 3 s, 15 s uncovered), F+50 with 30 s (gap 20 s: all 20 s).
   */
  @Test
  void theFirstSampleEverCoversNothingAndEachSampleItsOwnGap() {
    UsageCalculator c = calc();
    c.addSample(sample("g1", 10, H100, "m1", 100, null));
    c.addSample(sample("g1", 12, H100, "m1", 100, null));
    c.addSample(sample("g1", 30, H100, "m1", 100, null));
    c.addSample(sample("g1", 50, H100, "m1", 100, 30_000L));
    Totals f = c.report(GroupBy.MODEL).fleet();
    near(2 + 3 + 20, f.gpuSeconds(), "covered");
    near(15, f.uncoveredGpuSeconds(), "uncovered (F+12, F+27]");
    assertEquals(1, f.sampleGaps());
  }
}
