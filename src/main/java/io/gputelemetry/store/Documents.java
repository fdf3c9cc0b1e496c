package io.gputelemetry.store;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;

/** Documents of the store to and from plain Java: the inventory state, stored values read back. */
final class Documents {
  private Documents() {}

  static BsonDocument inventoryState(Event e) {
    BsonDocument state =
        new BsonDocument("gpu_uuid", new BsonString(e.scope()))
            .append("node", bson(e.value(EventFields.G_NODE)))
            .append("gpu_model", bson(e.value(EventFields.G_GPU_MODEL)))
            .append("memory_total_mib", bson(e.value(EventFields.G_MEMORY_TOTAL)))
            .append("last", StoredEventCodec.fields(e));
    Object index = e.value(EventFields.G_GPU_INDEX);
    if (index != null) {
      state.append("gpu_index", bson(index));
    }
    return state.append("model", bson(e.value(EventFields.G_MODEL)));
  }

  static BsonValue bson(Object v) {
    if (v instanceof String s) {
      return new BsonString(s);
    }
    if (v instanceof Integer i) {
      return new BsonInt32(i);
    }
    if (v instanceof Long l) {
      return new BsonInt64(l);
    }
    if (v instanceof Double d) {
      return new BsonDouble(d);
    }
    return BsonNull.VALUE;
  }

  static GpuRecord gpuRecord(BsonDocument d) {
    BsonValue last = d.get("last");
    @SuppressWarnings("unchecked")
    Map<String, Object> lastState =
        last != null && last.isDocument() ? (Map<String, Object>) java(last) : Map.of();
    return new GpuRecord(
        d.getString("_id").getValue(),
        text(d, "node"),
        text(d, "gpu_model"),
        text(d, "model"),
        new GpuRecord.Span(millis(d, "first_seen"), millis(d, "last_seen")),
        lastState);
  }

  static String text(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isString() ? v.asString().getValue() : null;
  }

  static long millis(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isDateTime() ? v.asDateTime().getValue() : 0;
  }

  /** A BSON value as plain Java: String, Integer, Long, Double, Boolean, Instant, Map, or null. */
  static Object java(BsonValue v) {
    return switch (v.getBsonType()) {
      case STRING -> v.asString().getValue();
      case INT32 -> v.asInt32().getValue();
      case INT64 -> v.asInt64().getValue();
      case DOUBLE -> v.asDouble().getValue();
      case BOOLEAN -> v.asBoolean().getValue();
      case DATE_TIME -> Instant.ofEpochMilli(v.asDateTime().getValue());
      case DOCUMENT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        v.asDocument().forEach((k, x) -> m.put(k, java(x)));
        yield m;
      }
      case NULL -> null;
      default -> v.toString();
    };
  }

  static double number(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isNumber() ? v.asNumber().doubleValue() : 0;
  }

  static long integer(BsonDocument d, String key) {
    BsonValue v = d.get(key);
    return v != null && v.isNumber() ? v.asNumber().longValue() : 0;
  }
}
