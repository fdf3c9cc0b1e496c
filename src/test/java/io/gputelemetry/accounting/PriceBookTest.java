package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
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

  private static final String ENTRY =
      "\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\",\"usd_per_hour\":1";

  @Test
  void badContractFieldsAreRefusedNamingTheEntryTheFieldAndWhy() {
    String at = "book.json: gpu_hourly[0] ('GA'): ";
    assertEquals(
        at + "price_kind must be on_demand, committed or spot, not \"reserved\"",
        refused("{" + ENTRY + ",\"price_kind\":\"reserved\"}"));
    assertEquals(
        at + "nodes must be a list of 1 to 64 node name patterns (leave it out for every node)",
        refused("{" + ENTRY + ",\"nodes\":[]}"));
    assertEquals(
        at
            + "nodes: \"gpu node\" is not a node name pattern (letters, digits, . _ : - and the"
            + " wildcards * and ?, 1 to 253 characters)",
        refused("{" + ENTRY + ",\"nodes\":[\"gpu node\"]}"));
    assertEquals(
        at + "effective_to must be an RFC 3339 UTC instant after effective_from",
        refused("{" + ENTRY + ",\"effective_to\":\"2026-01-01T00:00:00Z\"}"));
    assertEquals(
        at + "a committed price needs commitment_id (the reservation or savings plan's id)",
        refused("{" + ENTRY + ",\"price_kind\":\"committed\"}"));
    assertEquals(
        at + "commitment_id belongs to a price_kind committed entry only",
        refused("{" + ENTRY + ",\"price_kind\":\"spot\",\"commitment_id\":\"ri-1\"}"));
    assertEquals(
        at + "commitment_category must be Usage or Spend (FOCUS's values), not 'usage'",
        refused(
            "{"
                + ENTRY
                + ",\"price_kind\":\"committed\",\"commitment_id\":\"ri-1\","
                + "\"commitment_category\":\"usage\"}"));
    assertEquals(
        at
            + "unknown field 'kind' (a misspelt price_kind or nodes would bill at the wrong price);"
            + " known: [basis, commitment_category, commitment_id, commitment_name, effective_from,"
            + " effective_to, gpu_model, nodes, price_kind, usd_per_hour], or a name starting with"
            + " _ for a comment",
        refused("{" + ENTRY + ",\"kind\":\"spot\"}"));
    assertEquals(
        "book.json: gpu_hourly[1] ('GA'): another entry of the same GPU model, price_kind, nodes"
            + " and commitment starts at 2026-01-01T00:00:00Z: which price applies would be"
            + " ambiguous",
        refused("{" + ENTRY + "},{" + ENTRY + ",\"_note\":\"a comment is allowed\"}"));
    assertEquals(
        "book.json: gpu_hourly[1] ('GA'): commitment 'ri-1' has another commitment_name or"
            + " commitment_category in an earlier entry",
        refused(
            "{"
                + ENTRY
                + ",\"price_kind\":\"committed\",\"commitment_id\":\"ri-1\"},"
                + "{\"gpu_model\":\"GA\",\"effective_from\":\"2026-02-01T00:00:00Z\","
                + "\"usd_per_hour\":1,\"price_kind\":\"committed\",\"commitment_id\":\"ri-1\","
                + "\"commitment_name\":\"other\"}"));
  }

  @Test
  void oneCommitmentIdHasOneNameAcrossGpuModelsAndTheBookListsItsCommitments() throws Exception {
    String ga =
        "{"
            + ENTRY
            + ",\"price_kind\":\"committed\",\"commitment_id\":\"ri-1\","
            + "\"commitment_name\":\"one\",\"commitment_category\":\"Usage\"}";
    assertEquals(
        "book.json: gpu_hourly[1] ('GB'): commitment 'ri-1' has another commitment_name or"
            + " commitment_category in an earlier entry",
        refused(ga + "," + ga.replace("\"GA\"", "\"GB\"").replace("\"one\"", "\"two\"")));
    PriceBook b =
        PriceBook.parse(
            Json.MAPPER.readTree(
                "{\"gpu_hourly\":["
                    + ga
                    + ","
                    + ga.replace("\"GA\"", "\"GB\"")
                    + ",{"
                    + ENTRY
                    + ",\"price_kind\":\"committed\",\"commitment_id\":\"sp-0\","
                    + "\"nodes\":[\"x\"]},{"
                    + ENTRY
                    + "}]}"),
            "book.json");
    assertEquals(
        Map.of(
            "ri-1", new PriceBook.Commitment("ri-1", "one", "Usage"),
            "sp-0", new PriceBook.Commitment("sp-0", null, null)),
        b.commitments());
  }

  @Test
  void segmentsCutAtEveryChangeOfThePriceThatApplies() {
    PriceBook.Commitment ri = new PriceBook.Commitment("ri-1", "r", "Usage");
    PriceBook b =
        new PriceBook(
            List.of(
                new PriceBook.Line(
                    "GA",
                    PriceBook.Kind.ON_DEMAND,
                    List.of("*"),
                    null,
                    List.of(new PriceBook.Entry(1_000, Long.MAX_VALUE, 3.6))),
                new PriceBook.Line(
                    "GA",
                    PriceBook.Kind.COMMITTED,
                    List.of("res-*"),
                    ri,
                    List.of(new PriceBook.Entry(2_000, 3_000, 1.8)))),
            Map.of());
    List<PriceBook.Segment> s = b.segments("GA", "res-1", 0, 4_000);
    assertEquals(4, s.size(), s.toString());
    assertEquals(new PriceBook.Segment(0, 1_000, null), s.get(0));
    assertEquals(
        new PriceBook.Segment(
            1_000, 2_000, new PriceBook.Applied(PriceBook.Kind.ON_DEMAND, 3.6, 3.6, null)),
        s.get(1));
    assertEquals(
        new PriceBook.Segment(
            2_000, 3_000, new PriceBook.Applied(PriceBook.Kind.COMMITTED, 1.8, 3.6, ri)),
        s.get(2));
    assertEquals(PriceBook.Kind.ON_DEMAND, s.get(3).applied().kind());
    assertEquals(new PriceBook.Integral(0, 1_000, 0, 0, 0), s.get(0).cost());
    // 1 s committed: effective 0.0005, list and contracted 0.001, billed 0.
    assertEquals(new PriceBook.Integral(0.0005, 0, 0.001, 0.001, 0), s.get(2).cost());
    assertEquals(new PriceBook.Integral(0.001, 0, 0.001, 0.001, 0.001), s.get(1).cost());
    // On a node the commitment does not name, one on-demand span after the unpriced one.
    assertEquals(
        2,
        b.segments("GA", "od-1", 0, 4_000).stream()
            .map(PriceBook.Segment::applied)
            .distinct()
            .count());
  }

  @Test
  void commitmentTextsNodeListsAndKindsOutsideTheirBoundsAreRefused() {
    String at = "book.json: gpu_hourly[0] ('GA'): ";
    String committed = "{" + ENTRY + ",\"price_kind\":\"committed\",\"commitment_id\":";
    String printable = "commitment_id must be 1 to 256 printable characters";
    assertEquals(at + printable, refused(committed + "\"\"}"));
    assertEquals(at + printable, refused(committed + "\"" + "x".repeat(257) + "\"}"));
    assertEquals(at + printable, refused(committed + "\"ri\\u0007\"}"));
    assertEquals(at + printable, refused(committed + "\"ri\\u007f\"}"));
    assertEquals(at + printable, refused(committed + "7}"));
    assertEquals(
        at + "commitment_name must be 1 to 256 printable characters",
        refused(committed + "\"ri-1\",\"commitment_name\":\"\"}"));
    assertEquals(
        at + "price_kind must be on_demand, committed or spot, not 1",
        refused("{" + ENTRY + ",\"price_kind\":1}"));
    assertEquals(
        at + "nodes must be a list of 1 to 64 node name patterns (leave it out for every node)",
        refused("{" + ENTRY + ",\"nodes\":\"res-*\"}"));
    StringBuilder many = new StringBuilder("[\"n0\"");
    for (int i = 1; i < 65; i++) {
      many.append(",\"n").append(i).append('"');
    }
    assertEquals(
        at + "nodes must be a list of 1 to 64 node name patterns (leave it out for every node)",
        refused("{" + ENTRY + ",\"nodes\":" + many + "]}"));
    assertEquals(
        at
            + "nodes: 3 is not a node name pattern (letters, digits, . _ : - and the wildcards *"
            + " and ?, 1 to 253 characters)",
        refused("{" + ENTRY + ",\"nodes\":[3]}"));
    assertEquals(
        "book.json: every gpu_hourly entry needs gpu_model and a non-negative usd_per_hour",
        refused(
            "{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\",\"usd_per_hour\":\"1\"}"));
    // 256 printable characters and 64 patterns are allowed.
    String ok =
        committed
            + "\""
            + "x".repeat(256)
            + "\",\"nodes\":"
            + many.substring(0, many.lastIndexOf(","))
            + "]}";
    assertEquals(
        "x".repeat(256),
        assertDoesNotThrow(
                () -> PriceBook.parse(Json.MAPPER.readTree("{\"gpu_hourly\":[" + ok + "]}"), "b"))
            .appliedAt("GA", "n63", 1_767_225_600_000L)
            .commitment()
            .id());
  }

  @Test
  void aCommittedLineEndsAtItsEffectiveToAndTheNextKindApplies() throws Exception {
    PriceBook b =
        PriceBook.parse(
            Json.MAPPER.readTree(
                "{\"gpu_hourly\":[{"
                    + ENTRY
                    + "},{\"gpu_model\":\"GA\",\"effective_from\":\"2026-02-01T00:00:00Z\","
                    + "\"effective_to\":\"2026-03-01T00:00:00Z\",\"usd_per_hour\":0.5,"
                    + "\"price_kind\":\"committed\",\"nodes\":[\"res-*\",\"gpu-0?\"],"
                    + "\"commitment_id\":\"ri-1\",\"commitment_category\":\"Spend\"}]}"),
            "book.json");
    long feb = java.time.Instant.parse("2026-02-01T00:00:00Z").toEpochMilli();
    long mar = java.time.Instant.parse("2026-03-01T00:00:00Z").toEpochMilli();
    PriceBook.Applied a = b.appliedAt("GA", "res-7", feb);
    assertEquals(PriceBook.Kind.COMMITTED, a.kind());
    assertEquals(0.5, a.usdPerHour());
    assertEquals(1.0, a.listUsdPerHour());
    assertEquals(new PriceBook.Commitment("ri-1", null, "Spend"), a.commitment());
    assertEquals(PriceBook.Kind.COMMITTED, b.appliedAt("GA", "gpu-07", mar - 1).kind());
    assertEquals(PriceBook.Kind.ON_DEMAND, b.appliedAt("GA", "gpu-07", mar).kind(), "term over");
    assertEquals(PriceBook.Kind.ON_DEMAND, b.appliedAt("GA", "gpu-007", feb).kind(), "? is one");
    assertEquals(PriceBook.Kind.ON_DEMAND, b.appliedAt("GA", "xres-7", feb).kind(), "anchored");
    assertEquals(1.0, b.priceAt("GA", feb), "no node: the price for every node");
    assertEquals(List.of(feb, mar), b.changesBetween("GA", feb - 1, mar + 1));
    // An hour across the end: 1 800 s committed (0.25 $, billed 0) + 1 800 s on-demand (0.5 $).
    PriceBook.Integral i = b.integrate("GA", "res-1", mar - 1_800_000, mar + 1_800_000);
    costs(i, 0.75, 1.0, 1.0, 0.5);
    assertEquals(0, i.unpricedMillis());
  }

  @Test
  void aContractWithoutAnOnDemandLineIsItsOwnListPriceAndOtherNodesAreUnpriced() throws Exception {
    PriceBook b =
        PriceBook.parse(
            Json.MAPPER.readTree(
                "{\"gpu_hourly\":[{"
                    + ENTRY
                    + ",\"price_kind\":\"spot\",\"nodes\":[\"spot-*\"]},"
                    + "{\"gpu_model\":\"GA\",\"effective_from\":\"2026-01-01T00:00:00Z\","
                    + "\"usd_per_hour\":2,\"price_kind\":\"spot\",\"nodes\":[\"*\"]}]}"),
            "book.json");
    long t = java.time.Instant.parse("2026-01-02T00:00:00Z").toEpochMilli();
    // Two spot lines match spot-1: the one listed first applies; its list price is itself.
    assertEquals(1.0, b.appliedAt("GA", "spot-1", t).usdPerHour());
    assertEquals(1.0, b.appliedAt("GA", "spot-1", t).listUsdPerHour());
    assertEquals(2.0, b.appliedAt("GA", "other", t).usdPerHour());
    assertNull(b.appliedAt("GB", "spot-1", t));
    PriceBook.Integral i = b.integrate("GA", "spot-1", t, t + 3_600_000);
    costs(i, 1.0, 1.0, 1.0, 1.0);
  }

  private static void costs(
      PriceBook.Integral i, double effective, double list, double contracted, double billed) {
    assertEquals(effective, i.costUsd(), 1e-12, "effective");
    assertEquals(list, i.listCostUsd(), 1e-12, "list");
    assertEquals(contracted, i.contractedCostUsd(), 1e-12, "contracted");
    assertEquals(billed, i.billedCostUsd(), 1e-12, "billed");
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
