package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The store's schema: which collections are the ledger's, and verify's summary of it. */
class SchemaTest {
  @Test
  void theLedgersCollectionsAreThoseNamedLedger() {
    for (String c : Schema.COLLECTIONS.keySet()) {
      assertEquals(c.startsWith("ledger_"), Schema.ledger(c), c);
    }
    assertTrue(Schema.ledger("ledger_minute"));
    assertFalse(Schema.ledger("gpu_metrics"));
  }

  @Test
  void theSummaryCountsCollectionsAndIndexes() {
    int indexes = Schema.COLLECTIONS.values().stream().mapToInt(List::size).sum();
    assertEquals(
        Schema.COLLECTIONS.size() + " collections, " + indexes + " indexes", Schema.summary());
  }
}
