package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The plain checks of the fast path on hand-written schemas and values at their bounds: what a
 * field accepts, what it leaves to the schema validator, and the date-times and patterns it reads.
 */
class EventFieldRulesTest {

  private static EventFields.Field field(String schema) throws Exception {
    return new EventFields.Field("f", 0, false, Json.MAPPER.readTree(schema));
  }

  @Test
  void numberBoundsInclusiveAndExclusive() throws Exception {
    EventFields.Field inclusive = field("{\"type\":\"integer\",\"minimum\":0,\"maximum\":10}");
    assertEquals(EventFields.Kind.INT, inclusive.kind());
    assertTrue(inclusive.acceptsNumber(0));
    assertTrue(inclusive.acceptsNumber(10));
    assertFalse(inclusive.acceptsNumber(-0.5));
    assertFalse(inclusive.acceptsNumber(10.5));
    EventFields.Field exclusive =
        field("{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":10}");
    assertEquals(EventFields.Kind.NUM, exclusive.kind());
    assertFalse(exclusive.acceptsNumber(0));
    assertTrue(exclusive.acceptsNumber(0.001));
    assertTrue(exclusive.acceptsNumber(9.999));
    assertFalse(exclusive.acceptsNumber(10));
    EventFields.Field open = field("{\"type\":\"number\"}");
    assertTrue(open.acceptsNumber(-1e300));
    assertTrue(open.acceptsNumber(1e300));
    assertFalse(open.acceptsNumber(Double.NEGATIVE_INFINITY));
    assertFalse(open.acceptsText("1"), "a number field never accepts text");
  }

  @Test
  void textLengthsCountCodePointsAndTheTighterBoundWins() throws Exception {
    EventFields.Field f = field("{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}");
    assertEquals(EventFields.Kind.TEXT, f.kind());
    assertFalse(f.acceptsText("a"));
    assertTrue(f.acceptsText("ab"));
    assertTrue(f.acceptsText("abc"));
    assertFalse(f.acceptsText("abcd"));
    assertFalse(f.acceptsText("\ud83d\ude80"), "two UTF-16 units, one code point: too short");
    assertTrue(f.acceptsText("a\ud83d\ude80"), "three units, two code points");
    assertFalse(f.acceptsNumber(2), "a text field never accepts a number");
    EventFields.Field p =
        field("{\"type\":\"string\",\"pattern\":\"^[a-z]{2,5}$\",\"maxLength\":3,\"minLength\":1}");
    assertFalse(p.acceptsText("a"), "the pattern's minimum 2 is tighter than minLength 1");
    assertTrue(p.acceptsText("abc"));
    assertFalse(p.acceptsText("abcd"), "maxLength 3 is tighter than the pattern's 5");
    assertFalse(p.acceptsText("aB"), "a character outside the class");
  }

  @Test
  void whatTheChecksDoNotUnderstandIsLeftToTheSchema() throws Exception {
    assertFalse(field("{\"type\":\"string\",\"format\":\"email\"}").acceptsText("a@b.c"));
    assertFalse(field("{\"type\":\"string\",\"pattern\":\"^\\\\d+$\"}").acceptsText("12"));
    assertFalse(field("{\"type\":\"boolean\"}").acceptsText("true"));
    assertEquals(EventFields.Kind.OTHER, field("{\"type\":\"boolean\"}").kind());
    assertFalse(field("{\"type\":\"integer\",\"const\":1}").acceptsNumber(1));
    EventFields.Field ts = field("{\"type\":\"string\",\"format\":\"date-time\",\"maxLength\":40}");
    assertEquals(EventFields.Kind.TS, ts.kind());
    assertTrue(ts.acceptsText("2026-11-28T12:00:00Z"));
    assertTrue(
        field("{\"type\":\"string\",\"title\":\"t\",\"description\":\"d\",\"examples\":[\"x\"]}")
            .acceptsText("x"),
        "annotations are no constraint");
  }

