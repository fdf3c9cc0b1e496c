package io.gputelemetry.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.RollUps;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.UsageRows;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/**
 * The FOCUS export of fleets computed by the calculator meets every rule of FOCUS 1.2 that applies
 * ({@link FocusConformance}), says what the usage report says, and streams: a 13-month export
 * writes each record as it is given one.
 */
class FocusExportTest {
  private static final long H = 3_600_000L;
  private static final long F = 1_800_000_000_000L; // 2027-01-15T08:00:00Z, on the hour
  private static final long MIN = 60_000L;

  /** What this export's provider has: the Conditional columns it must carry. */
  static final FocusConformance.Facts FACTS =
      new FocusConformance.Facts(
          true, true, false, true, true, false, false, true, false, false, true);

  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              "GA",
              List.of(new PriceBook.Price(F - 86_400_000L, 3.6)),
              "GB",
              List.of(
                  new PriceBook.Price(F - 86_400_000L, 7.2),
                  new PriceBook.Price(F + H + 30 * MIN, 10.8))),
          Map.of());

  /** A GPU's samples every 2 s (100 W, no energy counter) from 2 s before {@code from} to to. */
  private static void serve(
      UsageCalculator c, String uuid, String gpuModel, String model, long from, long to) {
    for (long t = from - 2_000; t <= to; t += 2_000) {
      c.addSample(new UsageRows.Sample(uuid, t, gpuModel, model, null, 100));
    }
  }

  private static FocusCsv.Summary export(List<LedgerRow> hourly, StringBuilder out, String tenant) {
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, tenant);
    csv.header();
    hourly.forEach(csv::write);
    return csv.summary();
  }

  static List<Map<String, String>> parse(String csv) {
    try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().get().parse(new StringReader(csv))) {
      List<Map<String, String>> out = new ArrayList<>();
      for (CSVRecord r : p) {
        out.add(r.toMap());
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * One hour: GPU g1 (GA, 3.60 $/h, 100 W) serves m1 all hour; in minute 0 tenant A sends 30 tokens
   * and B 10, nothing after: A gets 3/4 of minute 0 (45 s, 0.045 $, 4500 J), B 1/4 (15 s, 0.015 $,
   * 1500 J), and minutes 1-59 are idle (3540 s, 3.54 $, 354 000 J). GPU g2 (GX, no price) serves
   * m2, C's 50 tokens in minute 5 are drawn on it: unknown cost, left out with g2's idle time (3600
   * s in all); D's 7 tokens of m9, which no GPU serves, are unmetered: left out too.
   */
  @Test
  void aSmallFleetsRowsAreTheHandComputedOnes() {
    UsageCalculator c = new UsageCalculator(F, F + H, H, MIN, 3_000, PRICES, null);
    serve(c, "g1", "GA", "m1", F, F + H);
    serve(c, "g2", "GX", "m2", F, F + H);
    c.addTokens(F + 1_000, "m1", "A", 20, 10);
    c.addTokens(F + 2_000, "m1", "B", 5, 5);
    c.addTokens(F + 5 * MIN, "m2", "C", 40, 10);
    c.addTokens(F + 5_000, "m9", "D", 4, 3);
    StringBuilder out = new StringBuilder();
    FocusCsv.Summary s = export(RollUps.sum(c.rows(), H), out, null);

    assertEquals(List.of(), FocusConformance.check(out.toString(), FACTS));
    List<Map<String, String>> rows = parse(out.toString());
    assertEquals(3, rows.size(), out.toString());
    assertEquals(new FocusCsv.Summary(3, 3_600, 57, 2), s);

    Map<String, String> a = rows.get(0);
    assertEquals("A", a.get("SubAccountId"));
    assertEquals("A", a.get("SubAccountName"));
    assertEquals("A", a.get("x_Tenant"));
    assertEquals("m1", a.get("x_Model"));
    assertEquals("GA", a.get("x_GpuModel"));
    assertEquals("false", a.get("x_Idle"));
    assertEquals("tokens", a.get("x_AllocationBasis"));
    assertEquals("2027-01-15T08:00:00Z", a.get("ChargePeriodStart"));
    assertEquals("2027-01-15T09:00:00Z", a.get("ChargePeriodEnd"));
    assertEquals("2027-01-01T00:00:00Z", a.get("BillingPeriodStart"));
    assertEquals("2027-02-01T00:00:00Z", a.get("BillingPeriodEnd"));
    assertEquals("Usage", a.get("ChargeCategory"));
    assertEquals("", a.get("ChargeClass"));
    assertEquals("Usage-Based", a.get("ChargeFrequency"));
    assertEquals("GPU time of m1 on GA, allocated to A by tokens", a.get("ChargeDescription"));
    // 45 s = 0.0125 GPU-hours at 3.60 $/h.
    assertEquals("0.0125", a.get("ConsumedQuantity"));
    assertEquals("GPU-Hours", a.get("ConsumedUnit"));
    assertEquals("0.0125", a.get("PricingQuantity"));
    assertEquals("GPU-Hours", a.get("PricingUnit"));
    assertEquals("3.6", a.get("ListUnitPrice"));
    assertEquals("Standard", a.get("PricingCategory"));
    for (String cost : List.of("ListCost", "ContractedCost", "EffectiveCost", "BilledCost")) {
      assertEquals("0.045", a.get(cost), cost);
    }
    assertEquals("USD", a.get("BillingCurrency"));
    assertEquals("gpu-fleet", a.get("BillingAccountId"));
    assertEquals("gpu-telemetry", a.get("ProviderName"));
    assertEquals("gpu-telemetry", a.get("PublisherName"));
    assertEquals("gpu-telemetry", a.get("InvoiceIssuerName"));
    assertEquals("AI and Machine Learning", a.get("ServiceCategory"));
    assertEquals("Generative AI", a.get("ServiceSubcategory"));
    assertEquals("LLM Inference", a.get("ServiceName"));
    assertEquals("GPU-Hour:GA", a.get("SkuId"));
    assertEquals("GPU-Hour:GA", a.get("SkuPriceId"));
    assertEquals(
        new JsonObject().put("GpuCount", 1).put("x_GpuModel", "GA"),
        new JsonObject(a.get("SkuPriceDetails")));
    assertEquals("45", a.get("x_GpuSeconds"));
    assertEquals("0", a.get("x_UnpricedGpuSeconds"));
    assertEquals("4500", a.get("x_EnergyJoules"));
    assertEquals("4500", a.get("x_ActiveEnergyJoules"));
    assertEquals("20", a.get("x_InputTokens"));
    assertEquals("10", a.get("x_OutputTokens"));
    assertEquals("1", a.get("x_Requests"));

    Map<String, String> b = rows.get(1);
    assertEquals("B", b.get("x_Tenant"));
    // 15 s = 0.00416666... GPU-hours, written to 10 places.
    assertEquals("0.0041666667", b.get("ConsumedQuantity"));
    assertEquals("0.015", b.get("BilledCost"));
    assertEquals("3.6", b.get("ListUnitPrice"));
    assertEquals("1500", b.get("x_EnergyJoules"));

    Map<String, String> idle = rows.get(2);
    assertEquals("true", idle.get("x_Idle"));
    assertEquals("unallocated", idle.get("x_AllocationBasis"));
    assertEquals("", idle.get("x_Tenant"));
    assertEquals("", idle.get("SubAccountId"), "idle time is no tenant's: null sub account");
    assertEquals("", idle.get("SubAccountName"));
    assertEquals("m1", idle.get("x_Model"));
    assertEquals("0.9833333333", idle.get("ConsumedQuantity"));
    assertEquals("3.54", idle.get("BilledCost"));
    assertEquals("3540", idle.get("x_GpuSeconds"));
    assertEquals("354000", idle.get("x_EnergyJoules"));
    assertEquals("0", idle.get("x_InputTokens"));
    assertEquals(
        "Idle GPU time of m1 on GA (no tokens to allocate it to)", idle.get("ChargeDescription"));
    assertTrue(out.toString().startsWith("BilledCost,BillingAccountId,"), "header line first");
    assertTrue(out.toString().contains("\r\n"), "RFC 4180 line breaks");
  }

  /**
   * Random fleets over several hours (tenants, models, GPU models with a price change within an
   * hour, one without a price, GPUs serving no model, models no GPU serves): every export meets the
   * spec, and its costs, GPU time and tokens plus what it left out are the usage report's.
   */
  @Test
  void generatedFleetsMeetEveryRuleAndAddUpToTheUsageReport() {
    Random r = new Random(17);
    for (int i = 0; i < 6; i++) {
      int hours = 2 + r.nextInt(3);
      UsageCalculator c = fleet(r, hours);
      List<LedgerRow> hourly = RollUps.sum(c.rows(), H);
      StringBuilder out = new StringBuilder();
      FocusCsv.Summary s = export(hourly, out, null);
      String what = "fleet " + i;
      assertEquals(List.of(), FocusConformance.check(out.toString(), FACTS), what);
      List<Map<String, String>> rows = parse(out.toString());
      assertEquals(s.rows(), rows.size(), what);
      UsageCalculator.Totals fleet = c.report(UsageCalculator.GroupBy.MODEL).fleet();
      assertTrue(fleet.unpricedGpuSeconds() > 0, what + " has unpriced GPU time");
      assertTrue(fleet.unmeteredTokens() > 0, what + " has unmetered tokens");
      assertTrue(rows.stream().anyMatch(x -> x.get("x_Idle").equals("true")), what + " idle");
      assertEquals(fleet.costUsd(), sum(rows, "BilledCost"), 1e-6, what + " cost");
      assertEquals(
          fleet.gpuSeconds(),
          sum(rows, "x_GpuSeconds") + s.omittedGpuSeconds(),
          1e-4,
          what + " GPU time");
      assertEquals(
          fleet.tokens(),
          sum(rows, "x_InputTokens") + sum(rows, "x_OutputTokens") + s.omittedTokens(),
          1e-4,
          what + " tokens");
      assertEquals(
          fleet.unpricedGpuSeconds(),
          sum(rows, "x_UnpricedGpuSeconds") + s.omittedGpuSeconds(),
          1e-4,
          what + " unpriced GPU time: in partly priced rows or left out");
      for (String tenant : List.of("t0", "t1")) {
        StringBuilder mine = new StringBuilder();
        export(hourly, mine, tenant);
        List<Map<String, String>> own = parse(mine.toString());
        assertTrue(own.stream().allMatch(x -> x.get("x_Tenant").equals(tenant)), what + tenant);
        assertEquals(
            c.report(UsageCalculator.GroupBy.MODEL, tenant).fleet().costUsd(),
            sum(own, "BilledCost"),
            1e-6,
            what + " " + tenant + "'s cost");
      }
    }
  }

  private static double sum(List<Map<String, String>> rows, String column) {
    return rows.stream().mapToDouble(x -> Double.parseDouble(x.get(column))).sum();
  }

  /** A random fleet over {@code hours} hours from F. */
  private static UsageCalculator fleet(Random r, int hours) {
    long to = F + hours * H;
    UsageCalculator c = new UsageCalculator(F, to, H, MIN, 3_000, PRICES, null);
    String[] gpuModels = {"GA", "GB", "GX"};
    String[] models = {"m0", "m1", "m2"};
    for (int g = 0; g < 6; g++) {
      String gm = gpuModels[g % 3];
      // GPU 5 serves no model: its time is idle.
      String model = g == 5 ? null : models[g % 3];
      long start = F + r.nextInt(hours) * H / 2;
      long end = to - r.nextInt(2) * H / 3;
      serve(c, "g" + g, gm, model, start, end);
    }
    for (int k = 0; k < 40 * hours; k++) {
      long ts = F + (long) (r.nextDouble() * hours * H);
      String model = r.nextInt(8) == 0 ? "m9" : models[r.nextInt(3)];
      c.addTokens(ts, model, "t" + r.nextInt(4), 1 + r.nextInt(500), r.nextInt(200));
    }
    return c;
  }

  /**
   * Thirteen months of hourly rows (9 504 hours x 5 keys, 47 520 records) generated an hour at a
   * time and written through one writer whose output is taken and emptied after every hour: each
   * record reaches the output when it is written (the writer holds none back), so an export of any
   * length holds one hour's text; all of it meets the spec, checked as it streams.
   */
  @Test
  void thirteenMonthsStreamRecordByRecordAndMeetEveryRule() {
    long from = java.time.Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    long to = java.time.Instant.parse("2027-02-01T00:00:00Z").toEpochMilli();
    StringBuilder out = new StringBuilder();
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, null);
    FocusConformance check = new FocusConformance(FACTS);
    csv.header();
    check.read(new StringReader(out.toString()), true);
    out.setLength(0);
    long written = 0;
    int largestHour = 0;
    for (long h = from; h < to; h += H) {
      for (LedgerRow row : hourOf(h)) {
        int before = out.length();
        if (csv.write(row)) {
          written++;
          assertTrue(
              out.length() > before && out.charAt(out.length() - 1) == '\n',
              "record " + written + " is in the output as soon as it was written");
        }
      }
      largestHour = Math.max(largestHour, out.length());
      check.read(new StringReader(out.toString()), false);
      out.setLength(0);
    }
    assertEquals((to - from) / H * 5, written);
    assertEquals(written, check.records());
    assertEquals(written, csv.summary().rows());
    assertEquals(List.of(), check.problems());
    assertTrue(largestHour < 16_384, "one hour's text: " + largestHour + " chars");
  }

  /** A synthetic hour: 2 tenants x 2 models on 1 GPU model, and an idle row. */
  private static List<LedgerRow> hourOf(long h) {
    List<LedgerRow> rows = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      for (int m = 0; m < 2; m++) {
        rows.add(
            new LedgerRow(
                h,
                h + H,
                LedgerRow.Kind.GPU,
                "m" + m,
                "t" + t,
                "H100",
                amounts(450 + t * 10 + m, 2.5)));
      }
    }
    rows.add(new LedgerRow(h, h + H, LedgerRow.Kind.IDLE, "m0", "", "H100", amounts(300, 2.5)));
    return rows;
  }

  private static LedgerRow.Amounts amounts(double seconds, double usdPerHour) {
    return new LedgerRow.Amounts(
        seconds,
        seconds,
        0,
        seconds / 3600 * usdPerHour,
        seconds / 3600 * usdPerHour,
        seconds / 3600 * usdPerHour,
        seconds / 3600 * usdPerHour,
        seconds * 400,
        seconds * 300,
        seconds * 10,
        seconds * 2,
        seconds / 10,
        seconds * 12,
        0,
        0,
        0);
  }

  /** The metadata names the FOCUS version and exactly the export's columns, in order. */
  @Test
  void theMetadataNamesFocus12AndEveryColumnOfTheHeader() {
    JsonObject meta = FocusCsv.metadata();
    assertEquals("1.2", meta.getString("FocusVersion"));
    StringBuilder out = new StringBuilder();
    new FocusCsv(out, FocusCsv.Identity.DEFAULT, null).header();
    List<String> header = List.of(out.toString().trim().split(","));
    JsonArray cols = meta.getJsonArray("ColumnDefinition");
    List<String> names = new ArrayList<>();
    Map<String, String> types = new HashMap<>();
    for (int i = 0; i < cols.size(); i++) {
      names.add(cols.getJsonObject(i).getString("ColumnName"));
      types.put(
          cols.getJsonObject(i).getString("ColumnName"),
          cols.getJsonObject(i).getString("DataType"));
      assertEquals(
          names.get(i).startsWith("x_"),
          cols.getJsonObject(i).getBoolean("ProviderTag", false),
          names.get(i) + " is ours exactly when x_");
    }
    assertEquals(header, names);
    FocusConformance.COLUMNS.forEach(
        (n, spec) -> {
          if (types.containsKey(n)) {
            String want =
                switch (spec.type()) {
                  case DECIMAL -> "Decimal";
                  case DATE_TIME -> "Date/Time";
                  case JSON -> "JSON";
                  default -> "String";
                };
            assertEquals(want, types.get(n), n);
          }
        });
  }

  /** FOCUS numbers: plain digits, no exponent and no '+', 10 places at most, zero as "0". */
  @Test
  void decimalsAreWrittenInFocusNumericFormat() {
    assertEquals("0.3", FocusCsv.decimal(0.1 + 0.2));
    assertEquals("100000000000000000000", FocusCsv.decimal(1e20));
    assertEquals("0.0000000001", FocusCsv.decimal(1e-10));
    assertEquals("0", FocusCsv.decimal(1e-12));
    assertEquals("0", FocusCsv.decimal(-0.0));
    assertEquals("-2.5", FocusCsv.decimal(-2.5));
    assertThrows(IllegalArgumentException.class, () -> FocusCsv.decimal(Double.NaN));
  }

  /** A value with a comma, a quote or a line break is quoted, its quotes doubled (RFC 4180). */
  @Test
  void namesWithCommasQuotesAndLineBreaksRoundTrip() {
    String model = "llama, \"70b\"\nchat";
    LedgerRow row = new LedgerRow(F, F + H, LedgerRow.Kind.GPU, model, "t", "G,1", amounts(60, 1));
    StringBuilder out = new StringBuilder();
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, null);
    csv.header();
    csv.write(row);
    assertTrue(out.toString().contains("\"llama, \"\"70b\"\"\nchat\""), out.toString());
    Map<String, String> back = parse(out.toString()).get(0);
    assertEquals(model, back.get("x_Model"));
    assertEquals("G,1", back.get("x_GpuModel"));
    assertEquals(List.of(), FocusConformance.check(out.toString(), FACTS));
  }

  /** The identity columns are the ones given (the export.focus.* settings), on every record. */
  @Test
  void theIdentityColumnsAreTheConfiguredOnes() {
    StringBuilder out = new StringBuilder();
    FocusCsv csv =
        new FocusCsv(
            out,
            new FocusCsv.Identity("Provider P", "Publisher Q", "Issuer R", "acct-1", "Account S"),
            null);
    csv.header();
    csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "t", "G", amounts(60, 1)));
    Map<String, String> rec = parse(out.toString()).get(0);
    assertEquals("Provider P", rec.get("ProviderName"));
    assertEquals("Publisher Q", rec.get("PublisherName"));
    assertEquals("Issuer R", rec.get("InvoiceIssuerName"));
    assertEquals("acct-1", rec.get("BillingAccountId"));
    assertEquals("Account S", rec.get("BillingAccountName"));
    assertEquals(List.of(), FocusConformance.check(out.toString(), FACTS));
  }

  /** Rows that are no charge of their own are not written. */
  @Test
  void tokensAndGapsRowsAreNoChargesAndOtherTenantsRowsAreLeftOutOfATenantsExport() {
    StringBuilder out = new StringBuilder();
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, "t");
    assertFalse(
        csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.TOKENS, "m", "t", "", amounts(0, 0))));
    assertFalse(
        csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GAPS, "", "", "", amounts(10, 1))));
    assertFalse(
        csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "u", "G", amounts(10, 1))));
    assertFalse(
        csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.IDLE, "m", "", "G", amounts(10, 1))));
    assertTrue(
        csv.write(new LedgerRow(F, F + H, LedgerRow.Kind.GPU, "m", "t", "G", amounts(10, 1))));
    assertEquals(new FocusCsv.Summary(1, 0, 0, 0), csv.summary());
  }
}
