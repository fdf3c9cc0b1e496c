package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** An event's values, keys and canonical JSON, against values and bytes written by hand. */
class EventTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:05Z");
  private static final EventFields.Fields G = EventFields.GPU_SAMPLE;
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  /** A canonical sample: fields in schema order, ts in UTC. */
  private static final String SAMPLE =
      "{\"event_id\":\"s-1\",\"ts\":\"2026-11-28T12:00:00.250Z\",\"node\":\"n1\","
          + "\"gpu_uuid\":\"GPU-1\",\"gpu_index\":3,\"gpu_model\":\"H100-SXM-80GB\","
          + "\"utilization_pct\":87.5,\"memory_used_mib\":61234,\"memory_total_mib\":81559,"
          + "\"power_w\":612.4,\"energy_mj\":9007199254740991,\"temperature_c\":71}";

  private Event parse(EventType type, String json) {
    ParseResult r = parser.parse(type, json.getBytes(StandardCharsets.UTF_8), NOW, null);
    assertFalse(r.violations().size() > 0, () -> r.violations().toString());
    return r.event();
  }

  @Test
  void aParsedSampleHasEachValueAsTheJsonHadIt() {
    Event e = parse(EventType.GPU_SAMPLE, SAMPLE);
    assertEquals(EventType.GPU_SAMPLE, e.type());
    assertEquals("n1", e.value(G.get("node")));
    assertEquals(Integer.valueOf(3), e.value(G.get("gpu_index")));
    assertEquals(Integer.valueOf(81559), e.value(G.get("memory_total_mib")));
    assertEquals(Long.valueOf(9007199254740991L), e.value(G.get("energy_mj")));
    assertEquals(Double.valueOf(612.4), e.value(G.get("power_w")));
    assertNull(e.value(G.get("model")), "absent");
    assertEquals("H100-SXM-80GB", e.text(G.get("gpu_model")));
    assertEquals("3", e.text(G.get("gpu_index")));
    assertNull(e.text(G.get("model")));
    assertEquals(612.4, e.number(G.get("power_w"), -1));
    assertEquals(71.0, e.number(G.get("temperature_c"), -1));
    assertEquals(-1.0, e.number(G.get("model"), -1), "absent");
    assertEquals(-1.0, e.number(G.get("node"), -1), "not a number");
    assertEquals(61234L, e.integer(G.get("memory_used_mib"), -7));
    assertEquals(9007199254740991L, e.integer(G.get("energy_mj"), -7));
    assertEquals(-7L, e.integer(G.get("model"), -7), "absent");
    assertEquals(Instant.parse("2026-11-28T12:00:00.250Z"), e.ts());
    assertEquals("s-1", e.eventId());
    assertEquals("GPU-1", e.scope());
    assertEquals("GPU-1/s-1", e.storeId());
    assertEquals("GPU-1", e.kafkaKey(), "samples are keyed by GPU");
    assertEquals("GPU_SAMPLE GPU-1/s-1 @ 2026-11-28T12:00:00.250Z", e.toString());
    assertEquals(SAMPLE, new String(e.json(), StandardCharsets.UTF_8), "canonical: as received");
    assertEquals(SAMPLE, e.body().toString(), "the body holds the same fields in the same order");
  }

  @Test
  void eachTypeNamesItsSchemaFileAndDefaultTopic() {
    assertEquals("gpu.metrics.v1", EventType.GPU_SAMPLE.schemaName());
    assertEquals("token.usage.v1", EventType.TOKEN_USAGE.schemaName());
    for (EventType t : EventType.values()) {
      assertNotNull(
          EventType.class.getResource("/schemas/" + t.schemaName() + ".schema.json"),
          t + "'s schema file");
    }
  }

  @Test
  void aSampleOfAWriterIsScopedByGpuAndWriterAndItsJsonNamesTheWriter() {
    Event e = parse(EventType.GPU_SAMPLE, SAMPLE);
    Event own = e.withWriter("agent-7");
    assertEquals("GPU-1@agent-7/s-1", own.storeId());
    assertEquals("GPU-1/s-1", e.storeId(), "the original is unchanged");
    assertEquals("agent-7", own.text(EventFields.G_WRITER));
    assertEquals("s-1", own.eventId());
    assertEquals("GPU-1", own.scope(), "still the GPU's: the inventory and the Kafka key");
    String json = new String(own.json(), StandardCharsets.UTF_8);
    assertEquals(
        SAMPLE.replace(",\"node\"", ",\"writer\":\"agent-7\",\"node\""),
        json,
        "the writer is published with the sample, in schema order");
    Event reread = parse(EventType.GPU_SAMPLE, json);
    assertEquals("GPU-1@agent-7/s-1", reread.storeId(), "the processor derives the same id");
    assertEquals(
        "GPU-1@agent-7/s-1",
        reread.withWriter("agent-7").storeId(),
        "the writer the sample already names: the same sample");
    Event claimed = parse(EventType.GPU_SAMPLE, json).withWriter("other-key");
    assertEquals("GPU-1@other-key/s-1", claimed.storeId(), "a claimed writer is replaced");
  }

  @Test
  void aTokenEventIsScopedByTenantAndKeyedByModel() {
    Event e =
        parse(
            EventType.TOKEN_USAGE,
            "{\"event_id\":\"r-1\",\"ts\":\"2026-11-28T12:00:00Z\",\"tenant\":\"acme\","
                + "\"model\":\"llama\",\"input_tokens\":812,\"output_tokens\":245}");
    assertEquals(EventType.TOKEN_USAGE, e.type());
    assertEquals("acme/r-1", e.storeId());
    assertEquals("llama", e.kafkaKey());
    assertEquals(812L, e.integer(EventFields.T_INPUT, 0));
    assertEquals(245L, e.integer(EventFields.T_OUTPUT, 0));
  }

  @Test
  void anEventBuiltFromABodyReadsItsValuesFromIt() {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("event_id", "s-9")
        .put("ts", "2026-11-28T12:00:00Z")
        .put("node", "n2")
        .put("gpu_uuid", "GPU-9")
        .put("gpu_index", 1)
        .put("energy_mj", 5_000_000_000L)
        .put("power_w", 100.5)
        .put("not_a_field", "ignored");
    body.putNull("model");
    body.put("gpu_model", true);
    Event e =
        new Event(
            EventType.GPU_SAMPLE, body, "s-9", "GPU-9", Instant.parse("2026-11-28T12:00:00Z"));
    assertEquals("n2", e.value(G.get("node")));
    assertEquals(Integer.valueOf(1), e.value(G.get("gpu_index")));
    assertEquals(Long.valueOf(5_000_000_000L), e.value(G.get("energy_mj")));
    assertEquals(Double.valueOf(100.5), e.value(G.get("power_w")));
    assertNull(e.value(G.get("model")), "JSON null");
    assertEquals("true", e.value(G.get("gpu_model")), "another kind: its JSON text");
    assertNull(e.value(G.get("ts")), "ts is read with ts()");
    assertEquals(
        "{\"event_id\":\"s-9\",\"ts\":\"2026-11-28T12:00:00Z\",\"node\":\"n2\",\"gpu_uuid\":"
            + "\"GPU-9\",\"gpu_index\":1,\"energy_mj\":5000000000,\"power_w\":100.5,"
            + "\"not_a_field\":\"ignored\",\"model\":null,\"gpu_model\":true}",
        new String(e.json(), StandardCharsets.UTF_8),
        "the given body, serialised");
  }
}
