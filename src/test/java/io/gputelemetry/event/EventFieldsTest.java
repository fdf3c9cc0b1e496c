package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The fast path's field tables say exactly what the shipped JSON Schemas say. */
class EventFieldsTest {

  @Test
  void tablesMatchTheSchemas() throws Exception {
    for (EventType type : EventType.values()) {
      JsonNode schema;
      try (InputStream in = EventParser.schemaStream(type)) {
        schema = Json.MAPPER.readTree(in);
      }
      EventFields.Fields fields = EventFields.of(type);
      JsonNode props = schema.get("properties");
      assertEquals(props.size(), fields.size(), type + ": number of fields");
      Set<String> required = new HashSet<>();
      schema.get("required").forEach(n -> required.add(n.asText()));
      for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        String where = type + "." + p.getKey();
        EventFields.Field f = fields.get(p.getKey());
        assertNotNull(f, where + " missing from EventFields");
        assertEquals(f, fields.all().get(f.index()), where + ": index");
        assertEquals(required.contains(p.getKey()), f.required(), where + ": required");
        JsonNode s = p.getValue();
        switch (s.get("type").asText()) {
          case "integer", "number" -> {
            assertEquals(
                s.get("type").asText().equals("integer")
                    ? EventFields.Kind.INT
                    : EventFields.Kind.NUM,
                f.kind(),
                where);
            boolean exclusive = s.has("exclusiveMinimum");
            assertEquals(exclusive, f.exclusiveMin(), where + ": exclusive minimum");
            assertEquals(
                s.get(exclusive ? "exclusiveMinimum" : "minimum").asDouble(),
                f.min(),
                where + ": minimum");
            assertEquals(s.get("maximum").asDouble(), f.max(), where + ": maximum");
          }
          case "string" -> {
            if ("date-time".equals(s.path("format").asText())) {
              assertEquals(EventFields.Kind.TS, f.kind(), where);
              assertEquals(s.get("maxLength").asInt(), f.maxLength(), where + ": maxLength");
            } else if (s.has("pattern")) {
              checkPattern(where, f, s.get("pattern").asText());
            } else {
              assertEquals(EventFields.Kind.TEXT, f.kind(), where);
              assertEquals(EventFields.Chars.ANY, f.chars(), where);
              assertEquals(1, s.get("minLength").asInt(), where + ": minLength");
              assertEquals(s.get("maxLength").asInt(), f.maxLength(), where + ": maxLength");
            }
          }
          default -> throw new AssertionError(where + ": unexpected type " + s.get("type"));
        }
      }
    }
  }

  /** The pattern's character classes and length, character by character. */
  private static void checkPattern(String where, EventFields.Field f, String pattern) {
    Pattern p = Pattern.compile(pattern);
    if (f.kind() == EventFields.Kind.ID) {
      assertEquals("^[!-~]{1,128}$", pattern, where);
      return;
    }
    Matcher m = Pattern.compile("\\^\\[[^]]+]\\[[^]]+]\\{0,(\\d+)}\\$").matcher(pattern);
    assertEquals(
        true, m.matches(), where + ": pattern of the form ^[first][rest]{0,N}$, got " + pattern);
    assertEquals(Integer.parseInt(m.group(1)) + 1, f.maxLength(), where + ": length");
    for (char c = 0; c < 0x3000; c++) {
      if (c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029) {
        continue; // '$' matches before a final line terminator: the fast path refuses these, the
        // schema decides
      }
      assertEquals(
          p.matcher(String.valueOf(c)).find(),
          f.chars().first(c),
          where + ": first character " + (int) c);
      assertEquals(
          p.matcher("a" + c).find(), f.chars().rest(c), where + ": following character " + (int) c);
    }
  }
}
