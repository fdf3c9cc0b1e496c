package io.gputelemetry.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * The common case, fast: an event already in canonical form (canonical field names, an event_id,
 * every value plainly valid), read in one pass with the checks of {@link EventFields} instead of
 * the JSON Schema validator. It only ever accepts: anything it is not sure of (an alias, a missing
 * id, a value out of bounds, a malformed document, an unusual date-time form) returns null, and
 * {@link EventParser} runs the full path, which accepts or rejects with the precise reason. So the
 * fast path changes how fast an event is judged, never the verdict or the stored form ({@code
 * FastPathEquivalenceTest} compares the two on valid, mutated and random events).
 */
final class FastPath {
  private final Duration maxFutureSkew;
  private final Duration maxAge;

  FastPath(Duration maxFutureSkew, Duration maxAge) {
    this.maxFutureSkew = maxFutureSkew;
    this.maxAge = maxAge;
  }

  /**
   * Reads one JSON object from bytes (the tenant override applies to token events only) without
   * building a tree; null when the full path must decide.
   */
  Event read(EventType type, byte[] bytes, Instant now, String tenantOverride) {
    return read(type, bytes, 0, bytes.length, now, tenantOverride, false);
  }

  /**
   * Reads one JSON object from {@code buf[off, off+len)}. With {@code keepJson}, an event whose
   * JSON is already exactly canonical (ts as UTC in {@link Instant#toString()} form, the tenant as
   * bound) keeps that slice as the JSON it is published with, so it is not serialised again.
   */
  Event read(
      EventType type,
      byte[] buf,
      int off,
      int len,
      Instant now,
      String tenantOverride,
      boolean keepJson) {
    EventFields.Fields fields = EventFields.of(type);
    Object[] values = new Object[fields.size()];
    Instant ts = null;
    String tsText = null;
    long seen = 0;
    try (JsonParser p = Json.MAPPER.getFactory().createParser(buf, off, len)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        EventFields.Field f = fields.get(p.currentName());
        if (f == null) {
          return null;
        }
        seen |= 1L << f.index();
        JsonToken v = p.nextToken();
        switch (f.kind()) {
          case TEXT -> {
            if (v != JsonToken.VALUE_STRING) {
              return null;
            }
            String s = p.getText();
            if (!f.acceptsText(s)) {
              return null;
            }
            values[f.index()] = s;
          }
          case TS -> {
            if (v != JsonToken.VALUE_STRING) {
              return null;
            }
            tsText = p.getText();
            ts = f.acceptsText(tsText) ? Timestamps.parse(tsText) : null;
            if (ts == null) {
              return null;
            }
          }
          case INT, NUM -> {
            Object n =
                f.kind() == EventFields.Kind.INT && v != JsonToken.VALUE_NUMBER_INT
                    ? null
                    : number(p, v);
            if (n == null || !f.acceptsNumber(((Number) n).doubleValue())) {
              return null;
            }
            values[f.index()] = n;
          }
          default -> {
            return null;
          }
        }
      }
      // Strict JSON: nothing may follow the object.
      if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
        return null;
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    Object tenantGiven = values[EventFields.T_TENANT.index()];
    Event e = finish(type, fields, values, seen, ts, now, tenantOverride);
    if (e != null
        && keepJson
        && tsText.equals(ts.toString())
        && (tenantOverride == null
            || type != EventType.TOKEN_USAGE
            || tenantOverride.equals(tenantGiven))) {
      e.json(Arrays.copyOfRange(buf, off, off + len));
    }
    return e;
  }

  /** Checks an already parsed object; on success the object itself becomes the canonical body. */
  Event read(EventType type, ObjectNode body, Instant now, String tenantOverride) {
    EventFields.Fields fields = EventFields.of(type);
    Object[] values = new Object[fields.size()];
    Instant ts = null;
    long seen = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      EventFields.Field f = fields.get(e.getKey());
      if (f == null) {
        return null;
      }
      seen |= 1L << f.index();
      JsonNode v = e.getValue();
      switch (f.kind()) {
        case TEXT -> {
          if (!v.isTextual() || !f.acceptsText(v.textValue())) {
            return null;
          }
          values[f.index()] = v.textValue();
        }
        case TS -> {
          if (!v.isTextual()
              || !f.acceptsText(v.textValue())
              || (ts = Timestamps.parse(v.textValue())) == null) {
            return null;
          }
        }
        case INT -> {
          if (!(v.isInt() || v.isLong()) || !f.acceptsNumber((double) v.longValue())) {
            return null;
          }
          values[f.index()] = v.isInt() ? (Object) v.intValue() : (Object) v.longValue();
        }
        case NUM -> {
          if (!(v.isInt() || v.isLong() || v.isDouble()) || !f.acceptsNumber(v.doubleValue())) {
            return null;
          }
          values[f.index()] =
              v.isInt()
                  ? (Object) v.intValue()
                  : v.isLong() ? (Object) v.longValue() : v.doubleValue();
        }
        default -> {
          return null;
        }
      }
    }
    Event e = finish(type, fields, values, seen, ts, now, tenantOverride);
    if (e != null) {
      body.put("ts", e.ts().toString());
      if (tenantOverride != null && type == EventType.TOKEN_USAGE) {
        body.put("tenant", tenantOverride);
      }
      e.body(body);
    }
    return e;
  }

  private Event finish(
      EventType type,
      EventFields.Fields fields,
      Object[] values,
      long seen,
      Instant ts,
      Instant now,
      String tenantOverride) {
    if (tenantOverride != null && type == EventType.TOKEN_USAGE) {
      if (!EventFields.T_TENANT.acceptsText(tenantOverride)) {
        return null;
      }
      values[EventFields.T_TENANT.index()] = tenantOverride;
      seen |= 1L << EventFields.T_TENANT.index();
    }
    // Every required field, and an event_id (an id-less event gets a derived one on the full path).
    long needed = fields.requiredMask() | 1L << fields.require(EventFields.EVENT_ID).index();
    if ((seen & needed) != needed || (seen & fields.variantMask()) != 0 || ts == null) {
      return null;
    }
    if (ts.isAfter(now.plus(maxFutureSkew)) || ts.isBefore(now.minus(maxAge))) {
      return null;
    }
    return new Event(type, values, ts);
  }

  /** A JSON number as the tree would hold it: Integer, Long or Double; null for anything else. */
  private static Object number(JsonParser p, JsonToken v) throws IOException {
    if (v == JsonToken.VALUE_NUMBER_INT) {
      JsonParser.NumberType nt = p.getNumberType();
      return nt == JsonParser.NumberType.INT
          ? (Object) p.getIntValue()
          : nt == JsonParser.NumberType.LONG ? (Object) p.getLongValue() : null;
    }
    if (v == JsonToken.VALUE_NUMBER_FLOAT) {
      return p.getDoubleValue();
    }
    return null;
  }
}
