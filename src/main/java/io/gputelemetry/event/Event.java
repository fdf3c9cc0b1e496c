package io.gputelemetry.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;

/**
 * A validated event in canonical form. Its values are held by field ({@link EventFields}): strings,
 * and numbers as the JSON had them (Integer or Long for integers, Double otherwise); {@link
 * #body()} is the canonical JSON object (with event_id set and ts in UTC), built on first use when
 * the event came through the streaming fast path. {@link #storeId()} is the MongoDB key: the id
 * scoped by its source.
 */
public final class Event {
  private final EventType type;
  private final Object[] values;
  private final String eventId;
  private final String scope;
  private final Instant ts;
  private ObjectNode body;
  private byte[] json;

  /** An event from its canonical JSON body (the body must hold event_id and the scope field). */
  public Event(EventType type, ObjectNode body, String eventId, String scope, Instant ts) {
    this.type = type;
    this.body = body;
    this.eventId = eventId;
    this.scope = scope;
    this.ts = ts;
    EventFields.Fields fields = EventFields.of(type);
    this.values = new Object[fields.size()];
    for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      EventFields.Field field = fields.get(f.getKey());
      if (field != null) {
        values[field.index()] = value(field, f.getValue());
      }
    }
  }

  /**
   * An event from values by field index (as read by the fast path); the body is built on demand.
   */
  Event(EventType type, Object[] values, Instant ts) {
    this.type = type;
    this.values = values;
    this.ts = ts;
    this.eventId = (String) values[EventFields.of(type).require(EventFields.EVENT_ID).index()];
    this.scope = (String) values[EventFields.of(type).get(type.scopeField()).index()];
  }

  private static Object value(EventFields.Field field, JsonNode n) {
    if (field.kind() == EventFields.Kind.TS) {
      return null;
    }
    if (n.isTextual()) {
      return n.textValue();
    }
    if (n.isInt()) {
      return n.intValue();
    }
    if (n.isIntegralNumber()) {
      return n.longValue();
    }
    if (n.isNumber()) {
      return n.doubleValue();
    }
    return n.isNull() ? null : n.toString();
  }

  public EventType type() {
    return type;
  }

  public String eventId() {
    return eventId;
  }

  /** The id's scope: the GPU for samples, the tenant for token events. */
  public String scope() {
    return scope;
  }

  public Instant ts() {
    return ts;
  }

  /** The value of a field of this event's type (null when absent; ts: see {@link #ts()}). */
  public Object value(EventFields.Field f) {
    return values[f.index()];
  }

  /** A string field, or null when absent. */
  public String text(EventFields.Field f) {
    Object v = values[f.index()];
    return v == null ? null : v.toString();
  }

  /** A numeric field as a double, or {@code absent} when missing. */
  public double number(EventFields.Field f, double absent) {
    return values[f.index()] instanceof Number n ? n.doubleValue() : absent;
  }

  /** A numeric field as a long, or {@code absent} when missing. */
  public long integer(EventFields.Field f, long absent) {
    return values[f.index()] instanceof Number n ? n.longValue() : absent;
  }

  /** The canonical JSON object. */
  public ObjectNode body() {
    if (body == null) {
      ObjectNode b = JsonNodeFactory.instance.objectNode();
      for (EventFields.Field f : EventFields.of(type).all()) {
        Object v = values[f.index()];
        if (f.kind() == EventFields.Kind.TS) {
          b.put(f.name(), ts.toString());
        } else if (v instanceof String s) {
          b.put(f.name(), s);
        } else if (v instanceof Integer i) {
          b.put(f.name(), i);
        } else if (v instanceof Long l) {
          b.put(f.name(), l);
        } else if (v instanceof Double d) {
          b.put(f.name(), d);
        }
      }
      body = b;
    }
    return body;
  }

  /**
   * The canonical JSON as published to Kafka: as received when it already was canonical, else
   * serialised from the body.
   */
  public byte[] json() {
    return json != null ? json : EventParser.toBytes(body());
  }

  /**
   * Sets the canonical body when the caller already holds it (the fast path over a parsed tree).
   */
  void body(ObjectNode canonical) {
    this.body = canonical;
  }

  void json(byte[] canonical) {
    this.json = canonical;
  }

  /**
   * The MongoDB _id: scope + "/" + event id, or for a GPU sample with a writer scope + "@" + writer
   * + "/" + event id. Neither scopes nor writers can contain '/' or '@', so keys never collide
   * across scopes or writers, nor with the ids of samples stored before writers existed.
   */
  public String storeId() {
    String writer = type == EventType.GPU_SAMPLE ? text(EventFields.G_WRITER) : null;
    return writer == null ? scope + "/" + eventId : scope + "@" + writer + "/" + eventId;
  }

  /**
   * This GPU sample as written by {@code writer} (an API key's id, or a source of the producer),
   * which becomes part of its id's scope: whatever writer the event named is replaced.
   */
  public Event withWriter(String writer) {
    if (type != EventType.GPU_SAMPLE) {
      throw new IllegalStateException("only GPU samples have a writer");
    }
    if (!EventFields.G_WRITER.acceptsText(writer)) {
      throw new IllegalArgumentException("not a writer name: " + writer);
    }
    if (writer.equals(text(EventFields.G_WRITER))) {
      return this;
    }
    Object[] v = values.clone();
    v[EventFields.G_WRITER.index()] = writer;
    return new Event(type, v, ts);
  }

  /** The Kafka record key: GPU for samples, model for token events. */
  public String kafkaKey() {
    return text(EventFields.of(type).get(type.keyField()));
  }

  @Override
  public String toString() {
    return type + " " + storeId() + " @ " + ts;
  }
}
