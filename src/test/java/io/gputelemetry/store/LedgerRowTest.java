package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A ledger row's key, its roll-up form, the sum of amounts, and the grains. */
class LedgerRowTest {
  private static LedgerRow.Amounts amounts(int base) {
    return new LedgerRow.Amounts(
        base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9,
        base + 10, base + 11, base + 12, base + 13, base + 14, base + 15, base + 16);
  }

  @Test
  void amountsAddFigureByFigure() {
    // Each figure of the sum is the sum of the same figure: 1 + 101, 2 + 102, ...
    assertEquals(
        new LedgerRow.Amounts(
            102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124, 126, 128, 130, 132),
        amounts(0).plus(amounts(100)));
    assertEquals(amounts(5), amounts(5).plus(LedgerRow.Amounts.ZERO));
  }

  @Test
  void aKeyTellsApartEveryKindModelTenantAndGpuModel() {
    Set<String> keys = new HashSet<>();
    for (LedgerRow.Kind kind : LedgerRow.Kind.values()) {
      for (String model : List.of("", "m1", "m2")) {
        for (String tenant : List.of("", "a", "b")) {
          for (String gpuModel : List.of("", "GA", "GB")) {
            keys.add(new LedgerRow(0, 60_000, kind, model, tenant, gpuModel, amounts(0)).key());
          }
        }
      }
    }
    assertEquals(5 * 3 * 3 * 3, keys.size());
    // No part's text can be mistaken for another's: "a" + "" is not "" + "a".
    assertNotEquals(
        new LedgerRow(0, 1, LedgerRow.Kind.GPU, "a", "", "G", amounts(0)).key(),
        new LedgerRow(0, 1, LedgerRow.Kind.GPU, "", "a", "G", amounts(0)).key());
  }

  @Test
  void thePriceInForceIsPartOfTheKeyAndARowWithoutOneKeepsTheOldKey() {
    LedgerRow.Amounts a = amounts(0);
    LedgerRow plain = new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", a);
    assertEquals("GPU\u0000m\u0000t\u0000G", plain.key());
    assertEquals("", plain.priceKind());
    assertEquals("", plain.commitment());
    assertEquals(
        plain.key(), new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", "", "", a).key());
    Set<String> keys = new HashSet<>();
    for (List<String> price :
        List.of(
            List.of("", ""),
            List.of("on_demand", ""),
            List.of("spot", ""),
            List.of("committed", "ri-1"),
            List.of("committed", "ri-2"),
            // Parts cannot run into each other: a kind "" with a commitment is not kind "ri-1".
            List.of("", "ri-1"),
            List.of("ri-1", ""))) {
      keys.add(
          new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", price.get(0), price.get(1), a)
              .key());
    }
    assertEquals(7, keys.size());
    LedgerRow committed =
        new LedgerRow(0, 1, LedgerRow.Kind.IDLE, "m", "", "G", "committed", "ri-1", a);
    LedgerRow hour = committed.over(0, 3_600_000, amounts(3));
    assertEquals(committed.key(), hour.key());
    assertEquals("committed", hour.priceKind());
    assertEquals("ri-1", hour.commitment());
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", null, "", a));
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", "spot", null, a));
  }

  @Test
  void aRowOverAWiderIntervalKeepsItsKey() {
    LedgerRow minute =
        new LedgerRow(60_000, 120_000, LedgerRow.Kind.IDLE, "m", "", "GA", amounts(0));
    LedgerRow hour = minute.over(0, 3_600_000, amounts(7));
    assertEquals(minute.key(), hour.key());
    assertEquals(0, hour.start());
    assertEquals(3_600_000, hour.end());
    assertEquals(amounts(7), hour.amounts());
  }

  @Test
  void aRowNeedsAnIntervalAndEveryPartOfItsKey() {
    LedgerRow.Amounts a = amounts(0);
    assertThrows(
        IllegalArgumentException.class,
        () -> new LedgerRow(10, 10, LedgerRow.Kind.GPU, "m", "t", "G", a));
    assertThrows(NullPointerException.class, () -> new LedgerRow(0, 1, null, "m", "t", "G", a));
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, null, "t", "G", a));
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", null, "G", a));
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", null, a));
    assertThrows(
        NullPointerException.class,
        () -> new LedgerRow(0, 1, LedgerRow.Kind.GPU, "m", "t", "G", null));
  }

  @Test
  void grainsNameTheirCollectionsLengthsAndTheNextCoarser() {
    assertEquals("ledger_minute", LedgerGrain.MINUTE.collection());
    assertEquals("ledger_hour", LedgerGrain.HOUR.collection());
    assertEquals("ledger_day", LedgerGrain.DAY.collection());
    assertEquals(0, LedgerGrain.MINUTE.millis());
    assertEquals(3_600_000L, LedgerGrain.HOUR.millis());
    assertEquals(86_400_000L, LedgerGrain.DAY.millis());
    assertEquals(LedgerGrain.HOUR, LedgerGrain.MINUTE.coarser());
    assertEquals(LedgerGrain.DAY, LedgerGrain.HOUR.coarser());
    assertNull(LedgerGrain.DAY.coarser());
  }
}
