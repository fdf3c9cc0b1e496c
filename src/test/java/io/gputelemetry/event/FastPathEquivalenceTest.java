package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.json.Json;
import io.gputelemetry.store.StoredEvent;
import io.gputelemetry.store.StoredEventCodec;
import io.gputelemetry.support.Tries;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fast path may only speed up the verdict, never change it: for valid, mutated and random
 * events, the parser with the fast path and the full schema path alone accept the same events, with
 * the same id, scope, time, canonical body and stored document.
 */
class FastPathEquivalenceTest {
  private static final StoredEventCodec CODEC = new StoredEventCodec();
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));
  private final FastPath fast = new FastPath(Duration.ofMinutes(5), Duration.ofDays(7));

  static final String GPU =
      "{\"event_id\":\"smp-1\",\"ts\":\"2026-11-28T11:59:00.250Z\",\"node\":\"gpu-node-01\","
          + "\"gpu_uuid\":\"GPU-5a1c0f2e\",\"gpu_index\":3,\"gpu_model\":\"H100-SXM-80GB\",\"model\":\"llama\","
          + "\"utilization_pct\":87.5,\"memory_used_mib\":61234,\"memory_total_mib\":81559,\"power_w\":612.4,"
          + "\"energy_mj\":123456789012,\"temperature_c\":71,\"sm_clock_mhz\":1980,\"xid_errors\":0}";
  static final String TOKEN =
      "{\"event_id\":\"req-1\",\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"acme\","
          + "\"model\":\"llama\",\"provider\":\"vllm\",\"input_tokens\":812,\"output_tokens\":245,\"latency_ms\":1830.5,"
          + "\"gpu_uuid\":\"GPU-5a1c0f2e\",\"node\":\"gpu-node-01\"}";

  /**
   * Values that sit on, just inside and just outside the schema's bounds, and of the wrong type.
   */
  private static final String[] VALUES = {
    "0",
    "-0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "100",
    "100.0",
    "100.5",
    "101",
    "1023",
    "1024",
    "1e2",
    "1E3",
    "-50",
    "-50.5",
    "200",
    "200.1",
    "10000",
    "10000.01",
    "16777216",
    "16777217",
    "86400000",
    "86400001",
    "100000000",
    "100000001",
    "9007199254740991",
    "9007199254740992",
    "2147483647",
    "2147483648",
    "99999999999999999999",
    "1e400",
    "3.5",
    "null",
    "true",
    "\"\"",
    "\"x\"",
    "\"12\"",
    "[]",
    "{}",
    "\"GPU-1\"",
    "\"a b\"",
    "\"-x\"",
    "\"x.y:z_w-v\"",
    "\"user@example\"",
    "\"@x\"",
    "\"\u00e9t\u00e9\"",
    "\"a\\u0000b\"",
    "\"abc\\n\"",
    "\"" + "a".repeat(128) + "\"",
    "\"" + "a".repeat(129) + "\"",
    "\"" + "a".repeat(253) + "\"",
    "\"" + "a".repeat(254) + "\"",
    "\"" + "a".repeat(256) + "\"",
    "\"" + "a".repeat(257) + "\"",
    "\"2026-11-28T11:59:00Z\"",
    "\"2026-11-28T11:59:00.1Z\"",
    "\"2026-11-28T11:59:00.123456789Z\"",
    "\"2026-11-28T11:59:00.1234567891Z\"",
    "\"2026-11-28T12:59:00+01:00\"",
    "\"2026-11-28T06:59:00-05:00\"",
    "\"2026-11-28t11:59:00z\"",
    "\"2026-11-28T11:59:60Z\"",
    "\"2026-11-28 11:59:00Z\"",
    "\"2026-11-28T11:59Z\"",
    "\"2026-11-28T11:59:00\"",
    "\"2026-11-28T11:59:00+0100\"",
    "\"2026-11-28T12:04:59Z\"",
    "\"2026-11-28T12:05:01Z\"",
    "\"2026-11-21T12:00:01Z\"",
    "\"2026-11-21T11:59:59Z\"",
    "\"2026-02-29T00:00:00Z\"",
    "\"2026-11-31T00:00:00Z\"",
    "\"2026-11-28T11:59:00.000Z\"",
    "\"2026-11-28T11:59:00.500000Z\"",
    "\"2026-11-28T23:59:00+12:00\"",
    "\"2026-11-28T23:59:00+14:30\"",
    "\"+2026-11-28T11:59:00Z\""
  };

  private static final String[] EXTRA_FIELDS = {
    "usage",
    "gen_ai.usage.input_tokens",
    "gen_ai.request.model",
    "gen_ai.system",
    "unknown",
    "_id",
    "received_at"
  };

  @Test
  void canonicalEventsTakeTheFastPath() {
    assertNotNull(fast.read(EventType.GPU_SAMPLE, bytes(GPU), NOW, null));
    assertNotNull(fast.read(EventType.TOKEN_USAGE, bytes(TOKEN), NOW, null));
    assertNotNull(fast.read(EventType.TOKEN_USAGE, bytes(TOKEN), NOW, "globex"));
    assertNotNull(fast.read(EventType.GPU_SAMPLE, (ObjectNode) tree(GPU), NOW, null));
    // What the fast path leaves to the schema validator.
    assertNull(
        fast.read(
            EventType.TOKEN_USAGE, bytes(TOKEN.replace("\"event_id\":\"req-1\",", "")), NOW, null),
        "an id-less event gets its derived id on the full path");
    assertNull(
        fast.read(
            EventType.TOKEN_USAGE,
            bytes(TOKEN.replace("\"model\"", "\"gen_ai.request.model\"")),
            NOW,
            null),
        "aliases are mapped on the full path");
    assertNull(fast.read(EventType.GPU_SAMPLE, bytes(GPU.replace("87.5", "101")), NOW, null));
  }

  @Test
  void canonicalElementsArePublishedAsReceived() {
    byte[] body =
        ("[" + TOKEN + "," + TOKEN.replace("11:59:00Z", "12:59:00+01:00") + "]")
            .getBytes(StandardCharsets.UTF_8);
    int len = bytes(TOKEN).length;
    Event canonical = parser.parse(EventType.TOKEN_USAGE, body, 1, len, NOW, null).event();
    assertEquals(
        TOKEN, new String(canonical.json(), StandardCharsets.UTF_8), "published as received");
    Event offset =
        parser
            .parse(EventType.TOKEN_USAGE, body, len + 2, body.length - len - 3, NOW, null)
            .event();
    assertEquals(
        "2026-11-28T11:59:00Z",
        tree(new String(offset.json(), StandardCharsets.UTF_8)).get("ts").asText(),
        "a ts with an offset is published in UTC");
    Event rebound = parser.parse(EventType.TOKEN_USAGE, body, 1, len, NOW, "globex").event();
    assertEquals(
        "globex",
        tree(new String(rebound.json(), StandardCharsets.UTF_8)).get("tenant").asText(),
        "the tenant bound to the API key is published");
  }

  /** Exhaustive (about 2,000 events through the schema validator): left out of PIT's runs. */
  @Test
  @Tag("exhaustive")
  void everySingleFieldMutationGetsTheSameVerdictAndStoredForm() {
    int compared = 0;
    for (EventType type : EventType.values()) {
      String base = type == EventType.GPU_SAMPLE ? GPU : TOKEN;
      ObjectNode template = (ObjectNode) tree(base);
      List<String> names = new ArrayList<>();
      template.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        for (String value : VALUES) {
          compare(
              type,
              base.replace(
                  "\"" + name + "\":" + template.get(name).toString(),
                  "\"" + name + "\":" + value));
          compared++;
        }
        compare(type, without(template, name));
        compared++;
      }
      for (String extra : EXTRA_FIELDS) {
        for (String value :
            new String[] {"1", "\"llama\"", "{\"prompt_tokens\":812,\"completion_tokens\":245}"}) {
          compare(type, base.substring(0, base.length() - 1) + ",\"" + extra + "\":" + value + "}");
          compared++;
        }
      }
      compare(type, base + " ");
      compare(type, base + "{}");
      compare(type, base.replace("{\"event_id\"", "{\"event_id\":\"dup\",\"event_id\""));
      compare(type, "[" + base + "]");
      compared += 4;
    }
    assertTrue(compared > 2000, "compared " + compared);
  }

  @Test
  void randomCombinationsOfMutationsGetTheSameVerdictAndStoredForm() {
    Random random = new Random(20261129);
    int accepted = 0;
    int tries = Tries.of(4000);
    for (int i = 0; i < tries; i++) {
      EventType type = random.nextBoolean() ? EventType.GPU_SAMPLE : EventType.TOKEN_USAGE;
      String json = type == EventType.GPU_SAMPLE ? GPU : TOKEN;
      ObjectNode template = (ObjectNode) tree(json);
      List<String> names = new ArrayList<>();
      template.fieldNames().forEachRemaining(names::add);
      int mutations = random.nextInt(3);
      for (int m = 0; m < mutations; m++) {
        String name = names.get(random.nextInt(names.size()));
        JsonNode current = tree(json).get(name);
        if (current == null) {
          continue;
        }
        json =
            json.replace(
                "\"" + name + "\":" + current,
                "\"" + name + "\":" + VALUES[random.nextInt(VALUES.length)]);
      }
      if (compare(type, json)) {
        accepted++;
      }
    }
    assertTrue(
        accepted > tries / 8 && accepted < tries,
        "both verdicts occur: " + accepted + " of " + tries + " accepted");
  }

  /**
   * Compares both paths, for bytes and for a parsed tree, with and without a tenant override; true
   * when accepted.
   */
  private boolean compare(EventType type, String json) {
    boolean ok = false;
    for (String tenant : new String[] {null, "globex"}) {
      ParseResult viaFast = parser.parse(type, bytes(json), NOW, tenant);
      ParseResult full = parser.parseFully(type, bytes(json), 0, bytes(json).length, NOW, tenant);
      same(json, viaFast, full);
      byte[] padded = ("[ " + json + " ]").getBytes(StandardCharsets.UTF_8);
      same(json + " (slice)", parser.parse(type, padded, 2, bytes(json).length, NOW, tenant), full);
      JsonNode node = tryTree(json);
      if (node != null) {
        same(
            json + " (tree)",
            parser.parse(type, node.deepCopy(), NOW, tenant),
            parser.parseFully(type, node.deepCopy(), NOW, tenant));
      }
      ok = full.ok();
    }
    return ok;
  }

  private static void same(String json, ParseResult a, ParseResult b) {
    assertEquals(b.ok(), a.ok(), () -> "verdict differs for " + json + ": " + b.violations());
    if (!a.ok()) {
      return;
    }
    Event x = a.event();
    Event y = b.event();
    assertEquals(y.eventId(), x.eventId(), json);
    assertEquals(y.scope(), x.scope(), json);
    assertEquals(y.ts(), x.ts(), json);
    assertEquals(y.kafkaKey(), x.kafkaKey(), json);
    assertEquals(
        Json.MAPPER.convertValue(y.body(), Map.class),
        Json.MAPPER.convertValue(x.body(), Map.class),
        () -> "canonical body differs for " + json);
    assertEquals(
        tryTree(new String(y.json(), StandardCharsets.UTF_8)),
        tryTree(new String(x.json(), StandardCharsets.UTF_8)),
        () -> "published JSON differs for " + json);
    BsonDocument dx = new RawBsonDocument(new StoredEvent(x, 1, false, 0.5), CODEC);
    BsonDocument dy = new RawBsonDocument(new StoredEvent(y, 1, false, 0.5), CODEC);
    assertEquals(dy, dx, () -> "stored document differs for " + json);
  }

  private static String without(ObjectNode template, String name) {
    ObjectNode copy = template.deepCopy();
    copy.remove(name);
    return copy.toString();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static JsonNode tree(String s) {
    JsonNode n = tryTree(s);
    assertNotNull(n, s);
    return n;
  }

  private static JsonNode tryTree(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      return null;
    }
  }
}
