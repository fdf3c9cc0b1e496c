package io.gputelemetry.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.RollUps;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.UsageRows;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/**
 * The bill FinOps can load: thirteen months (2026-01-01 to 2027-02-01, 9 504 hours) of a generated
 * fleet on on-demand, committed (a Usage reservation and a Spend savings plan, each with its own
 * term) and spot nodes, with MIG-sliced GPUs, a GPU model without a price and tokens of a model no
 * GPU serves, computed by the calculator a month at a time, rolled up per hour and exported. The
 * export meets every rule of {@link FocusConformance}; per price kind (on-demand, spot, each
 * commitment) its costs are the usage report's over that kind's ledger rows and the hand-computed
 * GPU-hours x price of each contract; what it left out is the report's unpriced GPU time and
 * unmetered tokens.
 *
 * <pre>
 * H100-SXM-80GB on-demand, every node: 4.00 $/h from 2026-01-01, 3.50 $/h from 2026-07-01
 * H100-SXM-80GB on res-*: committed ri-h100 (Usage) 2.20 $/h, [2026-03-01, 2027-01-01)
 * L4-24GB on-demand, every node: 0.80 $/h
 * L4-24GB on spot-*: spot, 0.30 $/h in 2026-01 and 0.01 $/h more each month
 * L4-24GB on sp-*: committed sp-l4 (Spend) 0.60 $/h from 2026-06-01
 * GX (no price) on od-2
 *
 * od-1:   g-od-0 H100 serves m1; g-od-1 H100 MIG: gi1 2g.20gb serves m2, the rest (5/7) idle
 * res-1:  g-res-0 H100 MIG: gi1 3g.40gb serves m1, gi2 4g.40gb serves m2; g-res-1 H100 serves m2
 * spot-1: g-spot-0 L4 serves m3;  sp-1: g-sp-0 L4 serves m3;  od-2: g-x-0 GX serves m4
 * </pre>
 *
 * Samples every 5 minutes (max gap 6 minutes) from 5 minutes before the range: all 9 504 hours of
 * every GPU are covered. Tokens: each hour, tenants t0 and t1 each send tokens to each model with
 * probability 2/3; t0 sends tokens of m9 (served by no GPU) once a day.
 */
class FocusContractsExportTest {
  private static final long H = 3_600_000L;
  private static final long STEP = 300_000L;
  private static final String H100 = "H100-SXM-80GB";
  private static final String L4 = "L4-24GB";
  private static final long FROM = at("2026-01-01");
  private static final long TO = at("2027-02-01");

  private static long at(String day) {
    return Instant.parse(day + "T00:00:00Z").toEpochMilli();
  }

  private static double hours(String from, String to) {
    return (at(to) - at(from)) / (double) H;
  }

  private static PriceBook.Entry entry(String from, String to, double usd) {
    return new PriceBook.Entry(at(from), to == null ? Long.MAX_VALUE : at(to), usd);
  }

  static final PriceBook.Commitment RESERVATION =
      new PriceBook.Commitment("ri-h100", "H100 reservation, 10 months", "Usage");
  static final PriceBook.Commitment SAVINGS_PLAN =
      new PriceBook.Commitment("sp-l4", "L4 savings plan", "Spend");

  static PriceBook book() {
    List<PriceBook.Entry> spot = new ArrayList<>();
    for (int m = 0; m < 13; m++) {
      long start = Instant.ofEpochMilli(FROM).atZone(ZoneOffset.UTC).plusMonths(m).toEpochSecond();
      spot.add(new PriceBook.Entry(start * 1000, Long.MAX_VALUE, 0.30 + 0.01 * m));
    }
    return new PriceBook(
        List.of(
            new PriceBook.Line(
                H100,
                PriceBook.Kind.ON_DEMAND,
                List.of("*"),
                null,
                List.of(entry("2026-01-01", null, 4.0), entry("2026-07-01", null, 3.5))),
            new PriceBook.Line(
                H100,
                PriceBook.Kind.COMMITTED,
                List.of("res-*"),
                RESERVATION,
                List.of(entry("2026-03-01", "2027-01-01", 2.2))),
            new PriceBook.Line(
                L4,
                PriceBook.Kind.ON_DEMAND,
                List.of("*"),
                null,
                List.of(entry("2026-01-01", null, 0.8))),
            new PriceBook.Line(L4, PriceBook.Kind.SPOT, List.of("spot-*"), null, spot),
            new PriceBook.Line(
                L4,
                PriceBook.Kind.COMMITTED,
                List.of("sp-*"),
                SAVINGS_PLAN,
                List.of(entry("2026-06-01", null, 0.6)))),
        Map.of());
  }

