package io.gputelemetry.store;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventType;
import io.gputelemetry.json.Json;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Events as MongoDB documents: _id scoped by source, timestamps as BSON dates. */
public final class Documents {
  private Documents() {}

  @SuppressWarnings("unchecked")
  public static JsonObject toDocument(Event e, Instant receivedAt) {
    Map<String, Object> fields = Json.MAPPER.convertValue(e.body(), LinkedHashMap.class);
    JsonObject doc = new JsonObject(fields);
    doc.put("_id", e.storeId());
    doc.put("ts", date(e.ts()));
    doc.put("received_at", date(receivedAt));
    if (e.type() == EventType.TOKEN_USAGE) {
      doc.put(
          "total_tokens",
          e.body().path("input_tokens").asLong() + e.body().path("output_tokens").asLong());
    }
    return doc;
  }

  /** The extended-JSON form the Vert.x client turns into a BSON date. */
  public static JsonObject date(Instant t) {
    return new JsonObject().put("$date", t.toString());
  }
}
