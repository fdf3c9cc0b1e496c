package io.gputelemetry.event;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * A validated event in canonical form. {@code body} holds the canonical fields (with event_id set);
 * {@link #storeId()} is the MongoDB key: the id scoped by its source.
 */
public record Event(EventType type, ObjectNode body, String eventId, String scope, Instant ts) {

  /** The MongoDB _id: scope + "/" + event id. Scopes cannot contain '/', so keys never collide across scopes. */
  public String storeId() {
    return scope + "/" + eventId;
  }

  /** The Kafka record key: GPU for samples, model for token events. */
  public String kafkaKey() {
    return body.path(type.keyField()).asText();
  }
}
