package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/** A ledger row as a document and back: the price in force is written only where a row has one. */
class LedgerDocumentsTest {
  private static final LedgerRow.Amounts A =
      new LedgerRow.Amounts(60, 60, 0, 0.03, 0.06, 0.06, 0, 6000, 3000, 10, 20, 1, 30, 0, 0, 0);

  @Test
  void aCommittedRowKeepsItsPriceKindAndCommitment() {
    LedgerRow r =
        new LedgerRow(0, 60_000, LedgerRow.Kind.GPU, "m1", "a", "GA", "committed", "ri-1", A);
    BsonDocument d = LedgerDocuments.row(r, 3);
    assertEquals(new BsonString("committed"), d.get("price_kind"));
    assertEquals(new BsonString("ri-1"), d.get("commitment_id"));
    assertEquals("0|3|" + r.key(), d.getString("_id").getValue());
    assertEquals(r, LedgerDocuments.row(d));
  }

  @Test
  void aSpotRowHasNoCommitmentFieldAndARowWithoutAPriceNeither() {
    LedgerRow spot = new LedgerRow(0, 60_000, LedgerRow.Kind.IDLE, "m1", "", "GA", "spot", "", A);
    BsonDocument d = LedgerDocuments.row(spot, 1);
    assertEquals(new BsonString("spot"), d.get("price_kind"));
    assertFalse(d.containsKey("commitment_id"));
    assertEquals(spot, LedgerDocuments.row(d));
    LedgerRow tokens = new LedgerRow(0, 60_000, LedgerRow.Kind.TOKENS, "m1", "a", "", A);
    BsonDocument t = LedgerDocuments.row(tokens, 1);
    assertFalse(t.containsKey("price_kind"));
    assertFalse(t.containsKey("commitment_id"));
    // A row written before prices had kinds reads as one without a price kind.
    assertEquals(tokens, LedgerDocuments.row(t));
  }
}
