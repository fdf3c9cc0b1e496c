package io.gputelemetry.event;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.Map;

/** The JSON Schemas of the event types, shipped in the jar under schemas/, read once. */
public final class Schemas {
  private static final Map<EventType, JsonNode> TREES = new EnumMap<>(EventType.class);

  static {
    for (EventType t : EventType.values()) {
      String resource = "schemas/" + t.schemaName() + ".schema.json";
      try (InputStream in = Schemas.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(resource + " missing from the classpath");
        }
        TREES.put(t, Json.MAPPER.readTree(in));
      } catch (IOException e) {
        throw new IllegalStateException("cannot read " + resource, e);
      }
    }
  }

  private Schemas() {}

  /** The schema of an event type (do not modify it). */
  public static JsonNode of(EventType type) {
    return TREES.get(type);
  }
}
