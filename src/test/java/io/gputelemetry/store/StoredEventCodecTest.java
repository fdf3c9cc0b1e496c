package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

/** The stored form of each event type, written out by hand. */
class StoredEventCodecTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:05Z");
  private static final long TS = Instant.parse("2026-11-28T12:00:00.250Z").toEpochMilli();
  private static final long RECEIVED = TS + 1234;
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private Event parse(EventType type, String json) {
    ParseResult r = parser.parse(type, json.getBytes(StandardCharsets.UTF_8), NOW, null);
    assertFalse(r.violations().size() > 0, () -> r.violations().toString());
    return r.event();
  }

  private static RawBsonDocument encode(StoredEvent s) {
    return new RawBsonDocument(s, new StoredEventCodec());
  }

  private static final String SAMPLE =
      "{\"event_id\":\"s-1\",\"ts\":\"2026-11-28T13:00:00.250+01:00\",\"node\":\"n1\","
          + "\"gpu_uuid\":\"GPU-1\",\"gpu_index\":3,\"gpu_model\":\"H100-SXM-80GB\","
          + "\"utilization_pct\":87.5,\"memory_used_mib\":61234,\"memory_total_mib\":81559,"
          + "\"power_w\":612.4,\"energy_mj\":9007199254740991,\"temperature_c\":71}";

  private static final String TOKENS =
      "{\"event_id\":\"r-1\",\"ts\":\"2026-11-28T12:00:00.250Z\",\"tenant\":\"acme\","
          + "\"model\":\"llama\",\"input_tokens\":812,\"output_tokens\":245}";

  @Test
  void aGpuSampleIsStoredWithItsFieldsInSchemaOrderTsAsADateAndNumbersAsTheJsonHadThem() {
    RawBsonDocument d =
        encode(new StoredEvent(parse(EventType.GPU_SAMPLE, SAMPLE), RECEIVED, false, Double.NaN));
    BsonDocument expected =
        new BsonDocument("_id", new BsonString("GPU-1/s-1"))
            .append("event_id", new BsonString("s-1"))
            .append("ts", new BsonDateTime(TS))
            .append("node", new BsonString("n1"))
            .append("gpu_uuid", new BsonString("GPU-1"))
            .append("gpu_index", new BsonInt32(3))
            .append("gpu_model", new BsonString("H100-SXM-80GB"))
            .append("utilization_pct", new BsonDouble(87.5))
            .append("memory_used_mib", new BsonInt32(61234))
            .append("memory_total_mib", new BsonInt32(81559))
            .append("power_w", new BsonDouble(612.4))
            .append("energy_mj", new BsonInt64(9007199254740991L))
            .append("temperature_c", new BsonInt32(71))
            .append("received_at", new BsonDateTime(RECEIVED));
    assertEquals(expected, d);
    assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(d.keySet()), "field order");
  }

  @Test
  void aPricedTokenEventCarriesItsTotalAndTheLiveEstimate() {
    RawBsonDocument d =
        encode(new StoredEvent(parse(EventType.TOKEN_USAGE, TOKENS), RECEIVED, false, 2e-6));
    BsonDocument expected =
        new BsonDocument("_id", new BsonString("acme/r-1"))
            .append("event_id", new BsonString("r-1"))
            .append("ts", new BsonDateTime(TS))
            .append("tenant", new BsonString("acme"))
            .append("model", new BsonString("llama"))
            .append("input_tokens", new BsonInt32(812))
            .append("output_tokens", new BsonInt32(245))
            .append("received_at", new BsonDateTime(RECEIVED))
            .append("total_tokens", new BsonInt64(1057))
            .append("cost_per_token_usd", new BsonDouble(2e-6))
            .append("cost_usd", new BsonDouble(2e-6 * 1057));
    assertEquals(expected, d);
    assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(d.keySet()), "field order");
  }

  @Test
  void anUnpricedTokenEventIsMarkedAndHasNoCostAtAll() {
    RawBsonDocument d =
        encode(new StoredEvent(parse(EventType.TOKEN_USAGE, TOKENS), RECEIVED, true, 2e-6));
    assertEquals(BsonBoolean.TRUE, d.get("unpriced"));
    assertFalse(d.containsKey("cost_usd"), "unpriced is never costed, not even at $0");
    assertFalse(d.containsKey("cost_per_token_usd"));
    assertEquals(new BsonInt64(1057), d.get("total_tokens"));
  }

  @Test
  void aTokenEventWithoutAnEstimateHasNeitherCostNorTheUnpricedMark() {
    RawBsonDocument d =
        encode(new StoredEvent(parse(EventType.TOKEN_USAGE, TOKENS), RECEIVED, false, Double.NaN));
    assertEquals(
        List.of(
            "_id",
            "event_id",
            "ts",
            "tenant",
            "model",
            "input_tokens",
            "output_tokens",
            "received_at",
            "total_tokens"),
        new ArrayList<>(d.keySet()));
  }

  @Test
  void anUnpricedGpuSampleIsMarked() {
    RawBsonDocument d =
        encode(new StoredEvent(parse(EventType.GPU_SAMPLE, SAMPLE), RECEIVED, true, Double.NaN));
    assertEquals(BsonBoolean.TRUE, d.get("unpriced"));
    assertFalse(d.containsKey("total_tokens"));
  }

  @Test
  void theInventoryStateIsTheSampleFieldsWithoutStoreKeys() {
    BsonDocument last = StoredEventCodec.fields(parse(EventType.GPU_SAMPLE, SAMPLE));
    BsonDocument stored =
        encode(new StoredEvent(parse(EventType.GPU_SAMPLE, SAMPLE), RECEIVED, false, Double.NaN));
    BsonDocument expected = new BsonDocument();
    stored.forEach(expected::put);
    expected.remove("_id");
    expected.remove("received_at");
    assertEquals(expected, last);
  }
}
