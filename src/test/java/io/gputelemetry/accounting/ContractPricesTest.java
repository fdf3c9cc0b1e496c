package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.json.Json;
import io.gputelemetry.store.UsageRows;
import org.junit.jupiter.api.Test;

/**
 * The price that applies to a sample's node, with list, contracted and billed cost beside the
 * effective cost, on the book of docs/accounting.md's worked example. Every figure is worked out by
 * hand.
 *
 * <pre>
 * range [F, F + 60 s), one allocation slot, samples every 2 s from F-2 to F+60, max gap 3 s
 * GA on every node: on-demand 3.60 $/h (0.001 $/s)
 * GA on res-*: committed 1.80 $/h (0.0005 $/s) from F + 20 s (commitment ri-1, Usage)
 * GA on spot-?: spot 1.08 $/h (0.0003 $/s)
 * g1 on od-1 serves m1; g2 on res-1 serves m2; g3 on res-2 serves m2; g4 on spot-1 serves m3
 * </pre>
 */
class ContractPricesTest {
  private static final long F = 1_800_000_000_000L; // 2027-01-15T08:00:00Z
  private static final String BOOK =
      "{\"gpu_hourly\": ["
          + "{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
          + " \"usd_per_hour\": 3.6},"
          + "{\"gpu_model\": \"GA\", \"effective_from\": \"2027-01-15T08:00:20Z\","
          + " \"usd_per_hour\": 1.8, \"price_kind\": \"committed\", \"nodes\": [\"res-*\"],"
          + " \"commitment_id\": \"ri-1\", \"commitment_name\": \"GA reservation\","
          + " \"commitment_category\": \"Usage\"},"
          + "{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
          + " \"usd_per_hour\": 1.08, \"price_kind\": \"spot\", \"nodes\": [\"spot-?\"]}"
          + "]}";

