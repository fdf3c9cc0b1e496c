package io.gputelemetry.accounting;

import static io.gputelemetry.support.AccountingFixture.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.store.UsageRows;
import io.gputelemetry.support.AccountingFixture;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageCalculatorTest {
  private static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");

  static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-9, Math.abs(expected) * 1e-4), what);
  }

  private UsageCalculator.Report run(
      AccountingFixture f,
      PriceBook prices,
      UsageCalculator.GroupBy g,
      long step,
      boolean shuffled) {
    return calculator(f, prices, step, shuffled).report(g);
  }

  /** A calculator fed with the fixture's samples and token events. */
  private static UsageCalculator calculator(
      AccountingFixture f, PriceBook prices, long step, boolean shuffled) {
    long from = T0.toEpochMilli();
    UsageCalculator c = new UsageCalculator(from, from + 60_000, step, 30_000, 3_000, prices, null);
    List<JsonObject> samples = new ArrayList<>(f.samples);
    List<JsonObject> tokens = new ArrayList<>(f.tokens);
    if (shuffled) {
      Collections.shuffle(samples, new java.util.Random(7));
      Collections.shuffle(tokens, new java.util.Random(7));
      // A sample read twice (a replay) follows itself with no gap: it covers nothing again.
      samples.addAll(f.samples.subList(0, 20));
    }
    for (JsonObject s : samples) {
      c.addSample(
          new UsageRows.Sample(
              s.getString("gpu_uuid"),
              Instant.parse(s.getString("ts")).toEpochMilli(),
              s.getString("gpu_model"),
              s.getString("model"),
              s.getLong("energy_mj"),
              s.getDouble("power_w")));
    }
    for (JsonObject t : tokens) {
      c.addTokens(
          Instant.parse(t.getString("ts")).toEpochMilli(),
          t.getString("model"),
          t.getString("tenant"),
          t.getLong("input_tokens"),
          t.getLong("output_tokens"));
    }
    return c;
  }

  @Test
  void tenantCostsEnergyAndTokensMatchTheHandArithmetic(@TempDir Path dir) throws Exception {
    AccountingFixture f = new AccountingFixture(T0);
    PriceBook prices = PriceBook.load(f.writePriceBook(dir));
    UsageCalculator.Report r = run(f, prices, UsageCalculator.GroupBy.TENANT, 30_000, false);
    near(A_COST, r.groups().get("A").total().costUsd(), "A cost");
    near(A_ENERGY, r.groups().get("A").total().energyJ(), "A energy");
    near(A_INPUT, r.groups().get("A").total().inputTokens(), "A input");
    near(A_OUTPUT, r.groups().get("A").total().outputTokens(), "A output");
    near(B_COST, r.groups().get("B").total().costUsd(), "B cost");
    near(B_ENERGY, r.groups().get("B").total().energyJ(), "B energy");
    near(B_INPUT, r.groups().get("B").total().inputTokens(), "B input");
    near(B_OUTPUT, r.groups().get("B").total().outputTokens(), "B output");
    near(0, r.groups().get("C").total().costUsd(), "C cost");
    near(C_TOKENS, r.groups().get("C").total().unmeteredTokens(), "C unmetered");
    near(IDLE_COST, r.idle().total().costUsd(), "idle cost");
    near(IDLE_ENERGY, r.idle().total().energyJ(), "idle energy");
    near(FLEET_COST, r.fleet().costUsd(), "fleet cost");
    near(FLEET_ENERGY, r.fleet().energyJ(), "fleet energy");
    near(UNPRICED_SECONDS, r.fleet().unpricedGpuSeconds(), "unpriced GPU seconds");
    near(A_REQUESTS, r.groups().get("A").total().requests(), "A requests");
    near(B_REQUESTS, r.groups().get("B").total().requests(), "B requests");
    near(C_REQUESTS, r.groups().get("C").total().requests(), "C requests");
    near(A_REQUESTS + B_REQUESTS + C_REQUESTS, r.fleet().requests(), "fleet requests");
    near(A_GPU_SECONDS, r.groups().get("A").total().gpuSeconds(), "A GPU seconds");
    near(B_GPU_SECONDS, r.groups().get("B").total().gpuSeconds(), "B GPU seconds");
    near(0, r.groups().get("C").total().gpuSeconds(), "C GPU seconds");
    near(IDLE_GPU_SECONDS, r.idle().total().gpuSeconds(), "idle GPU seconds");
    near(FLEET_GPU_SECONDS, r.fleet().gpuSeconds(), "fleet GPU seconds");
    double allocated = r.groups().values().stream().mapToDouble(t -> t.total().costUsd()).sum();
    near(r.fleet().costUsd(), allocated + r.idle().total().costUsd(), "tenants + idle = fleet");
    // The series: step 0 of tenant B holds its m2 cost.
    near(0.25 * 0.03 + 0.23, r.groups().get("B").series().get(0).costUsd(), "B step 0");
    near(0.25 * 0.06, r.groups().get("B").series().get(1).costUsd(), "B step 1");
  }

  @Test
  void oneTenantsReportHoldsItsOwnShareAndNothingOfOthersOrOfTheFleet(@TempDir Path dir)
      throws Exception {
    AccountingFixture f = new AccountingFixture(T0);
    PriceBook prices = PriceBook.load(f.writePriceBook(dir));
    UsageCalculator c = calculator(f, prices, 30_000, false);
    UsageCalculator.Report byTenant = c.report(UsageCalculator.GroupBy.TENANT, "A");
    assertEquals(java.util.Set.of("A"), byTenant.groups().keySet(), "no other tenant's name");
    near(A_COST, byTenant.groups().get("A").total().costUsd(), "A's cost as in the full report");
    near(A_COST, byTenant.fleet().costUsd(), "totals: A's own");
    near(A_ENERGY, byTenant.fleet().energyJ(), "totals: A's own energy");
    near(A_INPUT + A_OUTPUT, byTenant.fleet().tokens(), "totals: A's own tokens");
    near(0, byTenant.idle().total().costUsd(), "no idle line");
    UsageCalculator.Report byModel = c.report(UsageCalculator.GroupBy.MODEL, "A");
    double modelCost =
        byModel.groups().values().stream().mapToDouble(l -> l.total().costUsd()).sum();
    double modelTokens =
        byModel.groups().values().stream().mapToDouble(l -> l.total().tokens()).sum();
    near(A_COST, modelCost, "A's cost split by model");
    near(A_INPUT + A_OUTPUT, modelTokens, "A's tokens split by model, nobody else's");
    assertTrue(
        c.report(UsageCalculator.GroupBy.TENANT, "nobody").groups().isEmpty(),
        "a tenant without usage sees nothing");
  }

  @Test
  void groupingByModelAndByGpuModelKeepsTheFleetTotal(@TempDir Path dir) throws Exception {
    AccountingFixture f = new AccountingFixture(T0);
    PriceBook prices = PriceBook.load(f.writePriceBook(dir));
    UsageCalculator.Report m = run(f, prices, UsageCalculator.GroupBy.MODEL, 0, false);
    near(M1_COST, m.groups().get("m1").total().costUsd(), "m1 cost");
    near(M1_ENERGY, m.groups().get("m1").total().energyJ(), "m1 energy");
    near(M2_COST, m.groups().get("m2").total().costUsd(), "m2 cost");
    near(M2_ENERGY, m.groups().get("m2").total().energyJ(), "m2 energy");
    near(750 + 250, m.groups().get("m1").total().tokens(), "m1 tokens: A 3x150 + 300, B 150 + 100");
    near(IDLE_COST, m.idle().total().costUsd(), "one step allocates on the same 30 s grid as two");
    UsageCalculator.Report g = run(f, prices, UsageCalculator.GroupBy.GPU_MODEL, 30_000, false);
    // GA: g1's m1 time is allocated (0.09), g4's m3 time idle; GB: 0.23 allocated; GX: 0
    // (unpriced).
    near(0.09, g.groups().get(GA).total().costUsd(), "GA allocated");
    near(0.23, g.groups().get(GB).total().costUsd(), "GB allocated");
    near(0, g.groups().get(GX).total().costUsd(), "GX unpriced");
    near(UNPRICED_SECONDS, g.groups().get(GX).total().unpricedGpuSeconds(), "GX unpriced seconds");
    double total =
        g.groups().values().stream().mapToDouble(t -> t.total().costUsd()).sum()
            + g.idle().total().costUsd();
    near(FLEET_COST, total, "gpu models + idle = fleet");
  }

  @Test
  void arrivalOrderDoesNotChangeTheResult(@TempDir Path dir) throws Exception {
    AccountingFixture f = new AccountingFixture(T0);
    PriceBook prices = PriceBook.load(f.writePriceBook(dir));
    UsageCalculator.Report a = run(f, prices, UsageCalculator.GroupBy.TENANT, 30_000, false);
    UsageCalculator.Report b = run(f, prices, UsageCalculator.GroupBy.TENANT, 30_000, true);
    for (String k : a.groups().keySet()) {
      near(a.groups().get(k).total().costUsd(), b.groups().get(k).total().costUsd(), k);
      near(a.groups().get(k).total().energyJ(), b.groups().get(k).total().energyJ(), k);
      near(a.groups().get(k).total().tokens(), b.groups().get(k).total().tokens(), k);
    }
    near(FLEET_COST, b.fleet().costUsd(), "fleet cost with replayed samples");
    near(FLEET_ENERGY, b.fleet().energyJ(), "fleet energy with replayed samples");
  }

  @Test
  void askingForTheReportAgainGivesTheSameFigures(@TempDir Path dir) throws Exception {
    AccountingFixture f = new AccountingFixture(T0);
    PriceBook prices = PriceBook.load(f.writePriceBook(dir));
    UsageCalculator c = calculator(f, prices, 30_000, false);
    UsageCalculator.Report first = c.report(UsageCalculator.GroupBy.TENANT);
    UsageCalculator.Report byModel = c.report(UsageCalculator.GroupBy.MODEL);
    UsageCalculator.Report again = c.report(UsageCalculator.GroupBy.TENANT);
    assertEquals(first.fleet().costUsd(), again.fleet().costUsd(), "no doubling on a second call");
    assertEquals(
        first.fleet().energyJ(),
        byModel.fleet().energyJ(),
        "the grouping does not change the fleet");
    for (String k : first.groups().keySet()) {
      assertEquals(
          first.groups().get(k).total().costUsd(), again.groups().get(k).total().costUsd(), k);
      assertEquals(
          first.groups().get(k).total().tokens(), again.groups().get(k).total().tokens(), k);
    }
    assertThrows(
        UnsupportedOperationException.class,
        () -> first.groups().get("A").series().set(0, first.fleet()),
        "a report cannot be changed by its reader");
  }
}
