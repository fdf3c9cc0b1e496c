package io.gputelemetry.processor;

import io.gputelemetry.accounting.BudgetStatus;
import io.gputelemetry.accounting.Budgets;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.metrics.Telemetry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Computes every budgeted tenant's month-to-date use and forecast on a timer (budgets.interval)
 * through the usage service, and holds the latest status for the budget gauges and the usage API.
 * One computation at a time: a tick that finds the previous one still running is skipped. Every
 * processor replica computes the same figures from the same store.
 */
public final class BudgetWatch extends VerticleBase {
  private static final Logger LOG = LogManager.getLogger(BudgetWatch.class);

  private final Budgets budgets;
  private final long intervalMillis;
  private final Function<Long, Future<BudgetStatus>> compute;
  private final LongSupplier clock;
  private volatile BudgetStatus latest;
  private boolean running;
  private long timer = -1;

  public BudgetWatch(
      Budgets budgets, long intervalMillis, UsageService usage, Telemetry telemetry) {
    this(
        budgets,
        intervalMillis,
        now -> BudgetStatus.compute(usage, budgets, now),
        System::currentTimeMillis,
        telemetry);
  }

  BudgetWatch(
      Budgets budgets,
      long intervalMillis,
      Function<Long, Future<BudgetStatus>> compute,
      LongSupplier clock,
      Telemetry telemetry) {
    this.budgets = budgets;
    this.intervalMillis = intervalMillis;
    this.compute = compute;
    this.clock = clock;
    boolean exported = true;
    for (Budgets.Budget b : budgets.all()) {
      String t = b.tenant();
      exported &=
          telemetry.budget(
              t,
              "cost",
              () -> ratio(t, BudgetStatus.Line::usedUsdRatio),
              () -> ratio(t, BudgetStatus.Line::forecastUsdRatio));
      if (b.monthlyKwh() != null) {
        telemetry.budget(
            t,
            "energy",
            () -> ratio(t, BudgetStatus.Line::usedKwhRatio),
            () -> ratio(t, BudgetStatus.Line::forecastKwhRatio));
      }
    }
    if (!exported) {
      LOG.warn(
          "budgets: metrics.tenant-labels=false, so /metrics has no telemetry_budget_* gauges"
              + " (and their alerts cannot fire); the usage API still reports budget status");
    }
  }

  /** A ratio of the latest status, NaN while unknown. */
  private double ratio(String tenant, Function<BudgetStatus.Line, Double> of) {
    BudgetStatus s = latest;
    BudgetStatus.Line l = s == null ? null : s.line(tenant);
    Double v = l == null ? null : of.apply(l);
    return v == null ? Double.NaN : v;
  }

  /** The latest status, or null before the first computation succeeded. */
  public BudgetStatus latest() {
    return latest;
  }

  @Override
  public Future<?> start() {
    if (!budgets.isEmpty()) {
      LOG.info("budgets: {} tenants, computed every {} ms", budgets.all().size(), intervalMillis);
      timer = vertx.setPeriodic(0, intervalMillis, t -> tick());
    }
    return Future.succeededFuture();
  }

  /** Starts a computation unless one is running; its future completes when it is done. */
  Future<Void> tick() {
    if (running) {
      return Future.succeededFuture();
    }
    running = true;
    return compute
        .apply(clock.getAsLong())
        .onSuccess(s -> latest = s)
        .onFailure(e -> LOG.warn("budgets: computing month-to-date use failed: {}", e.toString()))
        .<Void>mapEmpty()
        .eventually(
            () -> {
              running = false;
              return Future.succeededFuture();
            });
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.succeededFuture();
  }
}
