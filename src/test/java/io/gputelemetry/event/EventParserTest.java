package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventParserTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  private ParseResult token(String json) {
    return parser.parse(EventType.TOKEN_USAGE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
  }

  @Test
  void validTokenEventGetsAContentDerivedIdScopedByTenant() {
    String json =
        "{\"ts\":\"2026-11-28T11:59:00+01:00\",\"tenant\":\"acme\",\"model\":\"m\",\"input_tokens\":3,\"output_tokens\":4}";
    ParseResult a = token(json);
    assertTrue(a.ok(), a.violations().toString());
    assertEquals("2026-11-28T10:59:00Z", a.event().body().get("ts").asText(), "stored in UTC");
    assertTrue(a.event().eventId().startsWith("h-"));
    assertEquals("acme/" + a.event().eventId(), a.event().storeId());
    assertEquals(
        a.event().eventId(), token(json).event().eventId(), "the same content gets the same id");
    ParseResult other =
        parser.parse(EventType.TOKEN_USAGE, json.getBytes(StandardCharsets.UTF_8), NOW, "globex");
    assertEquals("globex", other.event().scope());
  }

  @Test
  void openTelemetryAndOpenAiNamesMapToCanonicalFields() {
    ParseResult otel =
        token(
            "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"gen_ai.request.model\":\"m\","
                + "\"gen_ai.usage.input_tokens\":10,\"gen_ai.usage.output_tokens\":20,\"gen_ai.provider.name\":\"vllm\"}");
    assertTrue(otel.ok(), otel.violations().toString());
    assertEquals(10, otel.event().body().get("input_tokens").asInt());
    assertEquals("vllm", otel.event().body().get("provider").asText());
    ParseResult openai =
        token(
            "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"model\":\"m\","
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}");
    assertTrue(openai.ok(), openai.violations().toString());
    assertEquals(6, openai.event().body().get("output_tokens").asInt());
    ParseResult bad =
        token(
            "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"model\":\"m\","
                + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":12}}");
    assertEquals("usage.total_tokens", bad.violations().get(0).field());
  }

  @Test
  void aControlCharacterInAModelNameIsRefusedSoTwoModelsCannotMerge() {
    for (String model : new String[] {"llama\\u0000evil", "llama\\nevil", "llama\\u007f"}) {
      ParseResult r =
          token(
              "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"model\":\""
                  + model
                  + "\",\"input_tokens\":1,\"output_tokens\":1}");
      assertFalse(r.ok(), model);
      assertEquals("model", r.violations().get(0).field(), model);
    }
    ParseResult unicode =
        token(
            "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"model\":\"modèle-日本\","
                + "\"input_tokens\":1,\"output_tokens\":1}");
    assertTrue(unicode.ok(), unicode.violations().toString());
  }

  @Test
  void violationsNameTheFieldAndTheReason() {
    ParseResult r =
        token(
            "{\"ts\":\"2026-11-28T11:59:00Z\",\"tenant\":\"a\",\"model\":\"m\",\"input_tokens\":\"ten\",\"colour\":1}");
    assertFalse(r.ok());
    assertTrue(
        r.violations().stream()
            .anyMatch(v -> v.field().equals("input_tokens") && v.code().equals("wrong_type")),
        r.violations().toString());
    assertTrue(
        r.violations().stream()
            .anyMatch(v -> v.field().equals("output_tokens") && v.code().equals("missing_field")));
    assertTrue(
        r.violations().stream()
            .anyMatch(v -> v.field().equals("colour") && v.code().equals("unknown_field")));
  }

  @Test
  void timeBoundsAreEnforcedAgainstTheReferenceTime() {
    assertEquals(
        "too_far_in_future",
        token(
                "{\"ts\":\"2026-11-28T12:06:00Z\",\"tenant\":\"a\",\"model\":\"m\","
                    + "\"input_tokens\":1,\"output_tokens\":1}")
            .reasonCode());
    assertEquals(
        "too_old",
        token(
                "{\"ts\":\"2026-11-20T12:00:00Z\",\"tenant\":\"a\",\"model\":\"m\","
                    + "\"input_tokens\":1,\"output_tokens\":1}")
            .reasonCode());
  }

  @Test
  void duplicateKeysAndMalformedJsonAreRejected() {
    assertEquals("duplicate_key", token("{\"tenant\":\"a\",\"tenant\":\"b\"}").reasonCode());
    ParseResult truncated = token("{\"tenant\":");
    assertEquals("parse_error", truncated.reasonCode());
    assertFalse(truncated.violations().get(0).reason().contains("com.fasterxml"));
  }
}
