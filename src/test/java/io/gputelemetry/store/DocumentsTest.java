package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.BsonArray;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/** The inventory's documents and stored values read back, against documents written by hand. */
class DocumentsTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:05Z");
  private static final long TS = Instant.parse("2026-11-28T12:00:00.250Z").toEpochMilli();
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private Event sample(String json) {
    ParseResult r =
        parser.parse(EventType.GPU_SAMPLE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
    assertFalse(r.violations().size() > 0, () -> r.violations().toString());
    return r.event();
  }

  @Test
  void theInventoryStateOfASampleWithIndexAndModel() {
    Event e =
        sample(
            "{\"event_id\":\"s-1\",\"ts\":\"2026-11-28T12:00:00.250Z\",\"node\":\"n1\","
                + "\"gpu_uuid\":\"GPU-1\",\"gpu_index\":3,\"gpu_model\":\"H100-SXM-80GB\","
                + "\"model\":\"llama\",\"utilization_pct\":87.5,\"memory_used_mib\":61234,"
                + "\"memory_total_mib\":81559,\"power_w\":612.4,\"energy_mj\":9007199254740991,"
                + "\"temperature_c\":71}");
    BsonDocument last =
        new BsonDocument("event_id", new BsonString("s-1"))
            .append("ts", new BsonDateTime(TS))
            .append("node", new BsonString("n1"))
            .append("gpu_uuid", new BsonString("GPU-1"))
            .append("gpu_index", new BsonInt32(3))
            .append("gpu_model", new BsonString("H100-SXM-80GB"))
            .append("model", new BsonString("llama"))
            .append("utilization_pct", new BsonDouble(87.5))
            .append("memory_used_mib", new BsonInt32(61234))
            .append("memory_total_mib", new BsonInt32(81559))
            .append("power_w", new BsonDouble(612.4))
            .append("energy_mj", new BsonInt64(9007199254740991L))
            .append("temperature_c", new BsonInt32(71));
    BsonDocument expected =
        new BsonDocument("gpu_uuid", new BsonString("GPU-1"))
            .append("node", new BsonString("n1"))
            .append("gpu_model", new BsonString("H100-SXM-80GB"))
            .append("memory_total_mib", new BsonInt32(81559))
            .append("last", last)
            .append("gpu_index", new BsonInt32(3))
            .append("model", new BsonString("llama"));
    assertEquals(expected, Documents.inventoryState(e));
  }

  @Test
  void withoutIndexOrModelTheStateHasNoIndexAndANullModel() {
    Event e =
        sample(
            "{\"event_id\":\"s-2\",\"ts\":\"2026-11-28T12:00:00.250Z\",\"node\":\"n1\","
                + "\"gpu_uuid\":\"GPU-1\",\"gpu_model\":\"L4-24GB\",\"utilization_pct\":1.5,"
                + "\"memory_used_mib\":10,\"memory_total_mib\":22528,\"power_w\":20.0,"
                + "\"temperature_c\":40}");
    BsonDocument state = Documents.inventoryState(e);
    assertEquals(
        List.of("gpu_uuid", "node", "gpu_model", "memory_total_mib", "last", "model"),
        List.copyOf(state.keySet()));
    assertEquals(BsonNull.VALUE, state.get("model"), "unset: the GPU serves no model now");
    assertEquals(new BsonString("L4-24GB"), state.get("gpu_model"));
    assertEquals(new BsonInt32(22528), state.get("memory_total_mib"));
  }

  @Test
  void plainJavaValuesBecomeTheirBsonTypes() {
    assertEquals(new BsonString("x"), Documents.bson("x"));
    assertEquals(new BsonInt32(7), Documents.bson(7));
    assertEquals(new BsonInt64(7L), Documents.bson(7L));
    assertEquals(new BsonDouble(0.5), Documents.bson(0.5));
    assertEquals(BsonNull.VALUE, Documents.bson(null));
    assertEquals(BsonNull.VALUE, Documents.bson(List.of()), "no other kinds are stored");
  }

  @Test
  void aGpuDocumentReadsBackAsARecord() {
    BsonDocument d =
        new BsonDocument("_id", new BsonString("GPU-1"))
            .append("node", new BsonString("n1"))
            .append("gpu_model", new BsonString("H100-SXM-80GB"))
            .append("model", new BsonString("llama"))
            .append("first_seen", new BsonDateTime(1_000))
            .append("last_seen", new BsonDateTime(2_000))
            .append(
                "last",
                new BsonDocument("ts", new BsonDateTime(TS))
                    .append("power_w", new BsonDouble(612.4))
                    .append("memory_used_mib", new BsonInt32(61234))
                    .append("energy_mj", new BsonInt64(9007199254740991L))
                    .append("model", new BsonString("llama"))
                    .append("ok", BsonBoolean.TRUE)
                    .append("none", BsonNull.VALUE)
                    .append("nested", new BsonDocument("a", new BsonInt32(1)))
                    .append("list", new BsonArray(List.of(new BsonInt32(1)))));
    GpuRecord r = Documents.gpuRecord(d);
    assertEquals("GPU-1", r.gpuUuid());
    assertEquals("n1", r.node());
    assertEquals("H100-SXM-80GB", r.gpuModel());
    assertEquals("llama", r.model());
    assertEquals(new GpuRecord.Span(1_000, 2_000), r.seen());
    Map<String, Object> last = new LinkedHashMap<>();
    last.put("ts", Instant.ofEpochMilli(TS));
    last.put("power_w", 612.4);
    last.put("memory_used_mib", 61234);
    last.put("energy_mj", 9007199254740991L);
    last.put("model", "llama");
    last.put("ok", true);
    last.put("none", null);
    last.put("nested", Map.of("a", 1));
    last.put("list", "BsonArray{values=[BsonInt32{value=1}]}");
    assertEquals(last, r.last());
    assertEquals(612.4, r.lastNumber("power_w"));
    assertNull(r.lastNumber("model"), "not a number");
  }

  @Test
  void aGpuDocumentWithMissingOrOddFieldsReadsAsNullsAndZeros() {
    BsonDocument d =
        new BsonDocument("_id", new BsonString("GPU-2"))
            .append("node", new BsonInt32(5))
            .append("first_seen", new BsonString("yesterday"))
            .append("last", new BsonString("not a document"));
    GpuRecord r = Documents.gpuRecord(d);
    assertNull(r.node(), "not a string");
    assertNull(r.gpuModel(), "absent");
    assertEquals(new GpuRecord.Span(0, 0), r.seen());
    assertEquals(Map.of(), r.last());
  }

  @Test
  void numbersReadAsAskedAndAbsentOrNonNumericAsZero() {
    BsonDocument d =
        new BsonDocument("i", new BsonInt32(3))
            .append("l", new BsonInt64(5_000_000_000L))
            .append("d", new BsonDouble(2.75))
            .append("s", new BsonString("7"));
    assertEquals(3.0, Documents.number(d, "i"));
    assertEquals(5e9, Documents.number(d, "l"));
    assertEquals(2.75, Documents.number(d, "d"));
    assertEquals(0.0, Documents.number(d, "s"));
    assertEquals(0.0, Documents.number(d, "absent"));
    assertEquals(5_000_000_000L, Documents.integer(d, "l"));
    assertEquals(2L, Documents.integer(d, "d"), "truncated");
    assertEquals(0L, Documents.integer(d, "s"));
    assertEquals(0L, Documents.integer(d, "absent"));
    assertEquals(0L, Documents.millis(d, "i"), "not a date");
    assertNull(Documents.text(d, "i"));
    assertEquals("7", Documents.text(d, "s"));
  }
}
