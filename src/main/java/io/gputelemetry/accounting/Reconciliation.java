package io.gputelemetry.accounting;

import io.gputelemetry.store.Store;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reported against computed cost per tenant and model over a range: the sum of the costs the
 * requests' sender reported (LiteLLM's response_cost, stored as reported_cost_usd) beside the cost
 * the usage computation allocates to the same tenant and model. Unknown figures are null, never 0.
 */
public final class Reconciliation {
  /** The reported side of one (tenant, model), summed from stored requests. */
  private static final class Reported {
    double costUsd;
    long with;
    long without;
  }

  /**
   * One tenant and model. {@code reportedCostUsd} is null when no request reported a cost; {@code
   * computedCostUsd} is null when the line has tokens and none of them could be priced (all
   * unmetered or on unpriced GPU time).
   */
  public record Row(
      String tenant,
      String model,
      Double reportedCostUsd,
      Double computedCostUsd,
      long requestsWithReportedCost,
      long requestsWithoutReportedCost,
      double unpricedTokens,
      double unmeteredTokens) {
    /** Reported - computed; null when either is unknown. */
    public Double differenceUsd() {
      return reportedCostUsd == null || computedCostUsd == null
          ? null
          : reportedCostUsd - computedCostUsd;
    }

    /** The difference as a percentage of the computed cost; null when that is unknown or 0. */
    public Double differencePct() {
      Double d = differenceUsd();
      return d == null || computedCostUsd == 0 ? null : d / computedCostUsd * 100;
    }

    /**
     * Whether the two figures cover the same thing: every request reported a cost and every token
     * of the line was priced.
     */
    public boolean comparable() {
      return differenceUsd() != null
          && requestsWithoutReportedCost == 0
          && unpricedTokens == 0
          && unmeteredTokens == 0;
    }
  }

  private final Map<String, Reported> reported = new TreeMap<>();

  /** Adds one stored request's reported cost. Thread-safe. */
  public synchronized void add(UsageRows.Reported r) {
    Reported sum =
        reported.computeIfAbsent(
            UsageCalculator.tenantModelKey(r.tenant(), r.model()), k -> new Reported());
    if (r.costUsd() == null) {
      sum.without++;
    } else {
      sum.with++;
      sum.costUsd += r.costUsd();
    }
  }

  /**
   * The rows, by tenant then model: every (tenant, model) of the requests added or of the lines of
   * a report grouped by {@link UsageCalculator.GroupBy#TENANT_MODEL}.
   */
  public synchronized List<Row> rows(Map<String, UsageCalculator.Line> computed) {
    Map<String, Boolean> keys = new TreeMap<>();
    reported.keySet().forEach(k -> keys.put(k, true));
    computed.keySet().forEach(k -> keys.put(k, true));
    List<Row> rows = new ArrayList<>(keys.size());
    for (String key : keys.keySet()) {
      int split = key.indexOf('\n');
      Reported r = reported.get(key);
      UsageCalculator.Line line = computed.get(key);
      UsageCalculator.Totals t = line == null ? null : line.total();
      Double cost =
          t == null || (t.tokens() > 0 && t.pricedTokens() <= 0) ? null : (Double) t.costUsd();
      rows.add(
          new Row(
              key.substring(0, split),
              key.substring(split + 1),
              r == null || r.with == 0 ? null : r.costUsd,
              cost,
              r == null ? 0 : r.with,
              r == null ? 0 : r.without,
              t == null ? 0 : t.unpricedTokens(),
              t == null ? 0 : t.unmeteredTokens()));
    }
    return Collections.unmodifiableList(rows);
  }

  /**
   * The reconciliation of [from, to), everyone's ({@code tenant} null) or one tenant's: the usage
   * computation grouped by tenant and model (failing with {@link UsageCalculator.TooManyCells}
   * beyond {@code maxCells} lines), then one streamed read of the requests' reported costs.
   */
  public static Future<List<Row>> compute(
      Vertx vertx,
      UsageService usage,
      Store store,
      long from,
      long to,
      int maxCells,
      String tenant) {
    Reconciliation rec = new Reconciliation();
    return usage
        .usage(from, to, 0, UsageCalculator.GroupBy.TENANT_MODEL, maxCells, tenant)
        .compose(
            report ->
                store
                    .reportedCosts(from, to, tenant, rec::add)
                    .compose(v -> vertx.executeBlocking(() -> rec.rows(report.groups()), false)));
  }
}
