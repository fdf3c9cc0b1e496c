package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.store.UsageRows;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Month-to-date use and the linear month-end forecast, on hand-computed figures. */
class BudgetStatusTest {
  private static final double EPS = 1e-12;

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  /**
   * One GPU "GA" at $36/h ($0.01 per second) drawing 600 W, sampled every second, covering the
   * minute [12:00, 12:01) of 2026-12-01 for model m1; acme sent 300 tokens and globex 100 in that
   * minute. acme: 0.75 x $0.60 = $0.45 and 0.75 x 36 000 J = 27 000 J = 0.0075 kWh; globex: $0.15
   * and 9 000 J = 0.0025 kWh.
   */
  private static Map<String, UsageCalculator.Line> minute() {
    long from = at("2026-12-01T12:00:00Z");
    PriceBook prices = new PriceBook(Map.of("GA", List.of(new PriceBook.Price(0, 36.0))), Map.of());
    UsageCalculator c = new UsageCalculator(from, from + 60_000, 0, 60_000, 3_000, prices, null);
    for (long t = from - 1000; t <= from + 60_000; t += 1000) {
      c.addSample(new UsageRows.Sample("g1", t, "GA", "m1", null, 600));
    }
    c.addTokens(from + 10_000, "m1", "acme", 200, 100);
    c.addTokens(from + 20_000, "m1", "globex", 100, 0);
    return c.report(UsageCalculator.GroupBy.TENANT).groups();
  }

  private static final Budgets BUDGETS =
      Budgets.parse(
          io.gputelemetry.json.Json.MAPPER.valueToTree(
              Map.of(
                  "budgets",
                  List.of(
                      Map.of("tenant", "acme", "monthly_usd", 1.0, "monthly_kwh", 0.01),
                      Map.of("tenant", "globex", "monthly_usd", 2.0),
                      Map.of("tenant", "initech", "monthly_usd", 5.0)))),
          "test");

  @Test
  void useIsTheTenantsCostAndEnergyAndTheForecastScalesItByTheMonthsElapsedFraction() {
    // 2026-12-11T00:00Z: 10 of December's 31 days have passed, so the forecast is use x 3.1.
    BudgetStatus s = BudgetStatus.of(BUDGETS, minute(), at("2026-12-11T00:00:00Z"));
    assertEquals(at("2026-12-01T00:00:00Z"), s.monthStart());
    assertEquals(at("2027-01-01T00:00:00Z"), s.monthEnd());
    BudgetStatus.Line acme = s.line("acme");
    assertEquals(0.45, acme.usedUsd(), EPS);
    assertEquals(0.45, acme.usedUsdRatio(), EPS);
    assertEquals(1.395, acme.forecastUsd(), EPS);
    assertEquals(1.395, acme.forecastUsdRatio(), EPS);
    assertEquals(0.0075, acme.usedKwh(), EPS);
    assertEquals(0.75, acme.usedKwhRatio(), EPS);
    assertEquals(0.02325, acme.forecastKwh(), EPS);
    assertEquals(2.325, acme.forecastKwhRatio(), EPS);
    BudgetStatus.Line globex = s.line("globex");
    assertEquals(0.15, globex.usedUsd(), EPS);
    assertEquals(0.075, globex.usedUsdRatio(), EPS);
    assertEquals(0.2325, globex.forecastUsdRatio(), EPS);
    // No kWh budget: no energy ratios (its energy is still known).
    assertEquals(0.0025, globex.usedKwh(), EPS);
    assertNull(globex.usedKwhRatio());
    assertNull(globex.forecastKwhRatio());
    // A budgeted tenant without usage has used nothing, and is forecast to use nothing.
    assertEquals(0, s.line("initech").usedUsdRatio());
    assertEquals(0, s.line("initech").forecastUsdRatio());
  }

  @Test
  void thereIsNoForecastDuringTheMonthsFirstDay() {
    BudgetStatus s = BudgetStatus.of(BUDGETS, minute(), at("2026-12-01T23:59:59.999Z"));
    assertEquals(0.45, s.line("acme").usedUsdRatio(), EPS);
    assertNull(s.line("acme").forecastUsd());
    assertNull(s.line("acme").forecastUsdRatio());
    assertNull(s.line("acme").forecastKwhRatio());
    // From a full day on: 1 of 31 days, x 31.
    BudgetStatus day = BudgetStatus.of(BUDGETS, minute(), at("2026-12-02T00:00:00Z"));
    assertEquals(0.45 * 31, day.line("acme").forecastUsdRatio(), EPS);
  }

  @Test
  void monthsAreCalendarMonthsInUtc() {
    assertEquals(
        at("2028-02-01T00:00:00Z"), BudgetStatus.monthStart(at("2028-02-29T23:59:59.999Z")));
    assertEquals(at("2028-03-01T00:00:00Z"), BudgetStatus.monthEnd(at("2028-02-29T23:59:59.999Z")));
    // 00:30 on 1 March in UTC+02:00 is still February in UTC.
    long t = Instant.parse("2027-03-01T00:30:00+02:00").toEpochMilli();
    assertEquals(at("2027-02-01T00:00:00Z"), BudgetStatus.monthStart(t));
    assertEquals(at("2027-03-01T00:00:00Z"), BudgetStatus.monthEnd(t));
    // February 2027 has 28 days: at the end of its 14th day the forecast is use x 2.
    BudgetStatus s = BudgetStatus.of(BUDGETS, minute(), at("2027-02-15T00:00:00Z"));
    assertEquals(0.9, s.line("acme").forecastUsdRatio(), EPS);
  }
}
