package io.gputelemetry.support;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A fleet over one minute [T0, T0 + 60 s), steps of 30 s, with the expected authoritative results
 * worked out by hand (see the arithmetic on each constant).
 *
 * <pre>
 * GPU  gpu model  serves  samples (every 2 s, T0-2 .. T0+60)      price          power / counter
 * g1   GA         m1      all; counter reset at T0+40              0.001 $/s, 0.002 $/s from T0+30   200 W by counter; 250 W at the reset
 * g2   GB         m2      none from T0+22 to T0+28 (10 s gap)      0.01 $/s       300 W by counter; the capped gap falls back to power
 * g3   GX         m1      all                                      none (unpriced) 100 W, no counter
 * g4   GA         m3      all (m3 gets no tokens: idle)            as g1          150 W, no counter
 *
 * tokens  step 0: m1 A 3x(100+50), m1 B 1x(100+50), m2 B 2x(500+500), m9 C 1x(10+10) (no GPU: unmetered)
 *         step 1: m1 A 1x(200+100), m1 B 1x(100+0) (sent last: late)
 * </pre>
 */
public final class AccountingFixture {
  public static final String GA = "GA";
  public static final String GB = "GB";
  public static final String GX = "GX";

  // GPU time and cost per step (max gap 3 s; a sample covers (previous, this]):
  //  g1: 30 s + 30 s; cost 30 x 0.001 = 0.03 and 30 x 0.002 = 0.06 (price doubles at T0+30)
  //  g2: step 0 covers [T0, T0+20) = 20 s plus the capped gap [T0+27, T0+30) = 3 s -> 23 s x 0.01 =
  // 0.23
  //      step 1: 30 s x 0.01 = 0.30
  //  g3: 60 s unpriced; g4: 0.03 + 0.06
  // Energy: g1 step 0: 200 W x 30 = 6000 J; step 1: 6000 - 400 (the reset interval by counter) +
  // 250 W x 2 = 6100 J
  //  g2: step 0: 300 W x 20 by counter + 300 W x 3 by power = 6900 J; step 1: 9000 J
  //  g3: 3000 + 3000 J; g4: 4500 + 4500 J
  public static final double FLEET_COST = 0.03 + 0.06 + 0.23 + 0.30 + 0.03 + 0.06; // 0.71
  public static final double FLEET_ENERGY =
      6000 + 6100 + 3000 + 3000 + 6900 + 9000 + 4500 + 4500; // 43000
  // Allocation: step 0 m1 tokens A 450 / B 150 -> shares 0.75 / 0.25 of (0.03 $, 6000 + 3000 J)
  //             step 1 m1 tokens A 300 / B 100 -> 0.75 / 0.25 of (0.06 $, 6100 + 3000 J)
  //             step 0 m2: B alone -> 0.23 $, 6900 J; step 1 m2 has no tokens -> idle 0.30 $, 9000
  // J
  //             m3 -> idle 0.09 $, 9000 J
  public static final double A_COST = 0.75 * 0.03 + 0.75 * 0.06; // 0.0675
  public static final double A_ENERGY = 0.75 * 9000 + 0.75 * 9100; // 13575
  public static final double A_INPUT = 3 * 100 + 200; // 500
  public static final double A_OUTPUT = 3 * 50 + 100; // 250
  public static final double B_COST = 0.25 * 0.03 + 0.25 * 0.06 + 0.23; // 0.2525
  public static final double B_ENERGY = 0.25 * 9000 + 0.25 * 9100 + 6900; // 11425
  public static final double B_INPUT = 100 + 2 * 500 + 100; // 1200
  public static final double B_OUTPUT = 50 + 2 * 500 + 0; // 1050
  public static final double C_TOKENS = 20; // unmetered, cost 0
  public static final double IDLE_COST = 0.30 + 0.09; // 0.39
  public static final double IDLE_ENERGY = 9000 + 9000; // 18000
  public static final double UNPRICED_SECONDS = 60; // g3
  // Requests: one per token event, the zero-token one and the late one included.
  public static final double A_REQUESTS = 3 + 1; // m1 step 0, m1 step 1
  public static final double B_REQUESTS = 1 + 2 + 1; // m1 step 0, m2 step 0, m1 step 1 (late)
  public static final double C_REQUESTS = 1; // m9, unmetered
  // GPU-seconds (g1 60, g2 23 + 30, g3 60, g4 60 = 233): m1's GPUs (g1 and g3, 30 s each per step,
  // priced or not) go 0.75 / 0.25 to A / B in both steps; m2's 23 s of step 0 to B; g2's step 1
  // and g4 to idle.
  public static final double A_GPU_SECONDS = 0.75 * 60 + 0.75 * 60; // 90
  public static final double B_GPU_SECONDS = 0.25 * 60 + 0.25 * 60 + 23; // 53
  public static final double IDLE_GPU_SECONDS = 30 + 60; // 90
  public static final double FLEET_GPU_SECONDS = 60 + 53 + 60 + 60; // 233
  // By model: m1 = A + B shares of m1 = 0.09 $, 18100 J, 1000 tokens; m2 = 0.23 $, 6900 J, 2000
  // tokens.
  public static final double M1_COST = 0.09;
  public static final double M1_ENERGY = 9000 + 9100;
  public static final double M2_COST = 0.23;
  public static final double M2_ENERGY = 6900;

