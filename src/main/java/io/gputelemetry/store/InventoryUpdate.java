package io.gputelemetry.store;

import io.gputelemetry.event.Event;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one batch tells the inventory about one GPU: its newest sample (the last state, if newer
 * than the stored one) and the time of its oldest (first seen, if earlier).
 */
public record InventoryUpdate(Event newest, Instant oldest) {

  /** One update per GPU of the given samples. */
  public static List<InventoryUpdate> of(Collection<Event> samples) {
    Map<String, Event> newest = new HashMap<>();
    Map<String, Instant> oldest = new HashMap<>();
    for (Event e : samples) {
      newest.merge(e.scope(), e, (x, y) -> newer(x, y) ? x : y);
      oldest.merge(e.scope(), e.ts(), (x, y) -> x.isBefore(y) ? x : y);
    }
    List<InventoryUpdate> out = new ArrayList<>(newest.size());
    newest.forEach((gpu, e) -> out.add(new InventoryUpdate(e, oldest.get(gpu))));
    return out;
  }

  /**
   * The order the inventory keeps: by event time at the store's precision (milliseconds: BSON
   * dates), ties broken by event id, exactly as the store's conditional update compares them.
   */
  public static boolean newer(Event a, Event b) {
    int c = Long.compare(a.ts().toEpochMilli(), b.ts().toEpochMilli());
    return c > 0 || (c == 0 && a.eventId().compareTo(b.eventId()) > 0);
  }
}
