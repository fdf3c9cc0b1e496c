package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.store.UsageRows;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * A DCGM exporter scraped at its 30 s default bills every second of GPU time it saw: the samples
 * carry their source's interval and the gap they may cover (3 intervals), and accounting uses it.
 */
class DcgmAccountingTest {
  private static final long F = 1_800_000_000_000L; // a whole minute
  private static final String A100 = "A100-SXM-40GB";
  private static final PriceBook PRICES =
      new PriceBook(Map.of(A100, List.of(new PriceBook.Price(F - 86_400_000L, 3.6))), Map.of());
  private static final long ENERGY_AT_F = 319159391L;
  // 409.692 W for 30 s, in mJ.
  private static final long MJ_PER_SCRAPE = 12_290_760L;

  private final DcgmMapping mapping = new DcgmMapping(Map.of(), ModelMap.parse(List.of()), 3);

  /** Scrapes of NVIDIA's MIG example at F + 30 s * k, k = -1..20, the counter advancing. */
  private UsageCalculator tenMinutes(IntPredicate answered, boolean withGaps) throws Exception {
    String fixture =
        Files.readString(
            DcgmMappingTest.FIXTURES.resolve("cloud-native-docs-mig.prom"), StandardCharsets.UTF_8);
    UsageCalculator c =
        new UsageCalculator(F, F + 600_000, 0, 60_000, 3_000, PRICES, GpuProfiles.load());
    for (int k = -1; k <= 20; k++) {
      if (!answered.test(k)) {
        continue;
      }
      String text =
          fixture.replace("} " + ENERGY_AT_F, "} " + (ENERGY_AT_F + (k + 1) * MJ_PER_SCRAPE));
      DcgmMapping.Result r =
          mapping.map(
              PromText.parse(text, 65536),
              DcgmMappingTest.target(Map.of("gpu_model", A100)),
              Instant.ofEpochMilli(F + 30_000L * k));
      for (ObjectNode s : r.samples()) {
        c.addSample(
            new UsageRows.Sample(
                s.get("gpu_uuid").asText(),
                Instant.parse(s.get("ts").asText()).toEpochMilli(),
                s.get("gpu_model").asText(),
                null,
                s.get("energy_mj").asLong(),
                s.get("power_w").asDouble(),
                withGaps ? Math.round(s.get("max_gap_s").asDouble() * 1000) : null,
                s.has("mig_parent_uuid")));
      }
    }
    return c;
  }

  @Test
  void tenMinutesOfThirtySecondScrapesBillSixHundredGpuSeconds() throws Exception {
    UsageCalculator.Totals t =
        tenMinutes(k -> true, true).report(UsageCalculator.GroupBy.MODEL).fleet();
    assertEquals(600.0, t.gpuSeconds(), 1e-9);
    assertEquals(3.6 * 600 / 3600, t.costUsd(), 1e-12); // 0.60 USD
    assertEquals(20 * MJ_PER_SCRAPE / 1000.0, t.energyJ(), 1e-6); // 245 815.2 J
    assertEquals(0.0, t.uncoveredGpuSeconds());
    assertEquals(0, t.sampleGaps());
  }

  @Test
  void withoutTheSampleGapTheOldThreeSecondCapBilledATenthAndNowSaysSo() throws Exception {
    UsageCalculator.Totals t =
        tenMinutes(k -> true, false).report(UsageCalculator.GroupBy.MODEL).fleet();
    assertEquals(60.0, t.gpuSeconds(), 1e-9);
    assertEquals(540.0, t.uncoveredGpuSeconds(), 1e-9);
    assertEquals(20, t.sampleGaps());
  }

  @Test
  void twoMissedScrapesAreStillCoveredThreeAreAReportedGap() throws Exception {
    // Missing k = 3, 4 (a 90 s gap: covered) and k = 10, 11, 12 (120 s: 90 billed, 30 reported).
    UsageCalculator.Totals t =
        tenMinutes(k -> k != 3 && k != 4 && (k < 10 || k > 12), true)
            .report(UsageCalculator.GroupBy.MODEL)
            .fleet();
    assertEquals(570.0, t.gpuSeconds(), 1e-9);
    assertEquals(30.0, t.uncoveredGpuSeconds(), 1e-9);
    assertEquals(1, t.sampleGaps());
  }
}
