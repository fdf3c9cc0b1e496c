package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Prices in force by instant: given in any order, a price applies from its instant (inclusive) to
 * the next one's (exclusive); before the first there is none.
 */
class PriceBookTest {
  // GA: 3.60 $/h from 1 000 ms, 7.20 $/h from 2 000 ms, 36 $/h from 3 000 ms, given out of order.
  // Built in each test, not in a static initialiser: PIT attributes what a test runs to it.
  private final PriceBook book =
      new PriceBook(
          Map.of(
              "GA",
              List.of(
                  new PriceBook.Price(2_000, 7.2),
                  new PriceBook.Price(3_000, 36),
                  new PriceBook.Price(1_000, 3.6))),
          Map.of("m1", new PriceBook.ListPrice(0.5, 1.5)));

  @Test
  void unsortedPricesApplyFromTheirOwnInstants() {
    assertNull(book.priceAt("GA", 999), "before the first price");
    assertEquals(3.6, book.priceAt("GA", 1_000), "from its instant on");
    assertEquals(3.6, book.priceAt("GA", 1_999));
    assertEquals(7.2, book.priceAt("GA", 2_000));
    assertEquals(36, book.priceAt("GA", 3_000));
    assertEquals(36, book.priceAt("GA", Long.MAX_VALUE));
    assertNull(book.priceAt("GB", 5_000), "a GPU model the book does not price");
    assertEquals(Set.of("GA"), book.gpuModels());
  }

  @Test
  void changesAreThoseStrictlyInsideTheSpan() {
    assertEquals(List.of(2_000L), book.changesBetween("GA", 1_000, 3_000));
    assertEquals(List.of(1_000L, 2_000L, 3_000L), book.changesBetween("GA", 999, 3_001));
    assertEquals(List.of(), book.changesBetween("GA", 1_000, 2_000));
    assertEquals(List.of(), book.changesBetween("GB", 0, 10_000));
  }

  @Test
  void theIntegralSplitsAtChangesAndCountsUnpricedTime() {
    // [500, 2 500): 500 ms unpriced, 1 000 ms at 3.60 $/h (0.001 $), 500 ms at 7.20 $/h (0.001 $).
    PriceBook.Integral i = book.integrate("GA", 500, 2_500);
    assertEquals(0.002, i.costUsd(), 1e-15);
    assertEquals(500, i.unpricedMillis());
    // [2 000, 3 000) exactly one price: 1 000 ms at 7.20 $/h = 0.002 $.
    assertEquals(0.002, book.integrate("GA", 2_000, 3_000).costUsd(), 1e-15);
    assertEquals(0, book.integrate("GA", 2_000, 3_000).unpricedMillis());
    assertEquals(10_000, book.integrate("GB", 0, 10_000).unpricedMillis());
    assertEquals(new PriceBook.ListPrice(0.5, 1.5), book.listPrice("m1"));
  }

  @Test
  void entriesWithoutAnInstantAModelOrANonNegativePriceAreRefused() throws Exception {
    PriceBook free =
        PriceBook.parse(
            Json.MAPPER.readTree(
                "{\"gpu_hourly\":[{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\","
                    + "\"usd_per_hour\":0}]}"),
            "book.json");
    assertEquals(0.0, free.priceAt("GA", 1_767_225_600_000L), "a price of 0 is a price");
    assertEquals(
        "book.json: gpu_hourly entry for 'GA' needs effective_from as an RFC 3339 UTC instant",
        refused("{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01\",\"usd_per_hour\":1}"));
    String needs =
        "book.json: every gpu_hourly entry needs gpu_model and a non-negative usd_per_hour";
    assertEquals(
        needs,
        refused(
            "{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\",\"usd_per_hour\":-0.01}"));
    assertEquals(
        needs, refused("{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\"}"));
    assertEquals(
        needs, refused("{\"effective_from\":\"2026-01-01T00:00:00Z\",\"usd_per_hour\":1}"));
  }

  private static String refused(String entry) {
    return assertThrows(
            ConfigException.class,
            () ->
                PriceBook.parse(
                    Json.MAPPER.readTree("{\"gpu_hourly\":[" + entry + "]}"), "book.json"))
        .getMessage();
  }
}
