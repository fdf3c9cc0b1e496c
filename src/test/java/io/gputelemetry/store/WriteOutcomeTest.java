package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WriteOutcomeTest {
  @Test
  void everyDocumentOfAnAllInsertedWriteIsNew() {
    WriteOutcome o = WriteOutcome.allInserted(3);
    assertEquals(3, o.inserted());
    assertTrue(o.newlyStored(0));
    assertTrue(o.newlyStored(2));
    assertEquals(0, WriteOutcome.allInserted(0).inserted());
  }

  @Test
  void duplicatesAndRefusedDocumentsAreNotNewlyStored() {
    // 5 documents: index 1 was already there, index 3 refused -> 3 inserted.
    WriteOutcome o = new WriteOutcome(5, Set.of(1), Map.of(3, "refused"));
    assertEquals(3, o.inserted());
    assertTrue(o.newlyStored(0));
    assertFalse(o.newlyStored(1), "a duplicate was stored by an earlier write");
    assertTrue(o.newlyStored(2));
    assertFalse(o.newlyStored(3), "refused");
    assertTrue(o.newlyStored(4));
  }
}