  /** A whole GPU or a MIG instance of the fleet. */
  private record Gpu(
      String uuid, String node, String gpuModel, String model, String parent, String profile) {
    UsageRows.Sample at(long ts) {
      return new UsageRows.Sample(
          uuid, ts, gpuModel, model, null, 100, null, parent != null, node, parent, profile);
    }
  }

  private static final List<Gpu> FLEET =
      List.of(
          new Gpu("g-od-0", "od-1", H100, "m1", null, null),
          new Gpu("g-od-1", "od-1", H100, null, null, null),
          new Gpu("g-od-1:gi1", "od-1", H100, "m2", "g-od-1", "2g.20gb"),
          new Gpu("g-res-0", "res-1", H100, null, null, null),
          new Gpu("g-res-0:gi1", "res-1", H100, "m1", "g-res-0", "3g.40gb"),
          new Gpu("g-res-0:gi2", "res-1", H100, "m2", "g-res-0", "4g.40gb"),
          new Gpu("g-res-1", "res-1", H100, "m2", null, null),
          new Gpu("g-spot-0", "spot-1", L4, "m3", null, null),
          new Gpu("g-sp-0", "sp-1", L4, "m3", null, null),
          new Gpu("g-x-0", "od-2", "GX", "m4", null, null));

  /** Sums of an export's columns per price (PricingCategory and commitment). */
  private static final class Sums {
    final Map<String, double[]> byPrice = new TreeMap<>();
    static final List<String> COLUMNS =
        List.of(
            "EffectiveCost",
            "BilledCost",
            "ListCost",
            "ContractedCost",
            "PricingQuantity",
            "CommitmentDiscountQuantity",
            "x_GpuSeconds");

    void add(Map<String, String> r) {
      String key = r.get("PricingCategory") + " " + r.get("CommitmentDiscountId");
      double[] s = byPrice.computeIfAbsent(key, k -> new double[COLUMNS.size()]);
      for (int i = 0; i < COLUMNS.size(); i++) {
        String v = r.get(COLUMNS.get(i));
        s[i] += v.isEmpty() ? 0 : Double.parseDouble(v);
      }
    }

    double get(String price, String column) {
      return byPrice.getOrDefault(price, new double[COLUMNS.size()])[COLUMNS.indexOf(column)];
    }
  }