  @Test
  void theFieldsOfASchemaByNameIndexAndRequiredMask() throws Exception {
    JsonNode schema =
        Json.MAPPER.readTree(
            "{\"required\":[\"a\",\"c\"],\"properties\":{\"a\":{\"type\":\"string\"},"
                + "\"b\":{\"type\":\"integer\"},\"c\":{\"type\":\"number\"}}}");
    EventFields.Fields fields = new EventFields.Fields(schema);
    assertEquals(3, fields.size());
    assertEquals(0b101, fields.requiredMask());
    assertEquals("b#1 INT", fields.get("b").toString());
    assertEquals(1, fields.require("b").index());
    assertNull(fields.get("d"));
    assertEquals(
        "the schema has no field d",
        assertThrows(IllegalStateException.class, () -> fields.require("d")).getMessage());
    StringBuilder many = new StringBuilder("{\"properties\":{");
    for (int i = 0; i < 64; i++) {
      many.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":{\"type\":\"string\"}");
    }
    JsonNode tooMany = Json.MAPPER.readTree(many.append("}}").toString());
    assertEquals(
        "an event type may have at most 63 fields",
        assertThrows(IllegalStateException.class, () -> new EventFields.Fields(tooMany))
            .getMessage());
    JsonNode most =
        Json.MAPPER.readTree(many.toString().replace(",\"f63\":{\"type\":\"string\"}", ""));
    assertEquals(63, new EventFields.Fields(most).size());
  }

  @Test
  void patternShapesAndTheirLengths() {
    CharRule exact = CharRule.parse("^[a-c]{3}$");
    assertEquals(3, exact.minLength());
    assertEquals(3, exact.maxLength());
    CharRule open = CharRule.parse("^[a-c]{2,}$");
    assertEquals(2, open.minLength());
    assertEquals(Integer.MAX_VALUE, open.maxLength());
    CharRule star = CharRule.parse("^[A][b]*$");
    assertEquals(1, star.minLength());
    assertEquals(Integer.MAX_VALUE, star.maxLength());
    CharRule bounded = CharRule.parse("^[A][b]{2,3}$");
    assertEquals(3, bounded.minLength());
    assertEquals(4, bounded.maxLength());
    CharRule optional = CharRule.parse("^[a]?$");
    assertEquals(0, optional.minLength());
    assertEquals(1, optional.maxLength());
    CharRule dash = CharRule.parse("^[a-]+$");
    assertTrue(dash.accepts("a-a"), "a dash before ] is a literal");
    assertFalse(dash.accepts("b"));
    CharRule escaped = CharRule.parse("^[\\.\\-]+$");
    assertTrue(escaped.accepts(".-"));
    assertFalse(escaped.accepts("a"));
    assertTrue(CharRule.parse("^[ -~]+$").accepts(" ~"), "the range's ends are included");
    assertFalse(CharRule.parse("^[ -~]+$").accepts("\u007f"));
    assertFalse(CharRule.parse("^[a-z]+$").accepts("\u00e9"), "nothing beyond ASCII");
    assertTrue(CharRule.ANY.accepts("\u00e9"));
    for (String other :
        List.of(
            "^[a-c]{3,2}$",
            "^[a-c]{,3}$",
            "^[a-c]{1,2,3}$",
            "^[a-c]{2$",
            "^[z-a]$",
            "^[a-c$",
            "^[\u00e9]$",
            "^[[a]]$",
            "^[a]\\$",
            "^$",
            "^[a]{x}$",
            "^[a\\",
            "^[a]{1}[b]{2}[c]$")) {
      assertNull(CharRule.parse(other), other);
    }
  }

  @Test
  void dateTimesAtTheirBoundsAgreeWithOffsetDateTime() {
    for (String s :
        List.of(
            "2026-11-28T12:00:00Z",
            "2026-11-28T23:59:59Z",
            "2026-12-31T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2026-11-30T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2026-11-28T12:00:00.1Z",
            "2026-11-28T12:00:00.123456789Z",
            "2026-11-28T12:00:00+14:00",
            "2026-11-28T12:00:00-14:00",
            "2026-11-28T12:00:00+13:59",
            "2026-11-28T12:00:00.000000001-00:30")) {
      assertEquals(OffsetDateTime.parse(s).toInstant(), Timestamps.parse(s), s);
    }
    for (String s :
        List.of(
            "1900-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-32T00:00:00Z",
            "2026-11-28T12:60:00Z",
            "2026-11-28T12:00:00+14:01",
            "2026-11-28T12:00:00+13:60",
            "2026-11-28T12:00:00+1:00Z",
            "2026-11-28T12:00:00.5",
            "2026-11-28T12:00:00.Z",
            "2026-11-28T12:00:00+14-00",
            "2026-11-28T12:00:0Z",
            "2026-11-28X12:00:00Z",
            "2026/11-28T12:00:00Z",
            "2026-11/28T12:00:00Z",
            "2026-11-28T12-00:00Z",
            "2026-11-28T12:00-00Z",
            "2026-11-28T12:00:00ZZ",
            "2026-11-28T12:00:00+a1:00",
            "2026-11-28T12:00:00+01:a0")) {
      assertNull(Timestamps.parse(s), s);
    }
  }
}
