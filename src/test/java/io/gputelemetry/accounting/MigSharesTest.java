package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.json.Json;
import io.gputelemetry.store.UsageRows;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * MIG instances priced by their profile's share of the parent GPU (conf/gpu-profiles.json), the
 * unallocated rest on the parent, and the parts adding up to the parent's cost and energy.
 *
 * <pre>
 * range [F, F + 60 s), one allocation slot, samples every 2 s from F-2 to F+60, max gap 3 s
 * parent P: A100-SXM-80GB (idle 60 W) at 25.2 $/h (0.007 $/s: 0.001 $/s per seventh), 700 W,
 *   its samples name no model
 * instances of P: 3g.40gb (3/7) serves m1, 2g.20gb (2/7) serves m2
 * </pre>
 */
class MigSharesTest {
  private static final long F = 1_800_000_000_000L;
  private static final String A100 = "A100-SXM-80GB";
  private static final String[] PROFILES = {
    "1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"
  };
  private static final int[] SLICES = {1, 1, 1, 2, 3, 4, 7};

  private static PriceBook book(double usdPerHour) {
    return new PriceBook(
        Map.of(A100, List.of(new PriceBook.Price(F - 86_400_000L, usdPerHour))), Map.of());
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, Math.max(1e-12, Math.abs(expected) * 1e-12), what);
  }

  private static UsageRows.Sample parent(long ts, double powerW) {
    return new UsageRows.Sample("P", ts, A100, null, null, powerW, null, false, "n1", null, null);
  }

  private static UsageRows.Sample instance(String id, long ts, String model, String profile) {
    return new UsageRows.Sample(
        "P:gi" + id, ts, A100, model, null, 0, null, true, "n1", "P", profile);
  }

  private static UsageCalculator calculator(double usdPerHour) {
    return new UsageCalculator(
        F, F + 60_000, 0, 60_000, 3_000, book(usdPerHour), GpuProfiles.load());
  }

  private static Report example(String profile1, String profile2) {
    UsageCalculator c = calculator(25.2);
    for (int t = -2; t <= 60; t += 2) {
      long ts = F + t * 1000L;
      c.addSample(parent(ts, 700));
      c.addSample(instance("1", ts, "m1", profile1));
      c.addSample(instance("2", ts, "m2", profile2));
    }
    c.addTokens(F + 1_000, "m1", "A", 10, 0);
    c.addTokens(F + 1_000, "m2", "B", 10, 0);
    return c.report(GroupBy.MODEL);
  }

  @Test
  void eachInstanceTakesItsProfilesShareAndTheParentKeepsTheRest() {
    Report r = example("3g.40gb", "2g.20gb");
    Totals m1 = r.groups().get("m1").total();
    Totals m2 = r.groups().get("m2").total();
    Totals idle = r.idle().total();
    // m1: 3/7 of 60 s x 0.007 $/s = 60 x 0.003 = 0.18 $; of 700 W: 300 W x 60 s = 18 000 J;
    // active: 3/7 of (700 - 60) W x 60 s = 16 457.142857... J; 3/7 x 60 = 25.714... GPU-seconds.
    near(0.18, m1.costUsd(), "m1 cost");
    near(0.18, m1.listCostUsd(), "m1 list");
    near(18_000, m1.energyJ(), "m1 energy");
    near(3.0 / 7 * 640 * 60, m1.activeEnergyJ(), "m1 active energy");
    near(3.0 / 7 * 60, m1.gpuSeconds(), "m1 GPU-seconds");
    // m2: 2/7: 0.12 $, 12 000 J.
    near(0.12, m2.costUsd(), "m2 cost");
    near(12_000, m2.energyJ(), "m2 energy");
    // The 2 unallocated sevenths stay on the parent, which serves no model: idle.
    near(0.12, idle.costUsd(), "idle cost");
    near(12_000, idle.energyJ(), "idle energy");
    near(2.0 / 7 * 60, idle.gpuSeconds(), "idle GPU-seconds");
    near(0.42, r.fleet().costUsd(), "fleet: the parent's 60 s x 0.007");
    near(42_000, r.fleet().energyJ(), "fleet energy: 700 W x 60 s");
    near(60, r.fleet().gpuSeconds(), "fleet GPU-seconds: one GPU, once");
  }

  @Test
  void anUnknownProfileLeavesItsTimeOnTheParent() {
    Report r = example("3g.40gb", "5g.50gb");
    near(0.18, r.groups().get("m1").total().costUsd(), "m1");
    near(0.0, r.groups().get("m2").total().costUsd(), "m2: a profile the table does not know");
    near(0.24, r.idle().total().costUsd(), "idle: 4/7");
  }

  @Test
  void instancesAddingUpToMoreThanTheGpuAreScaledToIt() {
    // Two 4g.40gb (8/7: a layout that cannot exist): each gets half, nothing stays on the parent.
    Report r = example("4g.40gb", "4g.40gb");
    near(0.21, r.groups().get("m1").total().costUsd(), "m1");
    near(0.21, r.groups().get("m2").total().costUsd(), "m2");
    near(0.0, r.idle().total().costUsd(), "idle");
  }

  @Test
  void anInstancesFirstSampleCoversNothingAndItsGapsAreCapped() {
    UsageCalculator c = calculator(25.2);
    for (int t = -2; t <= 60; t += 2) {
      long ts = F + t * 1000L;
      c.addSample(parent(ts, 700));
      // Created at F+20 (first sample: covers nothing); no samples from F+40 to F+50 (a 10 s gap:
      // the sample at F+50 covers its last 3 s).
      if (t >= 20 && (t <= 40 || t >= 50)) {
        c.addSample(instance("1", ts, "m1", "1g.10gb"));
      }
    }
    c.addTokens(F + 1_000, "m1", "A", 10, 0);
    Report r = c.report(GroupBy.MODEL);
    // m1: (F+20, F+40] 20 s + (F+47, F+60] 13 s = 33 s at 0.001 $/s.
    near(0.033, r.groups().get("m1").total().costUsd(), "m1");
    near(0.42 - 0.033, r.idle().total().costUsd(), "idle: the rest of the parent");
  }

  @Test
  void withoutGpuProfilesInstancesTakeNothing() {
    UsageCalculator c = new UsageCalculator(F, F + 60_000, 0, 60_000, 3_000, book(25.2), null);
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(parent(F + t * 1000L, 700));
      c.addSample(instance("1", F + t * 1000L, "m1", "3g.40gb"));
    }
    c.addTokens(F + 1_000, "m1", "A", 10, 0);
    Report r = c.report(GroupBy.MODEL);
    near(0.0, r.groups().get("m1").total().costUsd(), "no table, no share");
    near(0.42, r.idle().total().costUsd(), "the parent keeps it all");
  }

  @Test
  void anInstanceWithoutAParentSampleCoversNothing() {
    UsageCalculator c = calculator(25.2);
    for (int t = -2; t <= 60; t += 2) {
      c.addSample(instance("1", F + t * 1000L, "m1", "3g.40gb"));
    }
    c.addTokens(F + 1_000, "m1", "A", 10, 0);
    Report r = c.report(GroupBy.MODEL);
    near(0.0, r.fleet().costUsd(), "no parent, no GPU time");
    assertNull(r.groups().get("m1").total().costPer1mTokensUsd(), "no priced tokens");
  }

  @Test
  void theTableGivesEachProfileItsSlicesOverTheGpusAndRefusesImpossibleOnes() throws Exception {
    GpuProfiles p = GpuProfiles.load();
    near(3.0 / 7, p.migShare(A100, "3g.40gb"), "A100-80GB 3g.40gb");
    near(3.0 / 7, p.migShare("A100-SXM-40GB", "3g.20gb"), "by SMs (3/7), not memory (4/8)");
    near(1.0 / 7, p.migShare("H200-SXM-141GB", "1g.18gb+me"), "H200 1g.18gb+me");
    near(1.0, p.migShare("H100-SXM-80GB", "7g.80gb"), "the whole GPU");
    assertNull(p.migShare("L4-24GB", "1g.10gb"), "no MIG on an L4");
    assertNull(p.migShare(A100, "3g.20gb"), "a 40GB profile on the 80GB model");
    for (String bad : new String[] {"8", "0", "1.5", "\"2\""}) {
      String json = "{\"compute_slices\": 7, \"profiles\": {\"xg\": " + bad + "}}";
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> GpuProfiles.migTable(Json.MAPPER.readTree(json), "G"),
              bad);
      assertEquals(
          "conf/gpu-profiles.json: G MIG profile xg needs 1 to compute_slices (7) slices, not "
              + bad,
          e.getMessage());
    }
    assertThrows(
        IllegalStateException.class,
        () -> GpuProfiles.migTable(Json.MAPPER.readTree("{\"profiles\": {\"1g\": 1}}"), "G"),
        "no compute_slices");
  }

  /** A GPU profiles file of one's own replaces the built-in table; a bad one names the setting. */
  @Test
  void aProfilesFileReplacesTheBuiltInTableAndABadOneNamesTheSetting(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    assertEquals(
        GpuProfiles.load().migShare(A100, "3g.40gb"),
        GpuProfiles.load(null).migShare(A100, "3g.40gb"));
    java.nio.file.Path file = dir.resolve("profiles.json");
    java.nio.file.Files.writeString(
        file,
        "{\"profiles\": [{\"name\": \"X1\", \"idle_power_w\": 12,"
            + " \"mig\": {\"compute_slices\": 4, \"profiles\": {\"1g\": 1}}}]}");
    GpuProfiles own = GpuProfiles.load(file);
    near(0.25, own.migShare("X1", "1g"), "1 of X1's 4 slices");
    assertEquals(12, own.get("X1").idlePowerW());
    assertNull(own.get(A100), "only the file's GPU models");
    java.nio.file.Files.writeString(
        file, "{\"profiles\": [{\"name\": \"X1\", \"mig\": {\"profiles\": {\"1g\": 1}}}]}");
    io.gputelemetry.config.ConfigException bad =
        assertThrows(io.gputelemetry.config.ConfigException.class, () -> GpuProfiles.load(file));
    assertTrue(
        bad.getMessage().startsWith("setting 'accounting.gpu-profiles': cannot read " + file + ": ")
            && bad.getMessage().contains("compute_slices"),
        bad.getMessage());
    java.nio.file.Path missing = dir.resolve("none.json");
    assertTrue(
        assertThrows(io.gputelemetry.config.ConfigException.class, () -> GpuProfiles.load(missing))
            .getMessage()
            .startsWith("setting 'accounting.gpu-profiles': cannot read " + missing));
  }

  /**
   * Random layouts on one parent: random profiles (at most the GPU's 7 slices), models (or none),
   * lifetimes and prices. Each model gets exactly its instances' shares of the parent over their
   * covered time, idle the rest, and the parts add up to the parent's cost and energy.
   */
  @Test
  void sharesAndTheRemainderAddUpToTheParentOverRandomLayouts() {
    Random rnd = new Random(17);
    String[] models = {"m1", "m2", "m3", null};
    for (int round = 0; round < 300; round++) {
      double usdPerHour = 0.5 + rnd.nextInt(4000) / 100.0;
      double powerW = 50 + rnd.nextInt(650);
      UsageCalculator c = calculator(usdPerHour);
      for (int t = -2; t <= 60; t += 2) {
        c.addSample(parent(F + t * 1000L, powerW));
      }
      Map<String, Double> expectedShareSeconds = new HashMap<>();
      List<String> layout = new ArrayList<>();
      int free = 7;
      for (int i = 0; free > 0 && rnd.nextInt(5) > 0; i++) {
        int p = rnd.nextInt(PROFILES.length);
        if (SLICES[p] > free) {
          continue;
        }
        free -= SLICES[p];
        String model = models[rnd.nextInt(models.length)];
        // Samples from index k0 to k1 (t = -2 + 2k): covered (t_k0, t_k1] within [F, F+60).
        int k0 = rnd.nextInt(32);
        int k1 = k0 + rnd.nextInt(32 - k0);
        for (int k = k0; k <= k1; k++) {
          c.addSample(instance(Integer.toString(i), F + (-2 + 2 * k) * 1000L, model, PROFILES[p]));
        }
        double covered = Math.max(0, Math.min(-2 + 2 * k1, 60) - Math.max(-2 + 2 * k0, 0));
        expectedShareSeconds.merge(
            model == null ? "" : model, SLICES[p] / 7.0 * covered, Double::sum);
        layout.add(PROFILES[p] + " " + model + " " + k0 + ".." + k1);
      }
      for (String m : List.of("m1", "m2", "m3")) {
        c.addTokens(F + 1_000, m, "A", 10, 0);
      }
      Report r = c.report(GroupBy.MODEL);
      String what = "round " + round + " " + layout;
      double perSecond = usdPerHour / 3600;
      near(60 * perSecond, r.fleet().costUsd(), what + ": fleet = the parent's cost");
      near(60 * powerW, r.fleet().energyJ(), what + ": fleet = the parent's energy");
      double sum = r.idle().total().costUsd();
      double energy = r.idle().total().energyJ();
      for (String m : List.of("m1", "m2", "m3")) {
        Totals t = r.groups().get(m).total();
        double shareSeconds = expectedShareSeconds.getOrDefault(m, 0.0);
        assertEquals(shareSeconds * perSecond, t.costUsd(), 1e-12, what + " " + m + " cost");
        assertEquals(shareSeconds * powerW, t.energyJ(), 1e-9, what + " " + m + " energy");
        sum += t.costUsd();
        energy += t.energyJ();
      }
      double unallocated = 60 - expectedShareSeconds.values().stream().mapToDouble(d -> d).sum();
      double idleShare = expectedShareSeconds.getOrDefault("", 0.0);
      assertEquals(
          (unallocated + idleShare) * perSecond,
          r.idle().total().costUsd(),
          1e-12,
          what + ": idle = the unallocated rest and the instances serving no model");
      assertEquals(60 * perSecond, sum, 1e-12 * 60 * perSecond, what + ": parts add up, cost");
      assertEquals(60 * powerW, energy, 1e-12 * 60 * powerW, what + ": parts add up, energy");
    }
  }
}
