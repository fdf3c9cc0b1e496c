package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventType;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class InventoryOrderTest {
  private static Event sample(String ts, String id) {
    return new Event(
        EventType.GPU_SAMPLE,
        JsonNodeFactory.instance.objectNode(),
        id,
        "GPU-1",
        Instant.parse(ts));
  }

  @Test
  void newerComparesInstantsNotTheirText() {
    // As text, "…:51Z" sorts after "…:51.500Z"; as instants it is older.
    assertTrue(
        InventoryUpdate.newer(
            sample("2026-11-28T20:44:51.500Z", "a"), sample("2026-11-28T20:44:51Z", "b")));
    assertFalse(
        InventoryUpdate.newer(
            sample("2026-11-28T20:44:51Z", "b"), sample("2026-11-28T20:44:51.500Z", "a")));
  }

  @Test
  void withinOneMillisecondTheEventIdDecidesAsInTheStore() {
    assertTrue(
        InventoryUpdate.newer(
            sample("2026-11-28T20:44:51.100Z", "b"), sample("2026-11-28T20:44:51.100500Z", "a")));
    assertFalse(
        InventoryUpdate.newer(
            sample("2026-11-28T20:44:51.100500Z", "a"), sample("2026-11-28T20:44:51.100Z", "b")),
        "the later microsecond loses to the larger id: the store keeps milliseconds only");
    Event same = sample("2026-11-28T20:44:51.100Z", "a");
    assertFalse(InventoryUpdate.newer(same, same), "an event is not newer than itself");
    assertFalse(
        InventoryUpdate.newer(same, sample("2026-11-28T20:44:51.101Z", "a")),
        "one millisecond later with the same id is newer");
    assertTrue(InventoryUpdate.newer(sample("2026-11-28T20:44:51.101Z", "a"), same));
  }
}
