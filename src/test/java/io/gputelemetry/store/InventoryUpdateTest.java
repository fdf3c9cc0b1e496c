package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventType;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class InventoryUpdateTest {
  private static Event sample(String gpu, String ts, String id) {
    return new Event(
        EventType.GPU_SAMPLE, JsonNodeFactory.instance.objectNode(), id, gpu, Instant.parse(ts));
  }

  @Test
  void oneUpdatePerGpuWithItsNewestSampleAndOldestTime() {
    Event a1 = sample("GPU-A", "2026-11-28T12:00:02Z", "a1");
    Event a2 = sample("GPU-A", "2026-11-28T12:00:05Z", "a2");
    Event a3 = sample("GPU-A", "2026-11-28T12:00:01Z", "a3");
    Event b1 = sample("GPU-B", "2026-11-28T12:00:03Z", "b1");
    Event b2 = sample("GPU-B", "2026-11-28T12:00:03Z", "b2"); // same ms: the larger id is newer
    List<InventoryUpdate> u =
        InventoryUpdate.of(List.of(a1, b2, a2, a3, b1)).stream()
            .sorted(Comparator.comparing(x -> x.newest().scope()))
            .toList();
    assertEquals(2, u.size());
    assertEquals("a2", u.get(0).newest().eventId());
    assertEquals(Instant.parse("2026-11-28T12:00:01Z"), u.get(0).oldest());
    assertEquals("b2", u.get(1).newest().eventId());
    assertEquals(Instant.parse("2026-11-28T12:00:03Z"), u.get(1).oldest());
    assertEquals(List.of(), InventoryUpdate.of(List.of()));
  }
}
