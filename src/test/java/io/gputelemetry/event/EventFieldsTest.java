package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import io.gputelemetry.support.Tries;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The fields read from the shipped schemas: every property, and checks that accept only what the
 * schema accepts (the fast path may decline a valid value, never accept an invalid one), and that
 * accept the plain valid values (so the fast path is taken).
 */
class EventFieldsTest {
  private static final char[] PROBES = probes();

  private static char[] probes() {
    StringBuilder b = new StringBuilder();
    for (char c = 0; c < 0x3000; c++) {
      b.append(c);
    }
    b.append('\ud83d').append('\ude80');
    return b.toString().toCharArray();
  }

  @Test
  void everyPropertyOfTheSchemaIsAFieldInOrderWithItsRequiredFlag() {
    // Required: the schema's own required fields and those of its common variant (else branch).
    for (EventType type : EventType.values()) {
      JsonNode schema = Schemas.of(type);
      List<String> names = new ArrayList<>();
      schema.get("properties").fieldNames().forEachRemaining(names::add);
      EventFields.Fields fields = EventFields.of(type);
      assertEquals(names, fields.all().stream().map(EventFields.Field::name).toList(), type.name());
      Set<String> required = new HashSet<>();
      schema.get("required").forEach(n -> required.add(n.asText()));
      schema.path("else").path("required").forEach(n -> required.add(n.asText()));
      for (EventFields.Field f : fields.all()) {
        assertEquals(required.contains(f.name()), f.required(), type + "." + f.name());
        assertEquals(f, fields.all().get(f.index()));
      }
    }
  }

  @Test
  void textChecksAcceptOnlyWhatThePatternAndLengthsAcceptAndThePlainValues() {
    Random r = new Random(7);
    int checked = 0;
    for (EventType type : EventType.values()) {
      for (EventFields.Field f : EventFields.of(type).all()) {
        JsonNode s = Schemas.of(type).get("properties").get(f.name());
        if (!s.path("type").asText().equals("string") || s.has("format")) {
          continue;
        }
        String where = type + "." + f.name();
        Pattern p = s.has("pattern") ? Pattern.compile(s.get("pattern").asText()) : null;
        int min = s.path("minLength").asInt(0);
        int max = s.path("maxLength").asInt(Integer.MAX_VALUE);
        List<String> candidates = new ArrayList<>();
        for (char c : PROBES) {
          candidates.add(String.valueOf(c));
          candidates.add("a" + c);
          candidates.add("a" + c + "b");
        }
        String plain = "Ab1";
        for (int n : new int[] {0, 1, 2, 127, 128, 129, 252, 253, 254, 256, 257}) {
          candidates.add(plain.repeat(n / 3 + 1).substring(0, n));
        }
        for (int i = 0; i < Tries.of(2000); i++) {
          StringBuilder b = new StringBuilder();
          int n = r.nextInt(20);
          for (int k = 0; k < n; k++) {
            b.append((char) (r.nextBoolean() ? 33 + r.nextInt(94) : r.nextInt(0x3000)));
          }
          candidates.add(b.toString());
        }
        for (String c : candidates) {
          int points = c.codePointCount(0, c.length());
          boolean schemaAccepts =
              points >= min && points <= max && (p == null || p.matcher(c).find());
          boolean ascii = c.chars().allMatch(ch -> ch >= 32 && ch < 127);
          if (f.acceptsText(c)) {
            assertTrue(schemaAccepts, where + " accepted what the schema refuses: '" + c + "'");
          } else if (ascii && schemaAccepts) {
            throw new AssertionError(where + " declined a plain valid value: '" + c + "'");
          }
          checked++;
        }
      }
    }
    assertTrue(checked > 100_000, "checked " + checked);
  }

