package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The exact rejection a client gets for each kind of bad event (field, reason and code: the reason
 * is what an HTTP 400 and a DLQ record show), on both the full path and the public entry points,
 * and the time bounds to the millisecond.
 */
class EventParserRejectionsTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private static final String TOKEN_FIELDS =
      "\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"acme\",\"model\":\"m\"";
  private static final String GPU =
      "{\"ts\":\"2026-11-28T11:59:00Z\",\"node\":\"n1\",\"gpu_uuid\":\"GPU-1\",\"gpu_model\":\"H100\","
          + "\"utilization_pct\":50,\"memory_used_mib\":1,\"memory_total_mib\":80,\"power_w\":300,"
          + "\"temperature_c\":60}";

  /** A token event with the two counts and anything else appended. */
  private static String token(String extra) {
    return "{" + TOKEN_FIELDS + ",\"input_tokens\":3,\"output_tokens\":4" + extra + "}";
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Parses through the public entry points (bytes, slice, tree) and checks they agree. */
  private List<Violation> rejections(EventType type, String json) {
    ParseResult viaBytes = parser.parse(type, bytes(json), NOW, null);
    byte[] padded = bytes("[" + json + "]");
    ParseResult viaSlice = parser.parse(type, padded, 1, padded.length - 2, NOW, null);
    ParseResult viaFull = parser.parseFully(type, bytes(json), 0, bytes(json).length, NOW, null);
    assertEquals(viaFull.violations(), viaBytes.violations(), json);
    assertEquals(viaFull.violations(), viaSlice.violations(), json);
    try {
      JsonNode tree = Json.MAPPER.readTree(json);
      if (tree != null && !tree.isMissingNode()) {
        assertEquals(viaFull.violations(), parser.parse(type, tree, NOW, null).violations(), json);
      }
    } catch (Exception notJson) {
      // the byte paths above already covered it
    }
    return viaFull.violations();
  }

  private void rejected(EventType type, String json, Violation... expected) {
    assertEquals(List.of(expected), rejections(type, json), json);
  }

  private void rejectedToken(String json, String field, String reason, String code) {
    rejected(EventType.TOKEN_USAGE, json, new Violation(field, reason, code));
  }

  @Test
  void whatIsNotAnObjectIsNamed() {
    String[][] cases = {
      {"[1]", "an array"},
      {"\"acme\"", "a string"},
      {"12", "a number"},
      {"true", "a boolean"},
      {"null", "null"}
    };
    for (String[] c : cases) {
      rejectedToken(c[0], "", "expected a JSON object, got " + c[1], "not_object");
    }
    assertEquals(
        List.of(new Violation("", "empty event", "parse_error")),
        parser.parseFully(EventType.TOKEN_USAGE, new byte[0], 0, 0, NOW, null).violations());
  }

  @Test
  void malformedJsonGivesTheParsersWordsAndWhere() {
    rejectedToken(
        "{\"tenant\":\"a\",\"tenant\":\"b\"}",
        "",
        "invalid JSON: Duplicate field 'tenant' (line 1, column 23)",
        "duplicate_key");
    rejectedToken(
        "{\"tenant\":",
        "",
        "invalid JSON: Unexpected end-of-input within/between Object entries (line 1, column 11)",
        "parse_error");
  }

  @Test
  void schemaViolationsNameTheFieldTheRuleAndTheCode() {
    rejectedToken(
        "{" + TOKEN_FIELDS + ",\"input_tokens\":3}",
        "output_tokens",
        "required field is missing",
        "missing_field");
    rejectedToken(
        token(",\"colour\":\"red\""),
        "colour",
        "unknown field (see the schema for the allowed fields)",
        "unknown_field");
    rejectedToken(
        "{" + TOKEN_FIELDS + ",\"input_tokens\":\"ten\",\"output_tokens\":4}",
        "input_tokens",
        "string found, integer expected",
        "wrong_type");
    rejectedToken(
        "{" + TOKEN_FIELDS + ",\"input_tokens\":-1,\"output_tokens\":4}",
        "input_tokens",
        "must have a minimum value of 0",
        "out_of_range");
    rejectedToken(
        "{" + TOKEN_FIELDS + ",\"input_tokens\":100000001,\"output_tokens\":4}",
        "input_tokens",
        "must have a maximum value of 100000000",
        "out_of_range");
    rejected(
        EventType.GPU_SAMPLE,
        GPU.replace("\"memory_total_mib\":80", "\"memory_total_mib\":0"),
        new Violation(
            "memory_total_mib", "must have an exclusive minimum value of 0", "out_of_range"));
    rejectedToken(
        token("").replace("\"acme\"", "\"-acme\""),
        "tenant",
        "does not match the regex pattern ^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$",
        "bad_format");
    rejectedToken(
        token("").replace("\"model\":\"m\"", "\"model\":\"\""),
        "model",
        "must be at least 1 characters long",
        "bad_format");
    rejectedToken(
        token("").replace("\"model\":\"m\"", "\"model\":\"" + "m".repeat(257) + "\""),
        "model",
        "must be at most 256 characters long",
        "bad_format");
    rejectedToken(
        token("").replace("2026-11-28T11:59:00Z", "2026-11-28 11:59:00Z"),
        "ts",
        "not an RFC 3339 date-time",
        "bad_format");
    rejectedToken(
        token("").replace("2026-11-28T11:59:00Z", "2026-13-28T11:59:00Z"),
        "ts",
        "does not match the date-time pattern must be a valid RFC 3339 date-time",
        "bad_format");
  }

  @Test
  void severalViolationsComeSortedByField() {
    rejected(
        EventType.TOKEN_USAGE,
        "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"acme\",\"model\":\"\",\"input_tokens\":-1,"
            + "\"zz\":1,\"output_tokens\":\"4\"}",
        new Violation("input_tokens", "must have a minimum value of 0", "out_of_range"),
        new Violation("model", "must be at least 1 characters long", "bad_format"),
        new Violation("output_tokens", "string found, integer expected", "wrong_type"),
        new Violation(
            "zz", "unknown field (see the schema for the allowed fields)", "unknown_field"));
  }

  @Test
  void aliasConflictsAndABadUsageObjectAreNamed() {
    rejectedToken(
        token(",\"gen_ai.request.model\":\"other\""),
        "gen_ai.request.model",
        "conflicts with model given in the same event",
        "conflict");
    rejectedToken(
        "{" + TOKEN_FIELDS + ",\"usage\":[5,6]}",
        "usage",
        "expected an object with prompt_tokens and completion_tokens",
        "wrong_type");
    rejectedToken(
        "{"
            + TOKEN_FIELDS
            + ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,"
            + "\"total_tokens\":12}}",
        "usage.total_tokens",
        "must equal prompt_tokens + completion_tokens",
        "conflict");
    for (String total : List.of("\"11\"", "null")) {
      rejectedToken(
          "{"
              + TOKEN_FIELDS
              + ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,"
              + "\"total_tokens\":"
              + total
              + "}}",
          "usage.total_tokens",
          "must equal prompt_tokens + completion_tokens",
          "conflict");
    }
    rejectedToken(
        "{"
            + TOKEN_FIELDS
            + ",\"input_tokens\":3,\"usage\":{\"prompt_tokens\":5,"
            + "\"completion_tokens\":6}}",
        "usage.prompt_tokens",
        "conflicts with input_tokens given in the same event",
        "conflict");
    rejectedToken(
        "{"
            + TOKEN_FIELDS
            + ",\"output_tokens\":3,\"usage\":{\"prompt_tokens\":5,"
            + "\"completion_tokens\":6}}",
        "usage.completion_tokens",
        "conflicts with output_tokens given in the same event",
        "conflict");
  }

  @Test
  void aUsageObjectWithoutATotalOrWithTheSameNamesTwiceIsAccepted() {
    ParseResult noTotal =
        parser.parse(
            EventType.TOKEN_USAGE,
            bytes("{" + TOKEN_FIELDS + ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}"),
            NOW,
            null);
    assertTrue(noTotal.ok(), noTotal.violations().toString());
    assertEquals(5, noTotal.event().body().get("input_tokens").asLong());
    assertEquals(6, noTotal.event().body().get("output_tokens").asLong());
    ParseResult same =
        parser.parse(
            EventType.TOKEN_USAGE,
            bytes(token(",\"gen_ai.usage.input_tokens\":3,\"gen_ai.request.model\":\"m\"")),
            NOW,
            null);
    assertTrue(same.ok(), "an alias that repeats the same value: " + same.violations());
    assertEquals(
        List.of("ts", "tenant", "model", "input_tokens", "output_tokens", "event_id"),
        fieldNames(same.event().body()),
        "the alias is removed, not kept beside its canonical field");
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void theTimeBoundsHoldToTheMillisecondOnBothPaths() {
    // now + 5 min is in bounds; one millisecond later is not. now - 7 days is in bounds; one
    // millisecond earlier is not.
    assertTrue(acceptedAt("2026-11-28T12:05:00Z"));
    assertTrue(acceptedAt("2026-11-21T12:00:00Z"));
    assertEquals(
        List.of(new Violation("ts", "more than 5m in the future", "too_far_in_future")),
        rejections(
            EventType.TOKEN_USAGE,
            token("").replace("2026-11-28T11:59:00Z", "2026-11-28T12:05:00.001Z")));
    assertEquals(
        List.of(new Violation("ts", "older than the maximum age of 7d", "too_old")),
        rejections(
            EventType.TOKEN_USAGE,
            token("").replace("2026-11-28T11:59:00Z", "2026-11-21T11:59:59.999Z")));
  }

  private boolean acceptedAt(String ts) {
    String json = token("").replace("2026-11-28T11:59:00Z", ts);
    boolean viaFast = parser.parse(EventType.TOKEN_USAGE, bytes(json), NOW, null).ok();
    boolean full =
        parser
            .parseFully(EventType.TOKEN_USAGE, bytes(json), 0, bytes(json).length, NOW, null)
            .ok();
    assertEquals(full, viaFast, ts);
    return full;
  }

  @Test
  void theBoundsAreWrittenInTheLargestWholeUnit() {
    assertEquals("7d", EventParser.human(Duration.ofDays(7)));
    assertEquals("36h", EventParser.human(Duration.ofHours(36)));
    assertEquals("1h", EventParser.human(Duration.ofHours(1)));
    assertEquals("90m", EventParser.human(Duration.ofMinutes(90)));
    assertEquals("1m", EventParser.human(Duration.ofMinutes(1)));
    assertEquals("61s", EventParser.human(Duration.ofSeconds(61)));
    assertEquals("3601s", EventParser.human(Duration.ofSeconds(3601)));
    assertEquals("1441m", EventParser.human(Duration.ofSeconds(86_460)));
    assertEquals("86401s", EventParser.human(Duration.ofSeconds(86_401)));
    assertEquals("1500ms", EventParser.human(Duration.ofMillis(1500)));
    assertEquals("59s", EventParser.human(Duration.ofSeconds(59)));
    assertEquals("0s", EventParser.human(Duration.ZERO));
    EventParser strict = new EventParser(Duration.ofSeconds(30), Duration.ofHours(2));
    ParseResult future =
        strict.parse(
            EventType.TOKEN_USAGE,
            bytes(token("").replace("2026-11-28T11:59:00Z", "2026-11-28T12:00:31Z")),
            NOW,
            null);
    assertEquals("ts: more than 30s in the future", future.violations().get(0).toString());
    ParseResult old =
        strict.parse(EventType.TOKEN_USAGE, bytes(token("")), NOW.plusSeconds(7200), null);
    assertEquals("ts: older than the maximum age of 2h", old.violations().get(0).toString());
  }

  @Test
  void theTenantBoundToTheKeyReplacesTheEventsOwnOnTheFullPath() {
    String json =
        token(",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}")
            .replace(",\"input_tokens\":3,\"output_tokens\":4", "");
    ParseResult r =
        parser.parseFully(EventType.TOKEN_USAGE, bytes(json), 0, bytes(json).length, NOW, "globex");
    assertTrue(r.ok(), r.violations().toString());
    assertEquals("globex", r.event().scope());
    assertEquals("globex", r.event().body().get("tenant").asText());
    ParseResult gpu =
        parser.parseFully(EventType.GPU_SAMPLE, bytes(GPU), 0, bytes(GPU).length, NOW, "globex");
    assertEquals("GPU-1", gpu.event().scope(), "a GPU sample is scoped by its GPU, never a tenant");
    assertTrue(gpu.event().body().get("tenant") == null, "no tenant is added to a GPU sample");
  }

  @Test
  void anIdlessEventsIdIsTheHashOfItsSortedCanonicalJson() {
    // sha256('{"input_tokens":3,"model":"m","output_tokens":4,"tenant":"acme",'
    // + '"ts":"2026-11-28T10:59:00Z"}'), first 16 bytes, computed outside Java (Python hashlib).
    String json =
        "{\"ts\":\"2026-11-28T11:59:00+01:00\",\"tenant\":\"acme\",\"model\":\"m\","
            + "\"input_tokens\":3,\"output_tokens\":4}";
    ParseResult r = parser.parse(EventType.TOKEN_USAGE, bytes(json), NOW, null);
    assertEquals("h-04bfcaf9be7fc13d4e042cacb2c14a26", r.event().eventId());
    assertEquals("h-04bfcaf9be7fc13d4e042cacb2c14a26", r.event().body().get("event_id").asText());
  }
}