  @Test
  void thirteenMonthsOfListCommittedSpotAndMigTimeMeetEveryRuleAndAddUp() throws IOException {
    PriceBook book = book();
    GpuProfiles profiles = GpuProfiles.load();
    StringBuilder out = new StringBuilder();
    FocusCsv csv = new FocusCsv(out, FocusCsv.Identity.DEFAULT, book.commitments(), null);
    FocusConformance check = new FocusConformance(FocusExportTest.FACTS);
    csv.header();
    List<String> header = List.of(out.toString().trim().split(","));
    check.read(new StringReader(out.toString()), true);
    out.setLength(0);
    Sums sums = new Sums();
    // The report over each price's ledger rows, and over all of them.
    Map<String, double[]> reported = new TreeMap<>();
    double[] fleet = new double[4];
    double migGpuSeconds = 0;
    double parentIdleSeconds = 0;
    StringBuilder example = new StringBuilder();
    long exampleHour = Instant.parse("2026-07-15T12:00:00Z").toEpochMilli();
    Random r = new Random(13);
    long month = FROM;
    while (month < TO) {
      long next =
          Instant.ofEpochMilli(month).atZone(ZoneOffset.UTC).plusMonths(1).toEpochSecond() * 1000;
      UsageCalculator c = new UsageCalculator(month, next, 0, H, 360_000, book, profiles);
      for (long t = month - STEP; t <= next + STEP; t += STEP) {
        for (Gpu g : FLEET) {
          c.addSample(g.at(t));
        }
      }
      for (long h = month; h < next; h += H) {
        for (String model : List.of("m1", "m2", "m3", "m4")) {
          for (String tenant : List.of("t0", "t1")) {
            if (r.nextInt(3) != 0) {
              c.addTokens(
                  h + r.nextInt(3_600) * 1000L, model, tenant, 1 + r.nextInt(500), r.nextInt(200));
            }
          }
        }
        if ((h - FROM) % (24 * H) == 0) {
          c.addTokens(h + 1_000, "m9", "t0", 40, 2);
        }
      }
      List<LedgerRow> minutes = c.rows();
      UsageCalculator.Range range = new UsageCalculator.Range(month, next, next - month, 1);
      Map<String, List<LedgerRow>> byPrice = new TreeMap<>();
      for (LedgerRow row : minutes) {
        if (row.kind() == LedgerRow.Kind.GPU || row.kind() == LedgerRow.Kind.IDLE) {
          byPrice
              .computeIfAbsent(row.priceKind() + " " + row.commitment(), k -> new ArrayList<>())
              .add(row);
        }
      }
      byPrice.forEach(
          (price, rows) -> {
            UsageCalculator.Totals t =
                UsageCalculator.report(
                        range, rows, UsageCalculator.GroupBy.GPU_MODEL, Integer.MAX_VALUE, null)
                    .fleet();
            double[] s = reported.computeIfAbsent(price, k -> new double[5]);
            s[0] += t.costUsd();
            s[1] += t.billedCostUsd();
            s[2] += t.listCostUsd();
            s[3] += t.contractedCostUsd();
            s[4] += t.gpuSeconds();
          });
      UsageCalculator.Totals all = c.report(UsageCalculator.GroupBy.MODEL).fleet();
      fleet[0] += all.costUsd();
      fleet[1] += all.gpuSeconds();
      fleet[2] += all.tokens();
      fleet[3] += all.unpricedGpuSeconds();
      for (LedgerRow row : RollUps.sum(minutes, H)) {
        csv.write(row);
      }
      check.read(new StringReader(out.toString()), false);
      for (Map<String, String> rec : records(header, out.toString())) {
        sums.add(rec);
        if (rec.get("x_Model").equals("m1") && !rec.get("CommitmentDiscountId").isEmpty()) {
          migGpuSeconds += Double.parseDouble(rec.get("x_GpuSeconds"));
        }
        if (rec.get("x_Model").isEmpty() && rec.get("PricingCategory").equals("Standard")) {
          parentIdleSeconds += Double.parseDouble(rec.get("x_GpuSeconds"));
        }
        if (rec.get("ChargePeriodStart").equals(Instant.ofEpochMilli(exampleHour).toString())
            && rec.get("x_Tenant").equals("t0")) {
          example.append(line(header, rec));
        }
      }
      out.setLength(0);
      month = next;
    }
    assertEquals(List.of(), check.problems());
    FocusCsv.Summary summary = csv.summary();
    assertEquals(summary.rows(), check.records());
    // About ten records an hour: per model, tenant and price, and the idle ones.
    assertTrue(summary.rows() > 9 * 9_504, summary.rows() + " records");

    // Per price, the export is the usage report over that price's ledger rows.
    assertEquals(
        List.of(" ", "committed ri-h100", "committed sp-l4", "on_demand ", "spot "),
        List.copyOf(reported.keySet()));
    Map<String, String> category =
        Map.of(
            "on_demand ", "Standard ",
            "spot ", "Dynamic ",
            "committed ri-h100", "Committed ri-h100",
            "committed sp-l4", "Committed sp-l4");
    category.forEach(
        (price, exported) -> {
          double[] rep = reported.get(price);
          near(rep[0], sums.get(exported, "EffectiveCost"), price + " effective");
          near(rep[1], sums.get(exported, "BilledCost"), price + " billed");
          near(rep[2], sums.get(exported, "ListCost"), price + " list");
          near(rep[3], sums.get(exported, "ContractedCost"), price + " contracted");
          near(rep[4], sums.get(exported, "x_GpuSeconds"), price + " GPU time");
        });
    // The GX GPU's time (no price) is left out, and is all the report's unpriced time.
    near(reported.get(" ")[4], summary.omittedGpuSeconds(), "unpriced GPU time left out");
    near(hours("2026-01-01", "2027-02-01") * 3600, summary.omittedGpuSeconds(), "GX all along");
    near(fleet[3], summary.omittedGpuSeconds(), "the report's unpriced GPU time");
    near(fleet[0], sum(sums, "EffectiveCost"), "the fleet's cost, all of it exported");
    near(fleet[1], sum(sums, "x_GpuSeconds") + summary.omittedGpuSeconds(), "GPU time");
    // m9's 42 tokens a day are unmetered: left out, with the unpriced GPU's tokens.
    assertTrue(summary.omittedTokens() > 396 * 42, "unmetered and unpriced tokens left out");

    // By hand: GPU-hours x price of each contract.
    double jan = hours("2026-01-01", "2026-03-01");
    double marJun = hours("2026-03-01", "2026-07-01");
    double julDec = hours("2026-07-01", "2027-01-01");
    double jan27 = hours("2027-01-01", "2027-02-01");
    // ri-h100: the two GPUs of res-1 over its term, 7 344 hours.
    near(2 * (marJun + julDec), sums.get("Committed ri-h100", "PricingQuantity"), "ri GPU-hours");
    near(2 * (marJun + julDec), sums.get("Committed ri-h100", "CommitmentDiscountQuantity"), "qty");
    near(2 * (marJun + julDec) * 2.2, sums.get("Committed ri-h100", "EffectiveCost"), "ri cost");
    near(2 * (marJun * 4.0 + julDec * 3.5), sums.get("Committed ri-h100", "ListCost"), "ri list");
    near(0, sums.get("Committed ri-h100", "BilledCost"), "billed on the purchase, not here");
    // sp-l4: g-sp-0 from 2026-06-01, 5 880 hours; a Spend commitment counts the amount drawn.
    double spHours = hours("2026-06-01", "2027-02-01");
    near(spHours * 0.6, sums.get("Committed sp-l4", "EffectiveCost"), "sp cost");
    near(spHours * 0.6, sums.get("Committed sp-l4", "CommitmentDiscountQuantity"), "sp qty");
    near(spHours * 0.8, sums.get("Committed sp-l4", "ListCost"), "sp list");
    // Spot: g-spot-0 every month at that month's price.
    double spot = 0;
    for (int m = 0; m < 13; m++) {
      var start = Instant.ofEpochMilli(FROM).atZone(ZoneOffset.UTC).plusMonths(m);
      spot +=
          (start.plusMonths(1).toEpochSecond() - start.toEpochSecond()) / 3600.0 * (0.3 + 0.01 * m);
    }
    near(spot, sums.get("Dynamic ", "EffectiveCost"), "spot");
    near(spot, sums.get("Dynamic ", "BilledCost"), "spot billed");
    near(hours("2026-01-01", "2027-02-01") * 0.8, sums.get("Dynamic ", "ListCost"), "spot list");
    // On-demand: od-1's two GPUs all along, res-1's two outside the term, sp-1 before its plan.
    double janJun = jan + marJun;
    double od = 2 * (janJun * 4.0 + (julDec + jan27) * 3.5);
    od += 2 * (jan * 4.0 + jan27 * 3.5);
    od += hours("2026-01-01", "2026-06-01") * 0.8;
    near(od, sums.get("Standard ", "EffectiveCost"), "on-demand");
    near(od, sums.get("Standard ", "BilledCost"), "on-demand billed");
    // MIG: m1's committed time is g-res-0's 3g.40gb slice, 3/7 of the GPU over the term; the
    // 5/7 of g-od-1 no instance holds is idle time of no model, on-demand.
    near((marJun + julDec) * 3600 * 3 / 7, migGpuSeconds, "m1 on the reservation: 3/7 of g-res-0");
    near(hours("2026-01-01", "2027-02-01") * 3600 * 5 / 7, parentIdleSeconds, "g-od-1's rest");

    Path sample = Path.of("target", "focus-contracts-example.csv");
    Files.createDirectories(sample.getParent());
    Files.writeString(sample, String.join(",", header) + "\r\n" + example);
  }

  private static void near(double expected, double actual, String what) {
    assertEquals(expected, actual, 1e-6 * Math.max(1, Math.abs(expected)), what);
  }

  private static double sum(Sums s, String column) {
    return s.byPrice.keySet().stream().mapToDouble(k -> s.get(k, column)).sum();
  }

  private static List<Map<String, String>> records(List<String> header, String csv) {
    List<Map<String, String>> out = new ArrayList<>();
    try (CSVParser p = CSVFormat.RFC4180.builder().get().parse(new StringReader(csv))) {
      for (CSVRecord rec : p) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < header.size(); i++) {
          m.put(header.get(i), rec.get(i));
        }
        out.add(m);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static String line(List<String> header, Map<String, String> rec) {
    StringBuilder sb = new StringBuilder();
    try (var p = new org.apache.commons.csv.CSVPrinter(sb, CSVFormat.RFC4180)) {
      List<String> values = new ArrayList<>();
      header.forEach(h -> values.add(rec.get(h)));
      p.printRecord(values);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sb.toString();
  }
}
