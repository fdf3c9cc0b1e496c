package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.store.UsageRows;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reported against computed cost per tenant and model, on hand-computed figures. */
class ReconciliationTest {
  private static final double EPS = 1e-12;
  private static final long FROM = Instant.parse("2026-12-01T12:00:00Z").toEpochMilli();

  /**
   * The minute [12:00, 12:01): GPU g1 ("GA", $36/h, so $0.60 for the minute) serves m1; GPU g2
   * ("GZ", no price) serves m2; nothing serves m3. m1: acme 300 tokens (3 requests), globex 100 (1
   * request): acme $0.45, globex $0.15. m2: acme 50 tokens on unpriced time. m3: globex 10 tokens,
   * unmetered.
   */
  private static Map<String, UsageCalculator.Line> computed(String tenant) {
    PriceBook prices = new PriceBook(Map.of("GA", List.of(new PriceBook.Price(0, 36.0))), Map.of());
    UsageCalculator c = new UsageCalculator(FROM, FROM + 60_000, 0, 60_000, 3_000, prices, null);
    for (long t = FROM - 1000; t <= FROM + 60_000; t += 1000) {
      c.addSample(new UsageRows.Sample("g1", t, "GA", "m1", null, 600));
      c.addSample(new UsageRows.Sample("g2", t, "GZ", "m2", null, 300));
    }
    c.addTokens(FROM + 1_000, "m1", "acme", 100, 0);
    c.addTokens(FROM + 2_000, "m1", "acme", 100, 0);
    c.addTokens(FROM + 3_000, "m1", "acme", 50, 50);
    c.addTokens(FROM + 4_000, "m1", "globex", 60, 40);
    c.addTokens(FROM + 5_000, "m2", "acme", 25, 25);
    c.addTokens(FROM + 6_000, "m3", "globex", 5, 5);
    return c.report(UsageCalculator.GroupBy.TENANT_MODEL, tenant).groups();
  }

  /** The same requests' reported costs: acme reported two of its three m1 requests. */
  private static Reconciliation reported(String tenant) {
    Reconciliation r = new Reconciliation();
    List<UsageRows.Reported> all =
        List.of(
            new UsageRows.Reported("acme", "m1", 0.20),
            new UsageRows.Reported("acme", "m1", 0.25),
            new UsageRows.Reported("acme", "m1", null),
            new UsageRows.Reported("globex", "m1", 0.18),
            new UsageRows.Reported("acme", "m2", 0.01),
            new UsageRows.Reported("globex", "m3", null));
    all.stream().filter(x -> tenant == null || tenant.equals(x.tenant())).forEach(r::add);
    return r;
  }

  private static Reconciliation.Row row(List<Reconciliation.Row> rows, String t, String m) {
    return rows.stream()
        .filter(r -> r.tenant().equals(t) && r.model().equals(m))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void eachTenantAndModelHasItsReportedAndComputedCostAndTheirDifference() {
    List<Reconciliation.Row> rows = reported(null).rows(computed(null));
    assertEquals(4, rows.size());
    // acme m1: reported 0.20 + 0.25 = 0.45 over 2 requests, 1 without; computed 0.75 x 0.60.
    Reconciliation.Row a = row(rows, "acme", "m1");
    assertEquals(0.45, a.reportedCostUsd(), EPS);
    assertEquals(0.45, a.computedCostUsd(), EPS);
    assertEquals(0, a.differenceUsd(), EPS);
    assertEquals(0, a.differencePct(), EPS);
    assertEquals(2, a.requestsWithReportedCost());
    assertEquals(1, a.requestsWithoutReportedCost());
    assertFalse(a.comparable(), "one request reported no cost");
    // globex m1: reported 0.18, computed 0.25 x 0.60 = 0.15: +0.03, +20 %.
    Reconciliation.Row g = row(rows, "globex", "m1");
    assertEquals(0.18, g.reportedCostUsd(), EPS);
    assertEquals(0.15, g.computedCostUsd(), EPS);
    assertEquals(0.03, g.differenceUsd(), EPS);
    assertEquals(20.0, g.differencePct(), 1e-9);
    assertTrue(g.comparable());
    // acme m2: on unpriced GPU time, so the computed cost is unknown (null, not 0).
    Reconciliation.Row u = row(rows, "acme", "m2");
    assertEquals(0.01, u.reportedCostUsd(), EPS);
    assertNull(u.computedCostUsd());
    assertNull(u.differenceUsd());
    assertNull(u.differencePct());
    assertEquals(50, u.unpricedTokens(), EPS);
    assertFalse(u.comparable());
    // globex m3: unmetered, and no request reported a cost: both unknown.
    Reconciliation.Row n = row(rows, "globex", "m3");
    assertNull(n.reportedCostUsd());
    assertNull(n.computedCostUsd());
    assertNull(n.differenceUsd());
    assertEquals(0, n.requestsWithReportedCost());
    assertEquals(1, n.requestsWithoutReportedCost());
    assertEquals(10, n.unmeteredTokens(), EPS);
  }

  @Test
  void aZeroComputedCostHasADifferenceInDollarsButNoPercentage() {
    Reconciliation r = new Reconciliation();
    r.add(new UsageRows.Reported("acme", "free", 0.02));
    PriceBook free = new PriceBook(Map.of("GF", List.of(new PriceBook.Price(0, 0.0))), Map.of());
    UsageCalculator c = new UsageCalculator(FROM, FROM + 60_000, 0, 60_000, 3_000, free, null);
    for (long t = FROM - 1000; t <= FROM + 60_000; t += 1000) {
      c.addSample(new UsageRows.Sample("g3", t, "GF", "free", null, 100));
    }
    c.addTokens(FROM + 1_000, "free", "acme", 10, 10);
    Reconciliation.Row row = r.rows(c.report(UsageCalculator.GroupBy.TENANT_MODEL).groups()).get(0);
    assertEquals(0, row.computedCostUsd(), EPS);
    assertEquals(0.02, row.differenceUsd(), EPS);
    assertNull(row.differencePct());
  }

  @Test
  void aTenantsViewHoldsItsOwnRowsWithTheSameFigures() {
    List<Reconciliation.Row> own = reported("globex").rows(computed("globex"));
    assertEquals(2, own.size());
    assertTrue(own.stream().allMatch(r -> r.tenant().equals("globex")));
    assertEquals(0.15, row(own, "globex", "m1").computedCostUsd(), EPS);
    assertEquals(20.0, row(own, "globex", "m1").differencePct(), 1e-9);
  }
}
