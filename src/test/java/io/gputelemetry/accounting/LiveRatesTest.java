package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LiveRatesTest {
  private static final long T = 1_800_000_000_000L; // a whole minute
  // GA: 3.60 $/h = 0.001 $/s until T + 30 s, then 7.20 $/h = 0.002 $/s.
  private final PriceBook prices =
      new PriceBook(
          Map.of(
              "GA",
              List.of(
                  new PriceBook.Price(T - 86_400_000L, 3.6), new PriceBook.Price(T + 30_000, 7.2))),
          Map.of());

  private LiveRates rates() {
    return new LiveRates(60_000, 5_000, prices);
  }

  @Test
  void tokensLeaveTheWindowOnceOlderThanIt() {
    LiveRates r = rates();
    r.recordTokens("m", T + 1_000, 600, 600, T + 1_000);
    assertEquals(20.0, r.rates("m", T + 30_000).tokensPerSecond(), 1e-9, "1200 tokens / 60 s");
    assertEquals(0.0, r.rates("m", T + 61_001).tokensPerSecond(), 1e-9, "evicted after the window");
  }

  @Test
  void emptyWindowHasNoRatio() {
    LiveRates r = rates();
    LiveRates.Rates x = r.rates("m", T);
    assertEquals(0.0, x.tokensPerSecond());
    assertTrue(Double.isNaN(x.costPerToken()));
    assertTrue(Double.isNaN(x.energyPerToken()));
  }

  @Test
  void lateEventsAreFlaggedAndCountedOnlyWhileInsideTheWindow() {
    LiveRates r = rates();
    assertFalse(r.recordTokens("m", T + 58_000, 10, 0, T + 60_000), "2 s old: on time");
    assertTrue(
        r.recordTokens("m", T + 20_000, 10, 0, T + 60_000), "40 s old: late, still in the window");
    assertTrue(
        r.recordTokens("m", T - 30_000, 10, 0, T + 60_000),
        "90 s old: late and outside the window");
    assertEquals(20 / 60.0, r.rates("m", T + 60_000).tokensPerSecond(), 1e-9);
  }

  @Test
  void costPerTokenUsesThePricesInForceAcrossAChangeInsideTheWindow() {
    LiveRates r = rates();
    // One GA GPU serving m for the whole window [T, T + 60 s): 30 s x 0.001 + 30 s x 0.002 = 0.09
    // $.
    r.updateInventory(
        List.of(new LiveRates.GpuState("g1", "m", "GA", T - 120_000, T + 60_000, null, 200)),
        T + 60_000);
    r.recordTokens("m", T + 10_000, 500, 400, T + 60_000);
    LiveRates.Rates x = r.rates("m", T + 60_000);
    assertEquals(0.09, x.costUsd(), 1e-9);
    assertEquals(0.09 / 900, x.costPerToken(), 1e-12);
    assertEquals(200.0 * 60 / 900, x.energyPerToken(), 1e-9, "no counter: power x time");
    assertFalse(x.unpriced());
  }

  @Test
  void energyComesFromTheCounterBetweenSnapshots() {
    LiveRates r = rates();
    r.updateInventory(
        List.of(new LiveRates.GpuState("g1", "m", "GA", T - 120_000, T, 1_000_000L, 999)), T);
    // 30 s later the counter rose by 9000 J: 300 W, whatever the instantaneous power reads.
    r.updateInventory(
        List.of(new LiveRates.GpuState("g1", "m", "GA", T - 120_000, T + 30_000, 10_000_000L, 999)),
        T + 30_000);
    r.recordTokens("m", T + 20_000, 100, 0, T + 30_000);
    assertEquals(300.0 * 60 / 100, r.rates("m", T + 30_000).energyPerToken(), 1e-6);
  }

  @Test
  void aModelWithoutPricedGpusIsUnpricedAndOneWithoutGpusHasNoCost() {
    LiveRates r = rates();
    r.updateInventory(
        List.of(new LiveRates.GpuState("g9", "x", "UNKNOWN", T - 60_000, T, null, 100)), T);
    r.recordTokens("x", T - 1_000, 10, 10, T);
    assertTrue(r.rates("x", T).unpriced());
    r.recordTokens("nogpu", T - 1_000, 10, 10, T);
    assertTrue(
        Double.isNaN(r.rates("nogpu", T).costPerToken()), "no GPU serves it: unknown, not 0");
  }

  @Test
  void aGpuThatLeftTheInventoryStopsAddingCost() {
    LiveRates r = rates();
    long now = T + 60_000;
    LiveRates.GpuState g1 = new LiveRates.GpuState("g1", "m", "GA", T - 120_000, now, null, 200);
    LiveRates.GpuState g2 = new LiveRates.GpuState("g2", "m", "GA", T - 120_000, now, null, 200);
    r.updateInventory(List.of(g1, g2), now);
    r.recordTokens("m", T + 10_000, 900, 0, now);
    // Two GA GPUs over [T, T + 60 s): 2 x (30 s x 0.001 + 30 s x 0.002) = 0.18 $.
    assertEquals(0.18, r.rates("m", now).costUsd(), 1e-9);
    assertEquals(2, r.rates("m", now).gpus());
    r.updateInventory(List.of(g1), now);
    // g2 is gone from the inventory: g1 alone, 0.09 $, 200 W x 60 s = 12 000 J.
    LiveRates.Rates x = r.rates("m", now);
    assertEquals(1, x.gpus());
    assertEquals(0.09, x.costUsd(), 1e-9);
    assertEquals(12_000, x.energyJ(), 1e-6);
    assertEquals(null, r.gpuModelOf("g2"), "forgotten");
    assertEquals("GA", r.gpuModelOf("g1"));
  }

  @Test
  void tokensFromFurtherAheadThanTheAllowedLatenessAreNeverCounted() {
    LiveRates r = rates(); // allowed lateness 5 s
    long now = T + 60_000;
    assertFalse(r.recordTokens("m", now + 10_000, 600, 0, now), "from the future: not late");
    assertEquals(0.0, r.rates("m", now + 10_000).tokensPerSecond(), 1e-9, "10 s ahead: dropped");
    r.recordTokens("m", now + 3_000, 60, 0, now);
    // 3 s ahead is within the allowed 5 s: counted once its time is in the window, 60 / 60 s.
    assertEquals(0.0, r.rates("m", now).tokensPerSecond(), 1e-9, "not yet: (now - 60 s, now]");
    assertEquals(1.0, r.rates("m", now + 3_000).tokensPerSecond(), 1e-9);
  }

  @Test
  void requestInputAndOutputRatesAreSeparate() {
    LiveRates r = rates();
    long now = T + 60_000;
    r.recordTokens("m", T + 10_000, 120, 60, now);
    r.recordTokens("m", T + 20_000, 0, 60, now);
    r.recordTokens("other", T + 20_000, 6000, 6000, now);
    LiveRates.Rates x = r.rates("m", now);
    assertEquals(2 / 60.0, x.requestsPerSecond(), 1e-12, "2 requests / 60 s");
    assertEquals(120 / 60.0, x.inputTokensPerSecond(), 1e-12);
    assertEquals(120 / 60.0, x.outputTokensPerSecond(), 1e-12, "60 + 60 / 60 s");
    assertEquals(240 / 60.0, x.tokensPerSecond(), 1e-12);
    assertEquals(Set.of("m", "other"), r.models());
  }

  @Test
  void aGpuLastSeenBeforeTheWindowIsNotCounted() {
    LiveRates r = rates();
    long now = T + 120_000;
    r.updateInventory(
        List.of(
            new LiveRates.GpuState("g1", "m", "GA", T - 120_000, now - 61_000, null, 200),
            new LiveRates.GpuState("g2", "m", "GA", now - 10_000, now, null, 200)),
        now);
    r.recordTokens("m", now - 1_000, 100, 0, now);
    LiveRates.Rates x = r.rates("m", now);
    // g1 left before the window (now - 60 s, now]; g2 was first seen 10 s ago at 0.002 $/s.
    assertEquals(1, x.gpus());
    assertEquals(10 * 0.002, x.costUsd(), 1e-9);
    assertEquals(200.0 * 10, x.energyJ(), 1e-6);
    assertEquals(Set.of("m"), r.models());
  }

  @Test
  void theCounterRateIsTakenSinceTheLastSnapshotBeforeTheWindow() {
    LiveRates r = rates();
    // Snapshots at T (counter 0), T + 30 s (3000 J: 100 W), T + 90 s (+18 000 J: 300 W); power
    // reads 999 W throughout. At T + 90 s the window starts at T + 30 s: that snapshot is the
    // baseline, so the rate is 300 W and the window's 60 s draw 18 000 J.
    r.updateInventory(List.of(gpu(T, 0L)), T);
    r.updateInventory(List.of(gpu(T + 30_000, 3_000_000L)), T + 30_000);
    r.updateInventory(List.of(gpu(T + 90_000, 21_000_000L)), T + 90_000);
    assertEquals(18_000, r.rates("m", T + 90_000).energyJ(), 1e-6);
  }

  @Test
  void aCounterThatWentBackFallsBackToPower() {
    LiveRates r = rates();
    r.updateInventory(List.of(gpu(T, 50_000_000L)), T);
    r.updateInventory(List.of(gpu(T + 30_000, 1_000L)), T + 30_000);
    // The counter reset: 999 W x the 60 s of the window (GPU seen since T - 120 s).
    assertEquals(999.0 * 60, r.rates("m", T + 30_000).energyJ(), 1e-6);
  }

  private static LiveRates.GpuState gpu(long seen, Long counter) {
    return new LiveRates.GpuState("g1", "m", "GA", T - 120_000, seen, counter, 999);
  }

  @Test
  void theAllowedLatenessIsInclusiveForLateAndFutureDatedTokens() {
    LiveRates r = rates();
    assertFalse(r.recordTokens("m", T + 55_000, 10, 0, T + 60_000), "exactly 5 s old: on time");
    assertTrue(r.recordTokens("m", T + 54_999, 10, 0, T + 60_000), "5.001 s old: late");
    // Exactly 5 s ahead is counted; 5.001 s ahead is not (another model, to tell them apart).
    r.recordTokens("ahead", T + 65_000, 60, 0, T + 60_000);
    r.recordTokens("further", T + 65_001, 60, 0, T + 60_000);
    assertEquals(1.0, r.rates("ahead", T + 66_000).tokensPerSecond(), 1e-9, "60 tokens / 60 s");
    assertEquals(0.0, r.rates("further", T + 66_000).tokensPerSecond(), 1e-9);
  }

  @Test
  void theModelsAreThoseWithTokensAndThoseServedByAGpu() {
    LiveRates r = rates();
    r.recordTokens("m", T, 1, 1, T);
    r.updateInventory(
        List.of(
            new LiveRates.GpuState("GPU-1", "served", "GA", T, T, null, 100),
            new LiveRates.GpuState("GPU-2", null, "GA", T, T, null, 100)),
        T);
    assertEquals(Set.of("m", "served"), r.models(), "a GPU serving no model adds none");
  }

  @Test
  void withoutTokensOrWithoutGpusTheRatiosAreUnknownNotZeroOrInfinite() {
    LiveRates r = rates();
    // "idle": a priced GA GPU drawing 100 W all window, no tokens. "nogpu": tokens, no GPU.
    r.updateInventory(
        List.of(new LiveRates.GpuState("g2", "idle", "GA", T - 60_000, T, null, 100)), T);
    r.recordTokens("nogpu", T - 1_000, 10, 10, T);
    LiveRates.Rates idle = r.rates("idle", T);
    assertTrue(idle.costUsd() > 0 && idle.energyJ() > 0, "the idle GPU costs and draws");
    assertTrue(Double.isNaN(idle.costPerToken()), "no tokens: " + idle.costPerToken());
    assertTrue(Double.isNaN(idle.energyPerToken()), "no tokens: " + idle.energyPerToken());
    LiveRates.Rates nogpu = r.rates("nogpu", T);
    assertTrue(Double.isNaN(nogpu.costPerToken()), "no GPU: " + nogpu.costPerToken());
    assertTrue(Double.isNaN(nogpu.energyPerToken()), "no GPU: " + nogpu.energyPerToken());
  }
}