  private static PriceBook book() throws Exception {
    return PriceBook.parse(Json.MAPPER.readTree(BOOK), "book.json");
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, 1e-12, what);
  }

  /** The four costs of a line: effective, list, contracted, billed. */
  private static void costs(
      Totals t, double effective, double list, double contracted, double billed, String what) {
    near(effective, t.costUsd(), what + ": effective");
    near(list, t.listCostUsd(), what + ": list");
    near(contracted, t.contractedCostUsd(), what + ": contracted");
    near(billed, t.billedCostUsd(), what + ": billed");
  }

  /** A sample of a whole GPU at 0 W. */
  private static UsageRows.Sample sample(
      String gpu, long ts, String gpuModel, String model, String node) {
    return new UsageRows.Sample(gpu, ts, gpuModel, model, null, 0, null, false, node, null, null);
  }

  private static Report report(String node, String model) throws Exception {
    UsageCalculator c = new UsageCalculator(F, F + 60_000, 0, 60_000, 3_000, book(), null);
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(
          new UsageRows.Sample(
              "g", F + t * 1000L, "GA", model, null, 100, null, false, node, null, null));
    }
    c.addTokens(F + 5_000, model, "A", 10, 0);
    return c.report(GroupBy.MODEL);
  }

  @Test
  void onDemandNodesPayTheListPriceEverywhere() throws Exception {
    Totals t = report("od-1", "m1").groups().get("m1").total();
    // 60 s x 0.001 $/s at every cost.
    costs(t, 0.06, 0.06, 0.06, 0.06, "on-demand");
  }

  @Test
  void aCommitmentStartingMidSlotPricesEachPartAtItsOwnKind() throws Exception {
    // [F, F+20): on-demand 20 x 0.001 = 0.02; [F+20, F+60): committed 40 x 0.0005 = 0.02.
    Totals t = report("res-1", "m2").groups().get("m2").total();
    // Effective 0.02 + 0.02; list 60 x 0.001; contracted excludes the commitment's discount;
    // billed: the on-demand part only (the commitment is billed on its purchase).
    costs(t, 0.04, 0.06, 0.06, 0.02, "committed from F+20");
  }

  @Test
  void twoNodesOfOneGpuModelPayTheirOwnContracts() throws Exception {
    UsageCalculator c = new UsageCalculator(F, F + 60_000, 0, 60_000, 3_000, book(), null);
    for (int t = -2; t <= 60; t += 2) {
      long ts = F + t * 1000L;
      c.addSample(sample("g2", ts, "GA", "m2", "res-1"));
      c.addSample(sample("g5", ts, "GA", "m2", "od-9"));
    }
    c.addTokens(F + 5_000, "m2", "A", 10, 0);
    Report r = c.report(GroupBy.GPU_MODEL);
    Totals ga = r.groups().get("GA").total();
    // g2 0.04 (as above) + g5 0.06 (all on-demand).
    // Billed: 0.02 + 0.06.
    costs(ga, 0.10, 0.12, 0.12, 0.08, "GA");
    near(0.10, r.fleet().costUsd(), "fleet");
    near(0.12, r.fleet().listCostUsd(), "fleet list");
  }

  @Test
  void spotNodesPayTheSpotPriceAndListIsBesideIt() throws Exception {
    Totals t = report("spot-1", "m3").groups().get("m3").total();
    // 60 x 0.0003 effective, contracted and billed; list 60 x 0.001.
    costs(t, 0.018, 0.06, 0.018, 0.018, "spot");
    // spot-? matches one character: spot-10 is on-demand.
    near(0.06, report("spot-10", "m3").groups().get("m3").total().costUsd(), "spot-10");
  }

  /**
   * The ledger keeps each price kind and commitment apart: res-1's tenant row is two rows, 20 s
   * on-demand and 40 s under ri-1; spot-1's is spot; a GPU model without a price is a row without a
   * price kind; and their sum is the report's.
   */
  @Test
  void ledgerRowsAreOnDemandSpotOneCommitmentOrUnpriced() throws Exception {
    UsageCalculator c = new UsageCalculator(F, F + 60_000, 0, 60_000, 3_000, book(), null);
    for (int t = -2; t <= 60; t += 2) {
      long ts = F + t * 1000L;
      c.addSample(sample("g2", ts, "GA", "m2", "res-1"));
      c.addSample(sample("g4", ts, "GA", "m2", "spot-1"));
      c.addSample(sample("g9", ts, "GX", "m2", "od-1"));
      c.addSample(sample("g7", ts, "GA", null, "res-2"));
    }
    c.addTokens(F + 5_000, "m2", "A", 10, 0);
    java.util.Map<String, io.gputelemetry.store.LedgerRow> rows = new java.util.TreeMap<>();
    for (io.gputelemetry.store.LedgerRow r : c.rows()) {
      if (r.kind() == io.gputelemetry.store.LedgerRow.Kind.GPU
          || r.kind() == io.gputelemetry.store.LedgerRow.Kind.IDLE) {
        rows.put(r.kind() + " " + r.gpuModel() + " " + r.priceKind() + " " + r.commitment(), r);
      }
    }
    assertEquals(
        java.util.List.of(
            "GPU GA committed ri-1",
            "GPU GA on_demand ",
            "GPU GA spot ",
            "GPU GX  ",
            "IDLE GA committed ri-1",
            "IDLE GA on_demand "),
        java.util.List.copyOf(rows.keySet()));
    // g2 [F, F+20) on-demand; g2 [F+20, F+60) committed; g4 60 s spot; g9 60 s unpriced.
    near(20, rows.get("GPU GA on_demand ").amounts().gpuSeconds(), "on-demand part");
    near(0.02, rows.get("GPU GA on_demand ").amounts().billedCostUsd(), "on-demand billed");
    near(40, rows.get("GPU GA committed ri-1").amounts().gpuSeconds(), "committed part");
    near(0.02, rows.get("GPU GA committed ri-1").amounts().costUsd(), "committed effective");
    near(0, rows.get("GPU GA committed ri-1").amounts().billedCostUsd(), "committed billed");
    near(0.018, rows.get("GPU GA spot ").amounts().costUsd(), "spot");
    near(60, rows.get("GPU GX  ").amounts().unpricedGpuSeconds(), "unpriced");
    near(0, rows.get("GPU GX  ").amounts().pricedGpuSeconds(), "unpriced, nothing priced");
    // g7 on res-2 serves no model: idle, on-demand then committed like g2.
    near(40, rows.get("IDLE GA committed ri-1").amounts().gpuSeconds(), "idle committed");
    near(20, rows.get("IDLE GA on_demand ").amounts().gpuSeconds(), "idle on-demand");
    Totals fleet = c.report(GroupBy.GPU_MODEL).fleet();
    // g2, g4, g7: effective 0.04 + 0.018 + 0.04; list 3 x 0.06; contracted 0.06 + 0.018 + 0.06;
    // billed 0.02 + 0.018 + 0.02.
    costs(fleet, 0.098, 0.18, 0.138, 0.058, "fleet");
    near(60, fleet.unpricedGpuSeconds(), "fleet unpriced");
  }

  @Test
  void aSampleWithoutANodeGetsThePriceForEveryNode() throws Exception {
    costs(report(null, "m1").groups().get("m1").total(), 0.06, 0.06, 0.06, 0.06, "no node");
  }
}
