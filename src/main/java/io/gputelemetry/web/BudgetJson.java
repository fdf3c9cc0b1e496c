package io.gputelemetry.web;

import com.fasterxml.jackson.core.JsonGenerator;
import io.gputelemetry.accounting.BudgetStatus;
import io.gputelemetry.accounting.Budgets;
import java.io.IOException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;

/**
 * A tenant line's {@code budget} object in /api/v1/usage: the current calendar month's (UTC)
 * budget, use and forecast as the processor last computed them; null where not known (before the
 * first computation, before a forecast is defined, energy without a kWh budget).
 */
final class BudgetJson {
  private BudgetJson() {}

  static void write(JsonGenerator g, Budgets.Budget budget, BudgetStatus status)
      throws IOException {
    BudgetStatus.Line l = status == null ? null : status.line(budget.tenant());
    long month = status == null ? System.currentTimeMillis() : status.monthStart();
    g.writeObjectFieldStart("budget");
    g.writeStringField(
        "month", YearMonth.from(Instant.ofEpochMilli(month).atOffset(ZoneOffset.UTC)).toString());
    if (status == null) {
      g.writeNullField("as_of");
    } else {
      g.writeStringField("as_of", status.asOfInstant().toString());
    }
    g.writeObjectFieldStart("cost");
    g.writeNumberField("limit_usd", budget.monthlyUsd());
    number(g, "used_usd", l == null ? null : l.usedUsd());
    number(g, "used_ratio", l == null ? null : l.usedUsdRatio());
    number(g, "forecast_usd", l == null ? null : l.forecastUsd());
    number(g, "forecast_ratio", l == null ? null : l.forecastUsdRatio());
    g.writeEndObject();
    if (budget.monthlyKwh() == null) {
      g.writeNullField("energy");
    } else {
      g.writeObjectFieldStart("energy");
      g.writeNumberField("limit_kwh", budget.monthlyKwh());
      number(g, "used_kwh", l == null ? null : l.usedKwh());
      number(g, "used_ratio", l == null ? null : l.usedKwhRatio());
      number(g, "forecast_kwh", l == null ? null : l.forecastKwh());
      number(g, "forecast_ratio", l == null ? null : l.forecastKwhRatio());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void number(JsonGenerator g, String name, Double v) throws IOException {
    if (v == null) {
      g.writeNullField(name);
    } else {
      g.writeNumberField(name, v);
    }
  }
}
