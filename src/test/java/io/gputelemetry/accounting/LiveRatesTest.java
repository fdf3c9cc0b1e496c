package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
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
}
