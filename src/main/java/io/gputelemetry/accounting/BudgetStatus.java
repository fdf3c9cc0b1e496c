package io.gputelemetry.accounting;

import io.vertx.core.Future;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each budgeted tenant's use of the current calendar month (UTC) at an instant, and its month-end
 * forecast: the use so far divided by the elapsed fraction of the month (a linear extrapolation of
 * the month's average rate), defined from {@link #FORECAST_AFTER_MILLIS} into the month on.
 */
public record BudgetStatus(long asOf, long monthStart, long monthEnd, Map<String, Line> tenants) {
  /**
   * Before a day of the month has passed there is too little of it to extrapolate (a first hour's
   * spend times 720 is noise): no forecast.
   */
  public static final long FORECAST_AFTER_MILLIS = 86_400_000L;

  /** Joules per kilowatt-hour. */
  public static final double JOULES_PER_KWH = 3.6e6;

  /** One tenant: its budget, month-to-date use and forecast (null: none yet). */
  public record Line(
      Budgets.Budget budget,
      double usedUsd,
      double usedKwh,
      Double forecastUsd,
      Double forecastKwh) {
    public double usedUsdRatio() {
      return usedUsd / budget.monthlyUsd();
    }

    /** Null without a kWh budget. */
    public Double usedKwhRatio() {
      return budget.monthlyKwh() == null ? null : usedKwh / budget.monthlyKwh();
    }

    /** Null without a forecast. */
    public Double forecastUsdRatio() {
      return forecastUsd == null ? null : forecastUsd / budget.monthlyUsd();
    }

    /** Null without a forecast or without a kWh budget. */
    public Double forecastKwhRatio() {
      return forecastKwh == null || budget.monthlyKwh() == null
          ? null
          : forecastKwh / budget.monthlyKwh();
    }
  }

  /** The start of the calendar month (UTC) holding {@code millis}. */
  public static long monthStart(long millis) {
    return YearMonth.from(Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC))
        .atDay(1)
        .atStartOfDay()
        .toInstant(ZoneOffset.UTC)
        .toEpochMilli();
  }

  /** The start of the next calendar month (UTC) after the one holding {@code millis}. */
  public static long monthEnd(long millis) {
    return YearMonth.from(Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC))
        .plusMonths(1)
        .atDay(1)
        .atStartOfDay()
        .toInstant(ZoneOffset.UTC)
        .toEpochMilli();
  }

  /**
   * The status at {@code now} from the lines of a report grouped by tenant over [month start, now):
   * every budgeted tenant has a line, with 0 used when the report has none of it.
   */
  public static BudgetStatus of(
      Budgets budgets, Map<String, UsageCalculator.Line> byTenant, long now) {
    long start = monthStart(now);
    long end = monthEnd(now);
    long elapsed = now - start;
    Map<String, Line> lines = new LinkedHashMap<>();
    for (Budgets.Budget b : budgets.all()) {
      UsageCalculator.Line l = byTenant.get(b.tenant());
      double usd = l == null ? 0 : l.total().costUsd();
      double kwh = l == null ? 0 : l.total().energyJ() / JOULES_PER_KWH;
      Double factor = elapsed >= FORECAST_AFTER_MILLIS ? (double) (end - start) / elapsed : null;
      lines.put(
          b.tenant(),
          new Line(
              b,
              usd,
              kwh,
              factor == null ? null : usd * factor,
              factor == null ? null : kwh * factor));
    }
    return new BudgetStatus(now, start, end, Collections.unmodifiableMap(lines));
  }

  /**
   * Computes the status at {@code now} through the usage service: one read of every tenant's usage
   * over [month start, now), so the figures are those of the usage API for that range.
   */
  public static Future<BudgetStatus> compute(UsageService usage, Budgets budgets, long now) {
    long start = monthStart(now);
    if (now <= start) {
      // The first instant of a month: nothing used yet.
      return Future.succeededFuture(of(budgets, Map.of(), now));
    }
    return usage
        .usage(start, now, 0, UsageCalculator.GroupBy.TENANT, Integer.MAX_VALUE, null)
        .map(r -> of(budgets, r.groups(), now));
  }

  /** A budgeted tenant's line, or null. */
  public Line line(String tenant) {
    return tenants.get(tenant);
  }

  public Instant asOfInstant() {
    return Instant.ofEpochMilli(asOf);
  }
}
