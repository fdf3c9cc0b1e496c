package io.gputelemetry.processor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.BudgetStatus;
import io.gputelemetry.accounting.Budgets;
import io.gputelemetry.json.Json;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The budget gauges follow the latest computed status; computations never overlap. */
class BudgetWatchTest {
  private static final long NOW = Instant.parse("2026-12-11T00:00:00Z").toEpochMilli();

  private static Budgets budgets() {
    try {
      Path file = Files.createTempFile("budgets", ".json");
      Files.writeString(
          file,
          Json.MAPPER.writeValueAsString(
              Map.of(
                  "budgets",
                  List.of(
                      Map.of("tenant", "acme", "monthly_usd", 100.0, "monthly_kwh", 10.0),
                      Map.of("tenant", "globex", "monthly_usd", 50.0)))));
      Budgets b = Budgets.load(file);
      Files.delete(file);
      return b;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static double gauge(Telemetry t, String name, String tenant, String kind) {
    var g = t.registry().find(name).tags("tenant", tenant, "kind", kind).gauge();
    return g == null ? -1 : g.value();
  }

  /** acme used $80 and 2.5 kWh, globex $10, by 10 of December's 31 days. */
  private static BudgetStatus status(Budgets b) {
    Budgets.Budget acme = b.of("acme");
    Budgets.Budget globex = b.of("globex");
    return new BudgetStatus(
        NOW,
        BudgetStatus.monthStart(NOW),
        BudgetStatus.monthEnd(NOW),
        Map.of(
            "acme", new BudgetStatus.Line(acme, 80, 2.5, 248.0, 7.75),
            "globex", new BudgetStatus.Line(globex, 10, 0, 31.0, 0.0)));
  }

  @Test
  void gaugesAreNanUntilTheFirstStatusThenItsRatiosOnlyForConfiguredTenants() {
    try (Telemetry t = new Telemetry("processor", "test")) {
      Budgets b = budgets();
      BudgetWatch w =
          new BudgetWatch(b, 60_000, now -> Future.succeededFuture(status(b)), () -> NOW, t);
      assertTrue(Double.isNaN(gauge(t, "telemetry.budget.used.ratio", "acme", "cost")));
      assertTrue(Double.isNaN(gauge(t, "telemetry.budget.forecast.ratio", "acme", "energy")));
      assertNull(w.latest());
      w.tick();
      assertEquals(0.8, gauge(t, "telemetry.budget.used.ratio", "acme", "cost"), 1e-12);
      assertEquals(2.48, gauge(t, "telemetry.budget.forecast.ratio", "acme", "cost"), 1e-12);
      assertEquals(0.25, gauge(t, "telemetry.budget.used.ratio", "acme", "energy"), 1e-12);
      assertEquals(0.775, gauge(t, "telemetry.budget.forecast.ratio", "acme", "energy"), 1e-12);
      assertEquals(0.2, gauge(t, "telemetry.budget.used.ratio", "globex", "cost"), 1e-12);
      assertEquals(0.62, gauge(t, "telemetry.budget.forecast.ratio", "globex", "cost"), 1e-12);
      // globex has no kWh budget: no energy series; nobody else has any series.
      assertEquals(-1, gauge(t, "telemetry.budget.used.ratio", "globex", "energy"));
      assertEquals(3, t.registry().find("telemetry.budget.used.ratio").gauges().size());
      assertEquals(3, t.registry().find("telemetry.budget.forecast.ratio").gauges().size());
    }
  }

  @Test
  void aTickWhileTheLastComputationRunsIsSkippedAndAFailureKeepsTheLastStatus() {
    try (Telemetry t = new Telemetry("processor", "test")) {
      Budgets b = budgets();
      List<Promise<BudgetStatus>> started = new ArrayList<>();
      BudgetWatch w =
          new BudgetWatch(
              b,
              60_000,
              now -> {
                Promise<BudgetStatus> p = Promise.promise();
                started.add(p);
                return p.future();
              },
              () -> NOW,
              t);
      w.tick();
      w.tick();
      assertEquals(1, started.size());
      BudgetStatus first = status(b);
      started.get(0).complete(first);
      assertSame(first, w.latest());
      w.tick();
      assertEquals(2, started.size());
      started.get(1).fail(new IllegalStateException("store down"));
      assertSame(first, w.latest());
      assertEquals(0.8, gauge(t, "telemetry.budget.used.ratio", "acme", "cost"), 1e-12);
      w.tick();
      assertEquals(3, started.size());
    }
  }

  @Test
  void withoutTenantLabelsNoBudgetSeriesIsExported() {
    try (Telemetry t = new Telemetry("processor", "test")) {
      t.tenantLabels(false);
      Budgets b = budgets();
      new BudgetWatch(b, 60_000, now -> Future.succeededFuture(status(b)), () -> NOW, t).tick();
      assertEquals(0, t.registry().find("telemetry.budget.used.ratio").gauges().size());
    }
  }
}
