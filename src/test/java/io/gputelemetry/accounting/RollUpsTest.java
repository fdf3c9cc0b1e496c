package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.UsageRows;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Roll-ups say what their rows said: per period and key, the sum of the rows. */
class RollUpsTest {
  private static final long H = 3_600_000L;
  private static final long F = 1_800_000_000_000L; // on the hour
  private static final PriceBook PRICES =
      new PriceBook(
          Map.of(
              "GA",
              List.of(new PriceBook.Price(F - H, 3.6), new PriceBook.Price(F + H / 2, 7.2)),
              "GB",
              List.of(new PriceBook.Price(F - H, 36))),
          Map.of());

  private static LedgerRow row(long start, long end, String tenant, double seconds) {
    return new LedgerRow(
        start,
        end,
        LedgerRow.Kind.GPU,
        "m",
        tenant,
        "GA",
        new LedgerRow.Amounts(
            seconds,
            seconds,
            0,
            seconds / 1000,
            seconds / 1000,
            seconds / 1000,
            seconds / 1000,
            0,
            0,
            1,
            2,
            1,
            3,
            0,
            0,
            0));
  }

  @Test
  void minuteRowsOfAKeyAddUpToOneRowPerHourInOrderOfHourThenKey() {
    List<LedgerRow> minutes =
        List.of(
            row(F + H, F + H + 60_000, "b", 10),
            row(F, F + 60_000, "b", 20),
            row(F + 60_000, F + 120_000, "b", 30),
            row(F, F + 60_000, "a", 40));
    List<LedgerRow> hours = RollUps.sum(minutes, H);
    assertEquals(3, hours.size());
    assertEquals(List.of("a", "b", "b"), hours.stream().map(LedgerRow::tenant).toList());
    assertEquals(List.of(F, F, F + H), hours.stream().map(LedgerRow::start).toList());
    assertEquals(F + H, hours.get(1).end());
    assertEquals(50, hours.get(1).amounts().gpuSeconds(), 1e-12, "20 + 30");
    assertEquals(2, hours.get(1).amounts().requests(), 1e-12);
    assertEquals(0.05, hours.get(1).amounts().costUsd(), 1e-12);
  }

  @Test
  void aRowAcrossAPeriodsEndIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> RollUps.sum(List.of(row(F + H - 60_000, F + H + 60_000, "a", 1)), H));
  }

  /**
   * Random fleets over a few hours: the report of the hourly roll-up equals the report of the
   * calculator's own rows, hour by hour, for every grouping.
   */
  @Test
  void aReportOfTheHourlyRollUpIsTheReportOfTheRows() {
    Random r = new Random(3);
    for (int i = 0; i < 5; i++) {
      int hours = 1 + r.nextInt(3);
      UsageCalculator c = new UsageCalculator(F, F + hours * H, H, 60_000, 3_000, PRICES, null);
      for (int g = 0; g < 3; g++) {
        String gm = g == 2 ? "GB" : "GA";
        for (long t = F - 2_000; t <= F + hours * H; t += 2_000) {
          c.addSample(new UsageRows.Sample("g" + g, t, gm, "m" + (g % 2), null, 100));
        }
      }
      for (int k = 0; k < 30 * hours; k++) {
        long ts = F + (long) (r.nextDouble() * hours * H);
        c.addTokens(ts, "m" + r.nextInt(3), "t" + r.nextInt(3), 1 + r.nextInt(100), r.nextInt(50));
      }
      List<LedgerRow> rolled = RollUps.sum(c.rows(), H);
      UsageCalculator.Range range = new UsageCalculator.Range(F, F + hours * H, H, hours);
      for (GroupBy g : GroupBy.values()) {
        UsageCalculator.Report raw = c.report(g);
        UsageCalculator.Report summed =
            UsageCalculator.report(range, rolled, g, Integer.MAX_VALUE, null);
        assertEquals(raw.groups().keySet(), summed.groups().keySet(), g.toString());
        assertEquals(raw.fleet().costUsd(), summed.fleet().costUsd(), 1e-9, g + " cost");
        assertEquals(raw.fleet().tokens(), summed.fleet().tokens(), 1e-6, g + " tokens");
        assertEquals(raw.fleet().gpuSeconds(), summed.fleet().gpuSeconds(), 1e-6, g + " time");
        for (String k : raw.groups().keySet()) {
          for (int step = 0; step < hours; step++) {
            assertEquals(
                raw.groups().get(k).series().get(step).costUsd(),
                summed.groups().get(k).series().get(step).costUsd(),
                1e-9,
                g + " " + k + " hour " + step);
          }
        }
      }
    }
  }
}