  public final Instant t0;
  public final List<JsonObject> samples = new ArrayList<>();

  /** Token events in sending order; the last one is the late one. */
  public final List<JsonObject> tokens = new ArrayList<>();

  public AccountingFixture(Instant t0) {
    this.t0 = t0;
    for (int s = -2; s <= 60; s += 2) {
      // g1: counter +400 J per 2 s; at T0+40 it resets to 1000 J and power reads 250 W.
      long g1 = s < 40 ? 10_000_000L + (s + 2) * 200_000L : 1_000_000L + (s - 40) * 200_000L;
      samples.add(sample("g1", GA, "m1", s, s == 40 ? 250 : 200, g1));
      if (s <= 20 || s >= 30) {
        samples.add(sample("g2", GB, "m2", s, 300, 50_000_000L + (s + 2) * 300_000L));
      }
      samples.add(sample("g3", GX, "m1", s, 100, null));
      samples.add(sample("g4", GA, "m3", s, 150, null));
    }
    for (int i = 0; i < 3; i++) {
      tokens.add(token("A", "m1", 1 + i, 100, 50));
    }
    tokens.add(token("B", "m1", 5, 100, 50));
    tokens.add(token("B", "m2", 6, 500, 500));
    tokens.add(token("B", "m2", 7, 500, 500));
    tokens.add(token("C", "m9", 10, 10, 10));
    tokens.add(token("A", "m1", 35, 200, 100));
    tokens.add(token("B", "m1", 45, 100, 0));
  }

  private JsonObject sample(
      String gpu, String gpuModel, String model, int second, double power, Long energyMj) {
    JsonObject o =
        new JsonObject()
            .put("event_id", gpu + "@" + second)
            .put("ts", t0.plusSeconds(second).toString())
            .put("node", "node-" + gpu)
            .put("gpu_uuid", "GPU-" + gpu)
            .put("gpu_model", gpuModel)
            .put("model", model)
            .put("utilization_pct", 50.0)
            .put("memory_used_mib", 1000)
            .put("memory_total_mib", 80000)
            .put("power_w", power)
            .put("temperature_c", 60.0);
    if (energyMj != null) {
      o.put("energy_mj", energyMj);
    }
    return o;
  }

  private JsonObject token(String tenant, String model, int second, int in, int out) {
    return new JsonObject()
        .put("event_id", "req-" + tenant + "-" + model + "-" + second)
        .put("ts", t0.plusSeconds(second).toString())
        .put("tenant", tenant)
        .put("model", model)
        .put("input_tokens", in)
        .put("output_tokens", out);
  }

  /** A price book: GA 3.60 $/h, 7.20 $/h from T0+30; GB 36 $/h; GX none. */
  public Path writePriceBook(Path dir) throws Exception {
    Instant long_ago = t0.minusSeconds(86_400);
    String json =
        new JsonObject()
            .put(
                "gpu_hourly",
                new io.vertx.core.json.JsonArray()
                    .add(
                        new JsonObject()
                            .put("gpu_model", GA)
                            .put("effective_from", long_ago.toString())
                            .put("usd_per_hour", 3.6))
                    .add(
                        new JsonObject()
                            .put("gpu_model", GA)
                            .put("effective_from", t0.plusSeconds(30).toString())
                            .put("usd_per_hour", 7.2))
                    .add(
                        new JsonObject()
                            .put("gpu_model", GB)
                            .put("effective_from", long_ago.toString())
                            .put("usd_per_hour", 36.0)))
            .encodePrettily();
    Path p = dir.resolve("price-book.json");
    Files.writeString(p, json, StandardCharsets.UTF_8);
    return p;
  }
}