  @Test
  void numberChecksFollowTheBoundsAndRefuseWhatIsNotFinite() {
    for (EventType type : EventType.values()) {
      for (EventFields.Field f : EventFields.of(type).all()) {
        JsonNode s = Schemas.of(type).get("properties").get(f.name());
        String t = s.path("type").asText();
        if (!t.equals("integer") && !t.equals("number")) {
          continue;
        }
        String where = type + "." + f.name();
        boolean exclusive = s.has("exclusiveMinimum");
        double min = s.get(exclusive ? "exclusiveMinimum" : "minimum").asDouble();
        double max = s.get("maximum").asDouble();
        assertEquals(!exclusive, f.acceptsNumber(min), where + " at its minimum");
        assertFalse(f.acceptsNumber(min - 1), where + " below");
        assertTrue(f.acceptsNumber(max), where + " at its maximum");
        assertFalse(f.acceptsNumber(Math.nextUp(max)), where + " above");
        assertFalse(f.acceptsNumber(Double.NaN), where + " NaN");
        assertFalse(f.acceptsNumber(Double.POSITIVE_INFINITY), where + " infinity");
      }
    }
  }

  @Test
  void patternsOfOtherShapesAreLeftToTheSchema() {
    for (String understood :
        List.of(
            "^[a-z]+$",
            "^[A-Z][a-z0-9._-]{0,3}$",
            "^[!-~]{1,128}$",
            "^[\\.a]*$",
            "^[^a]$",
            "^[^\\x00-\\x1f\\x7f]+$")) {
      assertNotNull(CharRule.parse(understood), understood);
    }
    for (String other :
        List.of(
            "^[a-z]+@[a-z]+$",
            "^\\d+$",
            "^[\\x0g]$",
            "[a-z]+",
            "^(a|b)$",
            "^[a-z]{2}[0-9]$",
            "^[\\w]+$")) {
      assertNull(CharRule.parse(other), other);
    }
    CharRule r = CharRule.parse("^[A-Z][a-z0-9]{0,3}$");
    assertEquals(1, r.minLength());
    assertEquals(4, r.maxLength());
    assertTrue(r.accepts("Ab12"));
    assertFalse(r.accepts("ab12"), "first character");
    assertFalse(r.accepts("AB"), "following character");
  }

  @Test
  void aNegatedClassRefusesItsCharactersAndTakesEveryOtherOneNonAsciiIncluded() {
    CharRule noControls = CharRule.parse("^[^\\x00-\\x1f\\x7f]+$");
    assertTrue(noControls.accepts("llama-3.1-70b-instruct"));
    assertTrue(noControls.accepts("modèle 日本語 🚀"), "non-ASCII is not a control character");
    assertFalse(noControls.accepts("llama\u0000evil"), "NUL");
    assertFalse(noControls.accepts("llama\nevil"), "newline");
    assertFalse(noControls.accepts("llama\u001fevil"), "unit separator");
    assertFalse(noControls.accepts("llama\u007f"), "DEL");
    assertTrue(noControls.accepts(" "), "space (0x20) is the first character allowed");
  }

  @Test
  void aFieldWithAKeywordTheChecksDoNotKnowAlwaysDefersToTheSchema() throws Exception {
    JsonNode withEnum = Json.MAPPER.readTree("{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}");
    assertFalse(new EventFields.Field("x", 0, false, withEnum).acceptsText("a"));
    JsonNode withMultiple = Json.MAPPER.readTree("{\"type\":\"integer\",\"multipleOf\":5}");
    assertFalse(new EventFields.Field("x", 0, false, withMultiple).acceptsNumber(10));
    JsonNode plain = Json.MAPPER.readTree("{\"type\":\"integer\",\"minimum\":0,\"maximum\":10}");
    assertTrue(new EventFields.Field("x", 0, false, plain).acceptsNumber(10));
  }

  @Test
  void theReadingVariantsFieldsMakeTheFastPathDeferToTheSchema() {
    EventFields.Fields t = EventFields.TOKEN_USAGE;
    long expected =
        1L << t.require("reading_of").index()
            | 1L << t.require("prompt_tokens_total").index()
            | 1L << t.require("generation_tokens_total").index()
            | 1L << t.require("requests_total").index();
    assertEquals(expected, t.variantMask());
    assertEquals(0L, EventFields.GPU_SAMPLE.variantMask());
  }
}
